"""Fieller confidence set for a ratio of two estimates and its Satterthwaite df.

Where the expected values come from:

* the Fieller set is, by definition (Fieller 1954, J. R. Stat. Soc. B 16:175), the set of
  ρ not rejected by the t test of ``a − ρ b = 0``: ``|a − ρ b| ≤ c · sqrt(Var(a − ρ b))``.
  Here it is inverted by brute force on a fine grid of ρ, with ``Var`` built from
  cluster sums computed independently (pandas groupby, not the package's
  ``cluster_sums``) on the R ``did`` scale ``Var = Σ_g s_g s_g' / n²``;
* the Welch–Satterthwaite df ``(Σ s_g²)² / Σ s_g⁴`` capped at ``G − 1`` (as documented in
  ``sahel_eval.did.fieller``) is recomputed from the same groupby sums, and on hand-made
  cluster sums whose value is worked out in the comments;
* with ``psi_b ≡ 0`` the Fieller quadratic reduces to ``b² (ρ − a/b)² ≤ c² V_a``, i.e.
  the symmetric interval ``a/b ± c · se`` (algebra from the definition);
* the delta-method se is ``sqrt(g' V g)`` with ``g = (1/b, −a/b²)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from sahel_eval.did.fieller import fieller_ratio, satterthwaite_df

KEYS = ("estimate", "se", "se_numerator", "se_denominator", "df", "ci_low", "ci_high", "p_vs_1")


def _influence(
    seed: int, *, n_clusters: int = 20, corr: float = 0.4, tie: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random influence functions with cluster effects, unequal cluster sizes.

    Rows are shuffled (clusters not contiguous) and labels are strings, so the code's
    factorisation of labels is exercised. ``tie`` makes psi_a ≈ psi_b (tie → 1).
    """
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 15, size=n_clusters)
    g = np.repeat(np.arange(n_clusters), sizes)
    n = len(g)
    u = rng.normal(size=(n_clusters, 2)) * rng.uniform(0.2, 3.0, size=(n_clusters, 1))
    e = rng.normal(size=(n, 2))
    pb = 3 * u[g, 1] + e[:, 1]
    pa = corr * pb + np.sqrt(1 - corr**2) * (3 * u[g, 0] + e[:, 0])
    pa = tie * pb + (1 - tie) * pa
    order = rng.permutation(n)
    labels = np.array([f"cl{k:03d}" for k in g])
    return pa[order], pb[order], labels[order]


def _groupby_sums(psi: dict[str, np.ndarray], cluster: np.ndarray | None) -> pd.DataFrame:
    frame = pd.DataFrame(psi)
    if cluster is None:
        return frame
    return frame.groupby(cluster, sort=False).sum()


def _variance(pa, pb, cluster) -> np.ndarray:
    """2 × 2 covariance of (a, b), R did scale, from groupby cluster sums."""
    s = _groupby_sums({"a": pa, "b": pb}, cluster).to_numpy()
    return s.T @ s / len(pa) ** 2


def _df(psi, cluster) -> float:
    """Welch–Satterthwaite df from groupby cluster sums, capped at G − 1."""
    s2 = _groupby_sums({"x": psi}, cluster)["x"].to_numpy() ** 2
    return min(s2.sum() ** 2 / np.sum(s2**2), len(s2) - 1)


def _crit(a, pa, b, pb, cluster, level) -> tuple[float, float]:
    dof = _df(pa - a / b * pb, cluster)
    return dof, stats.t.ppf(0.5 + level / 2, dof)


def _in_set(rho, a, b, v, c) -> np.ndarray:
    """Grid inversion of the t test of a − ρ b = 0 (Fieller's definition)."""
    var = v[0, 0] - 2 * rho * v[0, 1] + rho**2 * v[1, 1]
    return np.abs(a - rho * b) <= c * np.sqrt(np.maximum(var, 0.0))


# ------------------------------------------------------------------ brute-force set


@pytest.mark.parametrize("level", [0.95, 0.9])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_bounded_set_equals_grid_inversion(seed, level):
    pa, pb, cl = _influence(seed)
    v = _variance(pa, pb, cl)
    se_a, se_b = np.sqrt(np.diag(v))
    # denominator 1.5–3 critical values from 0: clearly significant, but far enough from
    # "known" that the Fieller set is visibly asymmetric around a/b (c depends on the df,
    # which depends on a/b: one fixed-point step from b = 5 se_b)
    rng = np.random.default_rng(100 + seed)
    sign, mult, a = rng.choice([-1, 1]), rng.uniform(1.5, 3), rng.normal(0, 3) * se_a
    _, c0 = _crit(a, pa, 5 * sign * se_b, pb, cl, level)
    b = sign * mult * c0 * se_b
    f = fieller_ratio(a, pa, b, pb, level=level, cluster=cl)

    dof, c = _crit(a, pa, b, pb, cl, level)
    assert f["df"] == pytest.approx(dof, rel=1e-10)
    assert b**2 > c**2 * v[1, 1]
    assert f["ci_note"] is None
    r = a / b
    grad = np.array([1 / b, -a / b**2])
    assert f["estimate"] == pytest.approx(r, rel=1e-14)
    assert f["se"] == pytest.approx(np.sqrt(grad @ v @ grad), rel=1e-10)
    assert f["se_numerator"] == pytest.approx(se_a, rel=1e-10)
    assert f["se_denominator"] == pytest.approx(se_b, rel=1e-10)

    width = 60 * f["se"]
    rho = np.linspace(r - width, r + width, 1_200_001)
    step = rho[1] - rho[0]
    inside = np.flatnonzero(_in_set(rho, a, b, v, c))
    assert 0 < inside[0] and inside[-1] < len(rho) - 1  # does not reach the grid edges
    assert np.all(np.diff(inside) == 1)  # one interval
    assert f["ci_low"] == pytest.approx(rho[inside[0]], abs=step)
    assert f["ci_high"] == pytest.approx(rho[inside[-1]], abs=step)
    assert f["ci_low"] < r < f["ci_high"]
    # Fieller is not the symmetric delta interval when b is only a few SEs from 0
    assert abs((f["ci_high"] - r) - (r - f["ci_low"])) > 10 * step


@pytest.mark.parametrize("seed", [5, 6, 7, 8])
@pytest.mark.parametrize("a_in_se", [0.5, 4.0])
def test_unbounded_when_denominator_not_significant(seed, a_in_se):
    pa, pb, cl = _influence(seed)
    v = _variance(pa, pb, cl)
    se_a, se_b = np.sqrt(np.diag(v))
    b, a = 0.4 * se_b, a_in_se * se_a
    f = fieller_ratio(a, pa, b, pb, cluster=cl)
    dof, c = _crit(a, pa, b, pb, cl, 0.95)
    assert f["df"] == pytest.approx(dof, rel=1e-10)
    assert b**2 < c**2 * v[1, 1]
    assert f["ci_note"] == "unbounded"
    assert np.isneginf(f["ci_low"]) and np.isposinf(f["ci_high"])

    r = a / b
    rho = np.linspace(r - 1e4 * f["se"], r + 1e4 * f["se"], 400_001)
    inside = _in_set(rho, a, b, v, c)
    assert inside[0] and inside[-1]  # both tails belong to the Fieller set
    # the set is the whole line exactly when (a, b) is jointly not different from 0
    # (Wald statistic ≤ c²); otherwise two rays around an excluded gap
    wald = np.array([a, b]) @ np.linalg.solve(v, np.array([a, b]))
    assert inside.all() == (wald <= c**2)


def test_cluster_labels_and_unit_level():
    pa, pb, cl = _influence(11)
    v = _variance(pa, pb, cl)
    a, b = 0.7 * np.sqrt(v[0, 0]), 5 * np.sqrt(v[1, 1])
    f = fieller_ratio(a, pa, b, pb, cluster=cl)
    # integer codes instead of string labels, and a joint row permutation: same answer
    codes = pd.factorize(cl)[0] * 7 + 3
    perm = np.random.default_rng(0).permutation(len(pa))
    g = fieller_ratio(a, pa[perm], b, pb[perm], cluster=codes[perm])
    for key in KEYS:
        assert g[key] == pytest.approx(f[key], rel=1e-10), key
    # one row per cluster is the unclustered computation
    u = fieller_ratio(a, pa, b, pb)
    w = fieller_ratio(a, pa, b, pb, cluster=np.arange(len(pa)))
    for key in KEYS:
        assert w[key] == pytest.approx(u[key], rel=1e-10), key
    assert u["df"] == pytest.approx(_df(pa - a / b * pb, None), rel=1e-10)
    assert u["se_numerator"] == pytest.approx(np.sqrt(pa @ pa) / len(pa), rel=1e-12)
    # clustering matters here (cluster effects): the two answers differ
    assert u["se"] != pytest.approx(f["se"], rel=1e-3)


# ------------------------------------------------------------- known denominator


@pytest.mark.parametrize(("b", "level"), [(2.0, 0.95), (-0.3, 0.9), (1e-3, 0.99)])
def test_known_denominator_gives_symmetric_interval(b, level):
    pa, _, cl = _influence(21)
    a = 0.05
    f = fieller_ratio(a, pa, b, np.zeros_like(pa), level=level, cluster=cl)
    s = _groupby_sums({"a": pa}, cl)["a"].to_numpy()
    se = np.sqrt(s @ s) / len(pa) / abs(b)
    assert f["se"] == pytest.approx(se, rel=1e-10)
    assert f["se_denominator"] == 0
    assert f["df"] == pytest.approx(_df(pa, cl), rel=1e-10)
    c = stats.t.ppf(0.5 + level / 2, f["df"])
    assert f["ci_note"] is None
    assert f["ci_low"] == pytest.approx(a / b - c * se, rel=1e-9)
    assert f["ci_high"] == pytest.approx(a / b + c * se, rel=1e-9)


# ------------------------------------------------------------------ satterthwaite_df


def test_satterthwaite_equal_cluster_sums_hits_the_cap():
    # G clusters with |s_g| = 1: (Σ s²)² / Σ s⁴ = G² / G = G, capped at G − 1
    rng = np.random.default_rng(3)
    n_clusters = 12
    codes = np.repeat(np.arange(n_clusters), rng.integers(1, 9, size=n_clusters))
    psi = rng.normal(size=len(codes))
    target = rng.choice([-1.0, 1.0], size=n_clusters)
    sums = np.bincount(codes, weights=psi)
    counts = np.bincount(codes)
    psi = psi + ((target - sums) / counts)[codes]
    perm = rng.permutation(len(codes))
    assert satterthwaite_df(psi[perm], codes[perm]) == pytest.approx(n_clusters - 1, abs=1e-9)


def test_satterthwaite_below_the_cap():
    # cluster sums (1, 1, 1, 2): (1+1+1+4)² / (1+1+1+16) = 49/19 ≈ 2.58 < G − 1 = 3
    psi = np.array([0.5, 0.5, 1.0, 3.0, -2.0, 2.0])
    codes = np.array([0, 0, 1, 2, 2, 3])
    assert satterthwaite_df(psi, codes) == pytest.approx(49 / 19, rel=1e-12)


def test_satterthwaite_one_dominating_cluster():
    # sums (100, 1 × 9): (10⁴ + 9)² / (10⁸ + 9) ≈ 1.0018 — about one degree of freedom
    sums = np.r_[100.0, np.ones(9)]
    codes = np.repeat(np.arange(10), 3)
    psi = np.repeat(sums / 3, 3)
    df = satterthwaite_df(psi, codes)
    assert df == pytest.approx((1e4 + 9) ** 2 / (1e8 + 9), rel=1e-12)
    assert 1 <= df < 1.01


def test_satterthwaite_unit_level():
    # codes None: each row its own cluster; s² = 9, 1, 4, 0.25
    # (14.25)² / (81 + 1 + 16 + 0.0625) = 203.0625 / 98.0625 ≈ 2.07 < n − 1 = 3
    psi = np.array([3.0, -1.0, 2.0, 0.5])
    assert satterthwaite_df(psi, None) == pytest.approx(203.0625 / 98.0625, rel=1e-12)
    assert satterthwaite_df(np.ones(5), None) == pytest.approx(4)  # cap n − 1


def test_satterthwaite_degenerate_is_nan():
    assert np.isnan(satterthwaite_df(np.array([1.0, 2.0, -0.5]), np.zeros(3, dtype=int)))
    assert np.isnan(satterthwaite_df(np.array([1.0]), None))
    assert np.isnan(satterthwaite_df(np.zeros(4), None))


# ------------------------------------------------------------ p-value consistency


def _boundary_a(pa, pb, b, cl, level, side):
    """Numerator at which ρ = 1 is exactly on the edge of the set (independent df)."""
    v = _variance(pa, pb, cl)
    sd = np.sqrt(v[0, 0] - 2 * v[0, 1] + v[1, 1])

    def excess(a):
        _, c = _crit(a, pa, b, pb, cl, level)
        return abs(a - b) / sd - c

    return optimize.brentq(excess, b, b + side * 50 * sd, xtol=1e-14, rtol=1e-14), sd


@pytest.mark.parametrize("level", [0.95, 0.9])
@pytest.mark.parametrize("seed", [31, 32, 33])
def test_one_outside_set_iff_p_vs_1_below_alpha(seed, level):
    pa, pb, cl = _influence(seed, corr=0.7)
    se_b = np.sqrt(_variance(pa, pb, cl)[1, 1])
    b = 7 * se_b  # bounded sets; the unbounded case is tested separately below
    alpha = 1 - level
    cases = [b + k * se_b for k in np.random.default_rng(seed).normal(0, 3, size=8)]
    for side in (-1, 1):
        a_star, sd = _boundary_a(pa, pb, b, cl, level, side)
        # exactly on the boundary, the corresponding Fieller end is 1
        f = fieller_ratio(a_star, pa, b, pb, level=level, cluster=cl)
        end = f["ci_high"] if side < 0 else f["ci_low"]
        assert end == pytest.approx(1.0, abs=1e-9)
        assert f["p_vs_1"] == pytest.approx(alpha, abs=1e-9)
        cases += [a_star - 1e-6 * sd, a_star + 1e-6 * sd]
    outcomes = []
    for a in cases:
        f = fieller_ratio(a, pa, b, pb, level=level, cluster=cl)
        assert f["ci_note"] is None
        outside = not (f["ci_low"] <= 1 <= f["ci_high"])
        assert outside == (f["p_vs_1"] < alpha), a
        # same statement for ρ = 0 and the p-value of a = 0
        assert (not (f["ci_low"] <= 0 <= f["ci_high"])) == (f["p"] < alpha), a
        outcomes.append(outside)
    # both outcomes occur, including on either side of each boundary
    assert outcomes[-4:] == [True, False, False, True]


def test_unbounded_set_contains_the_fieller_set():
    # b not significant but a − b very significant (psi_a ≈ psi_b): the Fieller set is
    # two rays, (−∞, l] ∪ [h, ∞) with 1 in the gap. Reporting (−∞, ∞) is conservative.
    pa, pb, cl = _influence(41, tie=0.95)
    v = _variance(pa, pb, cl)
    b = 0.3 * np.sqrt(v[1, 1])
    a = b + 6 * np.sqrt(v[0, 0] - 2 * v[0, 1] + v[1, 1])
    f = fieller_ratio(a, pa, b, pb, cluster=cl)
    _, c = _crit(a, pa, b, pb, cl, 0.95)
    assert f["ci_note"] == "unbounded"
    assert not _in_set(np.array([1.0]), a, b, v, c)[0]  # 1 is rejected by Fieller's test
    assert f["p_vs_1"] < 0.05


def test_two_rays_reported_as_whole_line_p_values_stay_exact():
    # Documented simplification: an unbounded Fieller set (whole line, or two rays with a
    # gap) is reported as (−∞, ∞), which contains it; the p-values remain the exact tests,
    # so here 1 is rejected (it lies in the gap) although inside the reported set.
    pa, pb, cl = _influence(41, tie=0.95)
    v = _variance(pa, pb, cl)
    b = 0.3 * np.sqrt(v[1, 1])
    a = b + 6 * np.sqrt(v[0, 0] - 2 * v[0, 1] + v[1, 1])
    f = fieller_ratio(a, pa, b, pb, cluster=cl)
    assert f["ci_note"] == "unbounded"
    assert f["ci_low"] == -np.inf and f["ci_high"] == np.inf
    assert f["p_vs_1"] < 0.05


# ------------------------------------------------------------------------ invariance


@pytest.mark.parametrize("scale", [3.7, 1e-3, 250.0, -1.0, -0.02])
@pytest.mark.parametrize("b_in_se", [5.0, 0.5], ids=["bounded", "unbounded"])
def test_invariant_to_common_scale_and_sign(scale, b_in_se):
    pa, pb, cl = _influence(51)
    v = _variance(pa, pb, cl)
    a, b = 1.3 * np.sqrt(v[0, 0]), b_in_se * np.sqrt(v[1, 1])
    f = fieller_ratio(a, pa, b, pb, cluster=cl)
    g = fieller_ratio(scale * a, scale * pa, scale * b, scale * pb, cluster=cl)
    for key in ("estimate", "se", "df", "ci_low", "ci_high", "p_vs_1", "p"):
        assert g[key] == pytest.approx(f[key], rel=1e-9), key
    assert g["ci_note"] == f["ci_note"]
    assert g["se_numerator"] == pytest.approx(abs(scale) * f["se_numerator"], rel=1e-9)


# ---------------------------------------------------------------------------- errors


def test_errors():
    psi = np.ones(5)
    with pytest.raises(ValueError, match="exactly zero"):
        fieller_ratio(1.0, psi, 0.0, psi)
    with pytest.raises(ValueError, match="equal length"):
        fieller_ratio(1.0, psi, 2.0, np.ones(6))
    with pytest.raises(ValueError, match="1-d"):
        fieller_ratio(1.0, np.ones((5, 2)), 2.0, np.ones((5, 2)))
