"""HonestDiD sensitivity analysis (Rambachan & Roth 2023) against published values.

Data: tests/data/ehec.csv, a byte-for-byte copy of shared/data/ehec.csv (sha256 af2f04fe…),
the Medicaid-expansion panel of the HonestDiD README (Mixtape-Sessions/Advanced-DID,
Exercises/Data/ehec_data.dta): 46 states × 2008–2019; ``dins`` the share of low-income
childless adults with health insurance, ``yexp2`` the expansion year.

Event study, as in the README: years < 2016, states first treated in 2015 dropped (43
states × 8 years, balanced), ``D = 1[yexp2 == 2014]``, ``dins ~ i(year, D, ref = 2013) |
stfips + year`` clustered by state. The README prints no betahat/sigma for this example
(its ``BCdata_EventStudy`` is a different study), so the fixture estimates them here with
numpy: OLS after two-way demeaning (exact on a balanced panel) and CRV1 with fixest's
small-sample factor ``G/(G−1) · (N−1)/(N−K)``, ``K`` = 7 coefficients + 8 year effects (state
effects are nested in the clusters; tests/did/test_twfe.py checks that convention against
fixest). Both the R and the Stata READMEs print the resulting "Original" interval.

Reference values (each cited where it is used):

* [REF] shared/reference/honestdid_ehec.md = R HonestDiD README.md as of commit 9f8379b
  (2023-10-26), sections "Sensitivity analysis using relative magnitudes restrictions"
  and "... Using Smoothness Restrictions".
* [README-2024] the same README from commit 99e05c7 (2024-03-28) on, whose C-LF rows
  moved in the 4th decimal (R/arp-nuisance.R changed its degenerate-case test then).
* [STATA] github.com/mcaceresb/stata-honestdid README.md (another implementation): the
  average effect ``l_vec = (0.5, 0.5)`` under ΔRM, M̄ = 0 … 2, not in [REF]; 3 decimals.

Tolerances from the task: FLCI rows 1e-3, C-LF rows 2e-3 (R inverts the test on a
1,000-point grid and simulates its least-favourable critical value from 1,000 draws).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from honest_reference import (
    HybridTest,
    dual_vertices,
    reference_excludes_zero,
    reference_interval,
    reference_tests,
)
from scipy import optimize, stats

from sahel_eval.did.honest import breakdown, sensitivity, sensitivity_with_breakdown
from sahel_eval.did.honest.arp import (
    DualCone,
    HybridTests,
    MomentProblem,
    _first_of_each,
    upper_quantile,
)
from sahel_eval.did.honest.inputs import EventStudy, check_event_study
from sahel_eval.did.honest.inversion import _refine, interval_sides, union_intervals
from sahel_eval.did.honest.relative_magnitude import (
    RelativeMagnitude,
    _choices,
    noise_draws,
    rm_constraints,
    rm_excludes_zero,
    rm_interval,
)

EHEC = Path(__file__).parents[1] / "data" / "ehec.csv"
Z975 = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def ehec() -> tuple[np.ndarray, np.ndarray]:
    """(betahat, sigma) of the README's TWFE event study: 2008–2012 then 2014–2015."""
    df = pd.read_csv(EHEC)
    df = df[(df["year"] < 2016) & (df["yexp2"].isna() | (df["yexp2"] != 2015))]
    treated = (df["yexp2"] == 2014).to_numpy(float)
    years = [y for y in sorted(df["year"].unique()) if y != 2013]
    x = np.column_stack([treated * (df["year"] == y).to_numpy(float) for y in years])
    y = df["dins"].to_numpy(float)[:, None]
    state, year = df["stfips"].to_numpy(), df["year"].to_numpy()

    def demean(a: np.ndarray) -> np.ndarray:  # two-way within transform, balanced panel
        a = a - pd.DataFrame(a).groupby(state).transform("mean").to_numpy()
        return a - pd.DataFrame(a).groupby(year).transform("mean").to_numpy()

    xt, yt = demean(x), demean(y)[:, 0]
    bread = np.linalg.inv(xt.T @ xt)
    beta = bread @ xt.T @ yt
    scores = pd.DataFrame(xt * (yt - xt @ beta)[:, None]).groupby(state).sum().to_numpy()
    g, n, k = len(scores), len(yt), x.shape[1] + len(np.unique(year))
    sigma = g / (g - 1) * (n - 1) / (n - k) * bread @ scores.T @ scores @ bread
    assert (g, n) == (43, 344)
    return beta, sigma


def test_event_study_matches_published_original_interval(ehec) -> None:
    beta, sigma = ehec
    se = np.sqrt(np.diag(sigma))
    # [STATA] "(Original)" rows: 0.029, 0.064 on impact; 0.040, 0.075 for the average.
    assert beta[5] - Z975 * se[5] == pytest.approx(0.029, abs=5e-4)
    assert beta[5] + Z975 * se[5] == pytest.approx(0.064, abs=5e-4)
    avg, avg_se = beta[5:].mean(), math.sqrt(np.full(2, 0.5) @ sigma[5:, 5:] @ np.full(2, 0.5))
    assert avg - Z975 * avg_se == pytest.approx(0.040, abs=5e-4)
    assert avg + Z975 * avg_se == pytest.approx(0.075, abs=5e-4)


# [REF] relative magnitudes, C-LF, on-impact effect: (Mbar, lb, ub).
RM_REF = [(0.5, 0.0240, 0.0672), (1.0, 0.0170, 0.0720), (1.5, 0.00824, 0.0797),
          (2.0, -0.000916, 0.0881)]  # fmt: skip
# [README-2024] the same rows printed by the package since March 2024.
RM_README_2024 = [(0.5, 0.0241, 0.0673), (1.0, 0.0171, 0.0720), (1.5, 0.00859, 0.0796),
                  (2.0, -0.00107, 0.0883)]  # fmt: skip
# [REF] smoothness, FLCI, on-impact effect: (M, lb, ub).
SD_REF = [(0.0, 0.0259, 0.0607), (0.01, 0.0132, 0.0787), (0.02, 0.00286, 0.0907),
          (0.03, -0.00714, 0.101), (0.04, -0.0171, 0.111), (0.05, -0.0271, 0.121)]  # fmt: skip
# [STATA] relative magnitudes, C-LF, average of the two post-periods: (Mbar, lb, ub).
RM_STATA_AVERAGE = [(0.0, 0.041, 0.075), (0.5, 0.033, 0.080), (1.0, 0.020, 0.090),
                    (1.5, 0.006, 0.103), (2.0, -0.008, 0.117)]  # fmt: skip


@pytest.fixture(scope="module")
def rm_table(ehec) -> pd.DataFrame:
    beta, sigma = ehec
    grid = [m for m, _, _ in RM_REF]
    return sensitivity(beta, sigma, n_pre=5, n_post=2, restriction="relative_magnitude", grid=grid)


@pytest.mark.parametrize("reference", [RM_REF, RM_README_2024], ids=["ref", "readme2024"])
def test_relative_magnitudes_match_honestdid_readme(rm_table, reference) -> None:
    assert list(rm_table.columns) == ["parameter", "lower", "upper"]
    assert rm_table["parameter"].tolist() == [m for m, _, _ in reference]
    for (_, lb, ub), row in zip(reference, rm_table.itertuples(), strict=True):
        assert row.lower == pytest.approx(lb, abs=2e-3)
        assert row.upper == pytest.approx(ub, abs=2e-3)
    assert rm_table.attrs["method"] == "C-LF"


def test_relative_magnitudes_on_r_grid_reproduce_the_reference(ehec) -> None:
    """Our intervals are exact test inversions; R reports the outermost accepted point of
    ``seq(-20 sdTheta, 20 sdTheta, length.out = 1000)`` (R/deltarm.R), up to one step
    (0.00037 here) inside. Read off that same grid, our test's decisions give R's printed
    ends to within their rounding and the simulation noise of c_LF."""

    beta, sigma = ehec
    es = check_event_study(beta, sigma, 5, 2, None, 0.05)
    rm = RelativeMagnitude(es)
    grid = np.linspace(-20.0, 20.0, 1000) * es.theta_se  # centred on 0, as in R
    for mbar, lb, ub in RM_REF:  # [REF]
        tests, _ = rm.tests([mbar])
        accepted = tests.accepts(np.arange(len(tests)), np.tile(grid, (len(tests), 1)))
        assert grid[accepted.any(axis=0)].min() == pytest.approx(lb, abs=1e-4)
        assert grid[accepted.any(axis=0)].max() == pytest.approx(ub, abs=1e-4)


def test_smoothness_matches_honestdid_readme(ehec) -> None:
    beta, sigma = ehec
    grid = [m for m, _, _ in SD_REF]
    table = sensitivity(beta, sigma, n_pre=5, n_post=2, restriction="smoothness", grid=grid)
    for (_, lb, ub), row in zip(SD_REF, table.itertuples(), strict=True):
        assert row.lower == pytest.approx(lb, abs=1e-3)
        assert row.upper == pytest.approx(ub, abs=1e-3)
    assert table.attrs["method"] == "FLCI"


def test_average_effect_matches_stata_honestdid(ehec) -> None:
    """Independent case: another implementation, another target (l_vec = (0.5, 0.5))."""
    beta, sigma = ehec
    grid = [m for m, _, _ in RM_STATA_AVERAGE]
    table = sensitivity(
        beta, sigma, n_pre=5, n_post=2, restriction="relative_magnitude", grid=grid,
        l_vec=[0.5, 0.5],
    )  # fmt: skip
    for (_, lb, ub), row in zip(RM_STATA_AVERAGE, table.itertuples(), strict=True):
        assert row.lower == pytest.approx(lb, abs=2e-3)
        assert row.upper == pytest.approx(ub, abs=2e-3)


def _gls_trend_interval(beta, sigma, n_pre, l_vec, alpha=0.05):
    """CI for l'τ in β = (t_pre, t_post)·c + (0, τ) + ε, ε ~ N(0, Σ), by GLS (Aitken)."""
    n_post = len(l_vec)
    z = np.zeros((n_pre + n_post, 1 + n_post))
    z[:, 0] = np.r_[np.arange(-n_pre, 0), np.arange(1, n_post + 1)]
    z[n_pre:, 1:] = np.eye(n_post)
    prec = np.linalg.inv(sigma)
    cov = np.linalg.inv(z.T @ prec @ z)
    est = cov @ z.T @ prec @ beta
    theta, se = l_vec @ est[1:], math.sqrt(l_vec @ cov[1:, 1:] @ l_vec)
    half = stats.norm.ppf(1 - alpha / 2) * se
    return theta - half, theta + half


def test_smoothness_at_zero_is_the_linear_extrapolation_interval(ehec) -> None:
    """Independent case with a closed form: ΔSD(0) means an exactly linear differential trend,
    so the FLCI is the interval of the best linear unbiased estimator of l'τ in the model
    with one common slope (Rambachan & Roth 2023, §4.1: at M = 0 the FLCI has no bias and
    minimal variance; Gauss–Markov–Aitken: that estimator is GLS)."""
    beta, sigma = ehec
    rng = np.random.default_rng(7)
    a = rng.standard_normal((7, 7))
    cases = [
        (beta, sigma, 5, np.array([1.0, 0.0])),
        (beta, sigma, 5, np.array([0.5, 0.5])),
        (rng.normal(0, 1, 7), a @ a.T + 0.5 * np.eye(7), 4, np.array([0.2, 0.3, -0.5])),
    ]
    for b, s, n_pre, lv in cases:
        table = sensitivity(
            b, s, n_pre=n_pre, n_post=len(lv), restriction="smoothness", grid=[0], l_vec=lv
        )
        lo, hi = _gls_trend_interval(b, s, n_pre, lv)
        scale = math.sqrt(lv @ s[n_pre:, n_pre:] @ lv)
        assert table["lower"].iloc[0] == pytest.approx(lo, abs=1e-9 * scale)
        assert table["upper"].iloc[0] == pytest.approx(hi, abs=1e-9 * scale)


def test_relative_magnitudes_at_zero_is_the_wald_interval(ehec) -> None:
    """Independent case with a closed form: ΔRM(0) fixes the on-impact δ to 0, leaving the
    moments ±(β̂_1 − θ) (later post-periods are absorbed by their own nuisance effects). The
    LF hybrid rejects when |z| > c_LF, the 1 − κ quantile of |N(0,1)|; otherwise at the
    1 − (α−κ)/(1−κ) quantile of |N(0,1)| truncated to [0, c_LF], which is exactly
    z_{1−α/2} (ARP 2023, §5). Only c_LF is simulated: allow 0.02 standard errors.
    (R's single-post-period code omits the truncation and gives ±2.003 σ.)"""
    beta, sigma = ehec
    wald = (beta[5] - Z975 * math.sqrt(sigma[5, 5]), beta[5] + Z975 * math.sqrt(sigma[5, 5]))
    for n_post in (1, 2):
        n = 5 + n_post
        table = sensitivity(
            beta[:n], sigma[:n, :n], n_pre=5, n_post=n_post, restriction="relative_magnitude",
            grid=[0.0],
        )  # fmt: skip
        se = math.sqrt(sigma[5, 5])
        assert table["lower"].iloc[0] == pytest.approx(wald[0], abs=0.02 * se)
        assert table["upper"].iloc[0] == pytest.approx(wald[1], abs=0.02 * se)


def test_breakdown_values(ehec) -> None:
    beta, sigma = ehec
    rm = breakdown(beta, sigma, n_pre=5, n_post=2, restriction="relative_magnitude")
    sd = breakdown(beta, sigma, n_pre=5, n_post=2, restriction="smoothness")
    # [REF] rows: the lower bound is > 0 at Mbar = 1.5 and < 0 at Mbar = 2 ("Mbar ≈ 2");
    # > 0 at M = 0.02 and < 0 at M = 0.03 ("M ≈ 0.03").
    assert 1.5 <= rm < 2.0
    assert 0.02 <= sd < 0.03
    # Two significant digits, rounded down: excludes 0 there, not one unit further.
    for restriction, value, unit in (("relative_magnitude", rm, 0.1), ("smoothness", sd, 0.001)):
        assert value == float(f"{value:.2g}")
        table = sensitivity(
            beta, sigma, n_pre=5, n_post=2, restriction=restriction, grid=[value, value + unit]
        )
        assert table["lower"].iloc[0] > 0
        assert table["lower"].iloc[1] <= 0


def test_breakdown_conventions() -> None:
    sigma = np.diag([1e-4, 1e-4, 1e-4])
    # Original interval contains 0 → 0.
    for restriction in ("relative_magnitude", "smoothness"):
        assert breakdown([0.0, 0.0, 0.01], sigma, n_pre=2, n_post=1, restriction=restriction) == 0
    # Pre-trends pinned at 0: even 10 times the largest pre-period change keeps the effect
    # away from 0 → inf ("at least the end of the search", MBAR_SEARCH_MAX = 10).
    tight = np.diag([1e-10, 1e-10, 1e-4])
    kwargs = dict(n_pre=2, n_post=1, restriction="relative_magnitude")
    assert breakdown([0.0, 0.0, 0.1], tight, **kwargs) == math.inf
    assert breakdown([0.0, 0.0, 0.1], tight, search_max=2.0, **kwargs) == math.inf
    # Smoothness always breaks down: worst-case bias grows linearly in M.
    assert 0 < breakdown([0.0, 0.0, 0.1], tight, n_pre=2, n_post=1, restriction="smoothness")


def test_side_of_zero_without_the_interval_agrees_with_the_interval(ehec) -> None:
    """The breakdown search's shortcut (ends refined only where 0 is within a grid step)
    says what the full interval says, near the breakdown value (where an end crosses 0)
    and away from it, on both targets."""
    es_args = dict(n_pre=5, n_post=2, alpha=0.05)
    beta, sigma = ehec
    for l_vec in (None, np.array([0.5, 0.5])):
        es = check_event_study(beta, sigma, l_vec=l_vec, **es_args)
        draws = noise_draws(es)
        for mbar in (0.0, 0.5, 1.5, 1.9, 1.95, 2.0, 3.0, 8.0):
            lower, upper = rm_interval(es, mbar, draws)
            assert rm_excludes_zero(es, mbar, draws) == bool(lower > 0 or upper < 0)
    # Negated coefficients: intervals below 0.
    es = check_event_study(-beta, sigma, l_vec=None, **es_args)
    assert rm_excludes_zero(es, 0.5, noise_draws(es))


def test_side_of_zero_refines_an_end_within_a_grid_step_of_zero() -> None:
    def one(accepts):  # a single test
        return lambda tests, theta: accepts(theta)

    def accepts(theta: np.ndarray) -> np.ndarray:
        return (theta >= 1e-4) & (theta <= 3.0)

    # The lower end's bracket on the grid holds 0 (grid step 0.004).
    assert union_intervals(one(accepts), [[0]], 0.0, 2.0)[0][0] > 0
    assert interval_sides(one(accepts), [0], 0.0, 2.0) == [(True, False)]
    below = one(lambda t: t < -1.0)  # upper end −1, lower −inf (by doubling)
    assert union_intervals(below, [[0]], 0.0, 2.0)[0][0] == -math.inf
    assert interval_sides(below, [0], 0.0, 2.0) == [(False, True)]
    nothing = one(lambda t: t != t)
    assert np.isnan(union_intervals(nothing, [[0]], 0.0, 2.0)[0]).all()
    assert interval_sides(nothing, [0], 0.0, 2.0) == [None]


def test_first_of_each_row_as_numpy_unique() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        base = np.round(rng.random((int(rng.integers(1, 9)), 6)), 1)
        keys = base[rng.integers(0, len(base), int(rng.integers(1, 40)))]
        keys[rng.random(keys.shape) < 0.1] = -0.0
        first = np.sort(np.unique(keys, axis=0, return_index=True)[1])
        np.testing.assert_array_equal(_first_of_each(keys), first)


def test_flci_is_the_minimum_over_affine_estimators() -> None:
    """Independent optimiser: worst-case bias by linear programming over ΔSD(M) (HiGHS), the
    folded-normal quantile from scipy.stats.foldnorm, Nelder–Mead over the free pre-period
    weights; the FLCI must be at least as short, and not shorter than rounding allows."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 5))
    sigma = 1e-4 * (a @ a.T / 5 + np.eye(5))
    beta = rng.normal(0, 0.01, 5)
    n_pre, lv, m = 3, np.array([0.5, 0.5]), 0.01
    t = np.r_[np.arange(-n_pre, 0), np.arange(1, 3)].astype(float)
    # Second differences of (δ_−3, δ_−2, δ_−1, δ_0 = 0, δ_1, δ_2): rows t = −2 … 1.
    d2 = np.zeros((4, 6))
    for r in range(4):
        d2[r, r : r + 3] = [1.0, -2.0, 1.0]
    d2 = np.delete(d2, 3, axis=1)

    def half_length(free: np.ndarray) -> float:
        v_pre = np.r_[free, 0.0]
        v_pre[-1] = -(t[n_pre:] @ lv + t[: n_pre - 1] @ free) / t[n_pre - 1]  # v't = 0
        v = np.r_[v_pre, lv]
        lp = optimize.linprog(-v, A_ub=np.vstack([d2, -d2]), b_ub=np.full(8, m),
                              bounds=[(None, None)] * 5, method="highs")  # fmt: skip
        sd = math.sqrt(v @ sigma @ v)
        return sd * stats.foldnorm.ppf(0.95, -lp.fun / sd)  # 95 % quantile of |N(bias/sd, 1)|

    best = optimize.minimize(half_length, np.zeros(n_pre - 1), method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})  # fmt: skip
    table = sensitivity(beta, sigma, n_pre=n_pre, n_post=2, restriction="smoothness", grid=[m],
                        l_vec=lv)  # fmt: skip
    ours = (table["upper"].iloc[0] - table["lower"].iloc[0]) / 2
    assert ours <= best.fun * (1 + 1e-9)
    assert ours == pytest.approx(best.fun, rel=1e-6)


def test_dual_vertices_give_the_lp_value() -> None:
    """η̂ = max over the enumerated vertices equals the primal LP min_{η,ν} η s.t.
    y − Xν ≤ η·sd, solved by HiGHS, for random moments."""
    rng = np.random.default_rng(11)
    sd = rng.uniform(0.5, 2.0, 8)
    x = rng.standard_normal((8, 3))
    verts = dual_vertices(sd, x)
    assert np.all(verts >= 0)
    assert np.allclose(verts @ sd, 1.0) and np.allclose(verts @ x, 0.0)
    for _ in range(20):
        y = rng.standard_normal(8)
        lp = optimize.linprog(np.r_[1.0, np.zeros(3)], A_ub=-np.column_stack([sd, x]), b_ub=-y,
                              bounds=[(None, None)] * 4, method="highs")  # fmt: skip
        assert np.max(verts @ y) == pytest.approx(lp.fun, abs=1e-9)


def _random_event_study(seed: int, l_vec: np.ndarray | None = None) -> EventStudy:
    """3 pre-periods, 4 post-periods, small pre-trends and a clear effect, random Σ."""
    rng = np.random.default_rng(seed)
    root = rng.standard_normal((7, 7)) * 0.02
    sigma = root @ root.T + np.diag(rng.uniform(1e-4, 4e-4, 7))
    beta = np.r_[rng.normal(0, 0.01, 3), rng.normal(0.15, 0.02, 4)]
    return check_event_study(beta, sigma, 3, 4, l_vec, 0.05)


@pytest.mark.parametrize("l_vec", [None, np.full(4, 0.25)], ids=["on_impact", "average"])
def test_dual_cone_gives_the_vertices_of_a_fresh_enumeration(l_vec) -> None:
    """The rays found once per choice of the maximal pre-period, rescaled at each M̄, are
    the vertices ``dual_vertices`` enumerates afresh at that M̄ (same rows, same order);
    and ``A(M̄) = A_0 + M̄ · slope`` is ``rm_constraints``'s post-period rows exactly."""
    es = _random_event_study(3, l_vec)
    rm = RelativeMagnitude(es)
    keys = [(s, sign) for s in range(-2, 1) for sign in (True, False)]
    for mbar in (0.0, 0.3, 1.0, 2.5, 7.0):
        for (s, sign), a_mat, choice in zip(
            keys, rm.constraints(mbar), _choices(3, 4, tuple(es.l_vec)), strict=True
        ):
            full = rm_constraints(3, 4, mbar, s, sign)
            np.testing.assert_array_equal(a_mat, full[np.any(full[:, 3:] != 0, axis=1)])
            sd = np.sqrt(np.diag(a_mat @ es.sigma @ a_mat.T))
            fresh = dual_vertices(sd, choice.cone.x)
            assert len(fresh) > 0
            np.testing.assert_allclose(choice.cone.vertices(sd), fresh, rtol=1e-12, atol=1e-12)
    # A polytope in general position (no degenerate vertices), at several scales.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((9, 3))
    cone = DualCone(x)
    for _ in range(5):
        sd = rng.uniform(0.1, 3.0, 9)
        fresh = dual_vertices(sd, x)
        assert len(fresh) > 0
        np.testing.assert_allclose(cone.vertices(sd), fresh, rtol=1e-12, atol=1e-12)


def test_reused_cone_gives_the_intervals_of_a_fresh_enumeration(monkeypatch) -> None:
    """Sensitivity intervals and breakdown values with the dual vertices rescaled from
    the cone equal those with the vertices enumerated afresh at every M̄ (the path before
    the cone), on a random event study whose search bisects."""
    es = _random_event_study(7)
    kwargs = dict(n_pre=3, n_post=4, restriction="relative_magnitude", grid=[0, 0.5, 1, 2])
    runs = []
    for fresh in (False, True):
        if fresh:
            monkeypatch.setattr(DualCone, "vertices", lambda self, sd: dual_vertices(sd, self.x))
        for l_vec in (None, np.full(4, 0.25)):
            runs.append(sensitivity_with_breakdown(es.betahat, es.sigma, l_vec=l_vec, **kwargs))
    for (table, value), (old_table, old_value) in zip(runs[:2], runs[2:], strict=True):
        assert 0 < value < 2 and value == old_value
        assert np.all(np.isfinite(table[["lower", "upper"]]))
        np.testing.assert_allclose(table[["lower", "upper"]], old_table[["lower", "upper"]],
                                   rtol=0, atol=1e-12)  # fmt: skip


@pytest.mark.parametrize("l_vec", [None, np.full(4, 0.25)], ids=["on_impact", "average"])
def test_tests_together_give_the_numbers_of_tests_one_by_one(l_vec) -> None:
    """The stacked tests (padded vertices, several M̄ in one call) accept exactly the θ
    each test accepts on its own; intervals whose ends are refined only where they can be
    their group's, and sides of 0 refined only while in doubt, are bit for bit those of
    inverting every test on its own (tests/honest_reference.py, the code before)."""
    mbars = [0.0, 0.3, 0.5, 1.0, 1.7, 2.0, 4.0]
    for seed in (7, 8, 9):
        es = _random_event_study(seed, l_vec)
        rm = RelativeMagnitude(es)
        together, index = rm.tests(mbars)
        assert len(set(index[0])) == 1  # M̄ = 0: the choices' moments are the same
        theta = es.theta_hat + es.theta_se * np.linspace(-8.0, 8.0, 401)
        for i, mbar in enumerate(mbars):
            for row, test in zip(index[i], reference_tests(rm, mbar), strict=True):
                assert together.lf_cv[row] == test.lf_cv
                np.testing.assert_array_equal(
                    together.accepts(np.array([row]), theta[None, :])[0], test.accepts(theta)
                )
        reference = [reference_interval(rm, m) for m in mbars]
        np.testing.assert_array_equal(rm.intervals(mbars), reference)
        sides = [reference_excludes_zero(rm, m) for m in mbars]
        assert [rm.excludes_zero(m) for m in mbars] == sides


def test_first_stage_span_is_where_the_first_stage_does_not_reject() -> None:
    """The bisection's span is exactly the grid points with ``max_v γ_v'y(θ) ≤ c_LF``, as
    :meth:`HybridTests.accepts` computes them (all of them, on a grid long and short)."""
    for seed in (7, 8):
        es = _random_event_study(seed)
        tests, _ = RelativeMagnitude(es).tests([0.0, 0.5, 2.0, 6.0])
        rows = np.arange(len(tests))
        for half_width, n_grid in ((20.0, 1001), (3.0, 1001), (0.01, 17), (60.0, 2)):
            grid = es.theta_hat + half_width * es.theta_se * np.linspace(-1.0, 1.0, n_grid)
            vals = tests.gy[:, :, None] - tests.ga[:, :, None] * grid[None, None, :]
            kept = np.max(vals, axis=1) <= tests.lf_cv[:, None]
            start, stop = tests.first_stage_span(rows, grid)
            inside = (np.arange(n_grid) >= start[:, None]) & (np.arange(n_grid) < stop[:, None])
            np.testing.assert_array_equal(inside, kept)


def test_rank_check_agrees_with_matrix_rank() -> None:
    """The bound that spares the SVD says full rank only where ``matrix_rank`` does, from
    scales far from the span of ``X`` down to scales inside it."""
    rng = np.random.default_rng(6)
    for k in (0, 1, 3, 5):
        x = rng.standard_normal((7, k)) * 10.0 ** rng.integers(-3, 3)
        cone = DualCone(x)
        for dist in (1.0, 1e-3, 1e-7, 1e-9, 1e-12, 1e-15, 0.0):
            sd = x @ rng.standard_normal(k) + dist * rng.standard_normal(7)
            full = np.linalg.matrix_rank(np.vstack([sd[None, :], x.T])) == k + 1
            assert cone._full_rank(sd) == full


def test_stacked_tests_with_an_empty_polytope() -> None:
    """A test without dual vertices (η̂ = −∞) accepts every θ, stacked with others."""
    rng = np.random.default_rng(2)
    empty = DualCone(np.array([[1.0], [1.0]]))  # X'γ = γ_1 + γ_2 = 0 only at γ = 0
    assert len(empty.vertices(np.array([1.0, 2.0]))) == 0
    x = rng.standard_normal((6, 2))
    a_mat = rng.standard_normal((6, 4))
    sigma_y = a_mat @ a_mat.T
    draws = np.asfortranarray(rng.standard_normal((1000, 4)))
    y0, a = rng.standard_normal(6), rng.standard_normal(6)
    full = MomentProblem(y0, a, DualCone(x), sigma_y, a_mat)
    none = MomentProblem(np.zeros(2), np.ones(2), empty, np.diag([1.0, 4.0]), np.eye(2, 4))
    tests = HybridTests([none, full], draws, alpha=0.05, kappa=0.005)
    theta = np.linspace(-5.0, 5.0, 201)
    got = tests.accepts(np.array([0, 1]), np.vstack([theta, theta]))
    assert got[0].all()
    one = HybridTest(y0, a, DualCone(x), sigma_y, a_mat, draws, alpha=0.05, kappa=0.005)
    np.testing.assert_array_equal(got[1], one.accepts(theta))


def test_upper_quantile_is_numpys() -> None:
    rng = np.random.default_rng(5)
    for n in (10, 100, 1000, 10_000):
        skewed = rng.random(n)
        skewed[::8] += 10.0  # the subsample holds the largest values: the fallback
        for x in (rng.standard_normal(n), np.round(rng.standard_normal(n), 1), skewed):
            for q in (0.5, 0.9, 0.95, 0.995, 0.9995, 0.99985):
                assert upper_quantile(x, q) == np.quantile(x, q)


def test_refinement_points_are_linspace() -> None:
    rng = np.random.default_rng(4)
    inside = rng.normal(0.0, 10.0, 50)
    outside = inside + rng.normal(0.0, 1.0, 50) * 10.0 ** rng.integers(-12, 0, 50)
    seen = []

    def accepts(tests: np.ndarray, theta: np.ndarray) -> np.ndarray:
        seen.append(theta.copy())
        return np.ones(theta.shape, dtype=bool)

    _refine(accepts, np.zeros(50, dtype=int), inside, outside, lambda i, o: np.ones(i.size, bool))
    for r in range(50):
        np.testing.assert_array_equal(seen[0][r], np.linspace(inside[r], outside[r], 130)[1:-1])


def test_negated_coefficients_give_the_mirror_interval(ehec) -> None:
    """ΔRM and ΔSD are symmetric in δ and the least-favourable draws come in antithetic
    pairs, so −β̂ must give exactly the mirror image of the interval for β̂."""
    beta, sigma = ehec
    for restriction, grid in (("relative_magnitude", [0.5, 2.0]), ("smoothness", [0.01])):
        plus = sensitivity(beta, sigma, n_pre=5, n_post=2, restriction=restriction, grid=grid)
        minus = sensitivity(-beta, sigma, n_pre=5, n_post=2, restriction=restriction, grid=grid)
        np.testing.assert_allclose(minus["lower"], -plus["upper"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(minus["upper"], -plus["lower"], rtol=0, atol=1e-12)


def test_results_are_deterministic(ehec) -> None:
    beta, sigma = ehec
    kwargs = dict(n_pre=5, n_post=2, restriction="relative_magnitude", grid=[1.0])
    first, second = sensitivity(beta, sigma, **kwargs), sensitivity(beta, sigma, **kwargs)
    pd.testing.assert_frame_equal(first, second, check_exact=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(n_pre=4), "betahat has 7 coefficients but n_pre \\+ n_post = 4 \\+ 2 = 6"),
        (dict(sigma=np.eye(6)), "sigma has shape \\(6, 6\\); expected \\(7, 7\\)"),
        (dict(sigma=np.eye(7) + np.triu(np.ones((7, 7)), 1)), "sigma is not symmetric"),
        (dict(sigma=np.diag([1.0] * 6 + [-1.0])), "not positive semi-definite"),
        (dict(sigma=np.ones((7, 7))), "sigma has rank 1 < 7"),
        (dict(l_vec=[1.0, 0.0, 0.0]), "l_vec has 3 weights; expected n_post = 2"),
        (dict(restriction="linear"), "restriction must be one of"),
        (dict(grid=[0.5, -1.0]), "grid values must be finite and >= 0"),
        (dict(grid=[]), "grid is empty"),
    ],
)
def test_bad_input_is_named(change, message) -> None:
    kwargs = dict(betahat=np.zeros(7), sigma=np.eye(7), n_pre=5, n_post=2,
                  restriction="smoothness", grid=[0.0])  # fmt: skip
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        sensitivity(**kwargs)


def test_rank_is_checked_before_breakdown() -> None:
    # An assignment-level covariance from 5 clusters has rank <= 4 (DESIGN §6.1).
    scores = np.random.default_rng(0).standard_normal((4, 7))
    sigma = scores.T @ scores
    with pytest.raises(ValueError, match="sigma has rank 4 < 7"):
        breakdown(np.zeros(7), sigma, n_pre=5, n_post=2, restriction="relative_magnitude")


def test_check_event_study_defaults() -> None:
    es = check_event_study(np.arange(7.0), np.eye(7), 5, 2, None, 0.05)
    assert es.l_vec.tolist() == [1.0, 0.0]
    assert es.theta_hat == 5.0 and es.theta_se == 1.0


@pytest.mark.parametrize("m", [0.05, 0.3, 2.0])
def test_smoothness_one_pre_one_post_is_the_folded_normal_interval(m: float) -> None:
    """Independent case, not in [REF], with a closed form at M > 0 (Armstrong & Kolesár
    2018, §2; Rambachan & Roth 2023, §4.1): with one pre-period (β̂_{-1} = δ_{-1}) and one
    post-period (β̂_1 = τ + δ_1), ΔSD(M) is |δ_1 + δ_{-1}| ≤ M. An affine estimator of τ has
    bounded worst-case bias only if it is β̂_1 + β̂_{-1} (δ_{-1} is free), whose bias then
    lies in [−M, M]; so the FLCI is β̂_1 + β̂_{-1} ± σ·cv(M/σ), σ = sd(β̂_1 + β̂_{-1}) and
    cv(b) the 1 − α quantile of |N(b, 1)|."""
    beta = np.array([0.12, 0.85])
    sigma = np.array([[0.04, 0.01], [0.01, 0.09]])
    sd = math.sqrt(sigma.sum())
    b = m / sd
    cv = optimize.brentq(
        lambda c: stats.norm.cdf(c - b) - stats.norm.cdf(-c - b) - 0.95, 0.0, b + 10.0
    )
    table = sensitivity(beta, sigma, n_pre=1, n_post=1, restriction="smoothness", grid=[m])
    assert table["lower"].iloc[0] == pytest.approx(beta.sum() - sd * cv, abs=1e-6 * sd)
    assert table["upper"].iloc[0] == pytest.approx(beta.sum() + sd * cv, abs=1e-6 * sd)
