"""Few-cluster inference: wild cluster restricted bootstrap and randomisation inference.

Both methods are generic over the estimator.  The wild bootstrap takes the estimator's
:class:`~sahel_eval.did.linear.LinearDesign` (TWFE, event-study terms and the 2×2 all
produce one) and a term name; randomisation inference takes an *estimate function*
``assignment -> estimate(s)`` that re-estimates the model under a placebo assignment of
roll-out dates to clusters.

Wild cluster restricted bootstrap (WCR)
---------------------------------------
Model y = x_j β_j + Zγ + α_unit + ε with the unit effects absorbed (they must be nested
in the bootstrap clusters, so that multiplying residuals by a cluster-constant weight
commutes with the within transformation).  Under H0: β_j = β0 the restricted residuals
are ü(β0) = ỹ − β0 x̃ with ỹ = M_Z y, x̃ = M_Z x_j (FWL), linear in β0.  A bootstrap
sample is y* = Zγ̃ + x_j β0 + ü ∘ v, v constant within cluster.  Following Roodman,
MacKinnon, Nielsen & Webb (2019, "Fast and wild", the ``boottest`` algorithm) everything
is reduced to cluster-level pieces computed once:

    β̂* − β0 = Σ_g v_g (p_g − β0 q_g) / x̃'x̃,        p_g = x̃_g'ỹ_g, q_g = x̃_g'x̃_g,
    score*_g = [(D0 − β0 D1) v]_g,   D0 = diag(p)/x̃'x̃ − H'A F/x̃'x̃,
                                     D1 = diag(q)/x̃'x̃ − H'A H/x̃'x̃,

with A = (X'X)⁻¹, F_g = X_g'ỹ_g and H_g = X_g'x̃_g (K-vectors).  score*_g is the cluster
g contribution x̃_g'û*_g / x̃'x̃ of the bootstrap CRV1 variance, so

    t*(β0) = (n0 − β0 n1) / sqrt(c (a − 2β0 b + β0² d))

where (n0, n1, a, b, d) are five numbers per draw.  Each draw costs one G×G product
(never an N × B matrix), and after that p(β0) costs O(B) for any β0, which makes the
confidence interval by test inversion cheap.  c is the CRV1 factor (it cancels).

p-values are symmetric: share of draws with |t*| ≥ |t|.  With all 2^G Rademacher
vectors enumerated, v = 1 reproduces the sample and v = −1 its mirror image, so
p ≥ 2/2^G: that is the smallest attainable p-value.  With B random draws the identity
draw is added (p = (1 + #{|t*| ≥ |t|}) / (B + 1)) and the smallest attainable p-value is
max(1/(B+1), 2/|support|), |support| = 2^G (Rademacher) or 6^G (Webb).

Randomisation inference
-----------------------
The observed multiset of cluster start dates (never-treated included) is permuted over
clusters: every placebo treated cluster takes a real treated cluster's roll-out date.
All distinct assignments are enumerated when there are at most ``max_permutations`` of
them (p = share of |θ̂_m| ≥ |θ̂|, the actual assignment included, smallest attainable
p = 1/M); otherwise ``draws`` random permutations are used with
p = (1 + #{|θ̂_b| ≥ |θ̂|}) / (B + 1) and smallest attainable p = 1/(B + 1).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sahel_eval.did.covariance import crv1
from sahel_eval.did.linear import LinearDesign

__all__ = [
    "ENUMERATION_MAX_CLUSTERS",
    "RandomizationResult",
    "WildBootstrapResult",
    "linear_randomization_ci",
    "randomization_inference",
    "resolve_seed",
    "wild_cluster_bootstrap",
]

#: Rademacher weights are enumerated (exact, seed-free) up to this many clusters.
ENUMERATION_MAX_CLUSTERS = 12

_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
# Relative slack when counting |t*| ≥ |t|: the identity draw reproduces t only up to
# rounding, and it must count.
_TIE = 1e-9
_CHUNK = 4096


def resolve_seed(seed: int | None) -> int:
    """The seed actually used: ``seed`` itself, or fresh entropy recorded for replay."""
    if seed is not None:
        return int(seed)
    return int(np.random.SeedSequence().entropy)


@dataclass
class WildBootstrapResult:
    """Outcome of a WCR bootstrap test of one coefficient.

    ``p`` tests β = 0; ``ci`` is the test-inversion interval at ``level`` (NaN ends when
    the interval is unbounded); ``p_min`` the smallest attainable p-value.
    """

    term: str
    estimate: float
    se: float
    t: float
    p: float
    ci: tuple[float, float]
    p_min: float
    draws: int
    weights: str
    enumerated: bool
    clusters: int
    seed: int | None
    p_at: Callable[[float], float] = field(repr=False)


@dataclass
class _Draws:
    """Five numbers per draw from which t*(β0) follows for any β0."""

    n0: np.ndarray
    n1: np.ndarray
    a: np.ndarray
    b: np.ndarray
    d: np.ndarray


def _rademacher_enumeration(g: int) -> np.ndarray:
    codes = np.arange(2**g)[:, None] >> np.arange(g)[None, :] & 1
    # Row 0 is v = +1 (the sample itself).
    return (1 - 2 * codes).T.astype(float)


def _wild_draw_summaries(
    d0: np.ndarray,
    d1: np.ndarray,
    pn: np.ndarray,
    qn: np.ndarray,
    *,
    kind: str,
    enumerate_all: bool,
    draws: int,
    rng: np.random.Generator | None,
) -> _Draws:
    g = d0.shape[0]
    parts: list[tuple[np.ndarray, ...]] = []

    def summarise(v: np.ndarray) -> None:
        s0 = d0 @ v
        s1 = d1 @ v
        parts.append(
            (
                pn @ v,
                qn @ v,
                np.einsum("gb,gb->b", s0, s0),
                np.einsum("gb,gb->b", s0, s1),
                np.einsum("gb,gb->b", s1, s1),
            )
        )

    if enumerate_all:
        summarise(_rademacher_enumeration(g))
    else:
        assert rng is not None
        done = 0
        while done < draws:
            m = min(_CHUNK, draws - done)
            if kind == "webb":
                v = _WEBB[rng.integers(0, 6, size=(g, m))]
            else:
                v = rng.choice(np.array([-1.0, 1.0]), size=(g, m))
            summarise(v)
            done += m
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    return _Draws(*cols)


def wild_cluster_bootstrap(
    design: LinearDesign,
    term: str,
    clusters: np.ndarray | pd.Series,
    *,
    level: float = 0.95,
    draws: int = 9999,
    weights: str | None = None,
    seed: int | None = None,
    k: int | None = None,
) -> WildBootstrapResult:
    """Wild cluster restricted bootstrap test and CI for one coefficient.

    Model: y = x_term·β + Zγ + α_unit + ε, H0: β = β0, bootstrap clusters ``clusters``;
    statistic t = (β̂ − β0)/se_CRV1.  See the module docstring for the algorithm.

    Parameters
    ----------
    design
        The estimator's within-transformed design; its absorbed effects must be nested
        in ``clusters``.
    term
        Name of the tested column of ``design.x``.
    clusters
        Bootstrap (and variance) cluster per row.
    level
        Confidence level of the test-inversion interval.
    draws
        Random draws B when the weights are not enumerated.
    weights
        ``"rademacher"`` or ``"webb"``; default: Rademacher enumerated when
        G ≤ 12, Webb draws otherwise.  Rademacher with G ≤ 12 is always enumerated.
    seed
        Seed of the numpy Generator (unused, and recorded as ``None``, when enumerated).
    k
        K of the CRV1 factor (default ``design.k(clusters)``).

    Returns
    -------
    WildBootstrapResult
    """
    clusters = np.asarray(clusters)
    if not design.absorbed_nested_in(clusters):
        raise ValueError(
            "wild cluster bootstrap: the absorbed fixed effects (units) are not nested in "
            "the bootstrap clusters; cluster at the unit level or above"
        )
    if term not in design.names:
        raise KeyError(f"term {term!r} not among the regressors {design.names}")
    j = design.names.index(term)
    codes, uniques = pd.factorize(clusters, sort=True)
    g = len(uniques)
    if g < 2:
        raise ValueError(f"wild cluster bootstrap needs at least 2 clusters, got {g}")
    if weights is None:
        weights = "rademacher" if g <= ENUMERATION_MAX_CLUSTERS else "webb"
    if weights not in ("rademacher", "webb"):
        raise ValueError(f"weights must be 'rademacher' or 'webb', got {weights!r}")
    enumerate_all = weights == "rademacher" and g <= ENUMERATION_MAX_CLUSTERS
    k = design.k(clusters) if k is None else k

    y, x = design.sqrt_weighted()
    n = len(y)
    xj = x[:, j]
    z = np.delete(x, j, axis=1)
    if z.shape[1]:
        q, r = np.linalg.qr(z)
        keep = np.abs(np.diag(r)) > 1e-10 * max(1.0, np.abs(np.diag(r)).max())
        q = q[:, keep]
        xt = xj - q @ (q.T @ xj)
        yt = y - q @ (q.T @ y)
    else:
        xt, yt = xj, y
    xx = float(xt @ xt)
    if xx <= 1e-12 * max(1.0, float(xj @ xj)):
        raise ValueError(f"term {term!r} is collinear with the other regressors")
    beta = float(xt @ yt) / xx
    resid = yt - beta * xt
    c = g / (g - 1) * (n - 1) / (n - k)
    se = float(np.sqrt(crv1(xt[:, None], resid, codes, k=k).vcov[0, 0]))
    # crv1's factor uses the same k, so se equals the full-model CRV1 SE of β_term.

    # Cluster-level pieces, computed once.
    pg = np.bincount(codes, weights=xt * yt, minlength=g)
    qg = np.bincount(codes, weights=xt * xt, minlength=g)
    f = np.zeros((g, x.shape[1]))
    h = np.zeros((g, x.shape[1]))
    np.add.at(f, codes, x * yt[:, None])
    np.add.at(h, codes, x * xt[:, None])
    a_inv = np.linalg.pinv(x.T @ x)
    d0 = np.diag(pg / xx) - h @ a_inv @ f.T / xx
    d1 = np.diag(qg / xx) - h @ a_inv @ h.T / xx

    used_seed = None if enumerate_all else resolve_seed(seed)
    rng = None if enumerate_all else np.random.default_rng(used_seed)
    summ = _wild_draw_summaries(
        d0, d1, pg / xx, qg / xx, kind=weights, enumerate_all=enumerate_all, draws=draws, rng=rng
    )
    n_draws = len(summ.n0)

    def p_at(beta0: float) -> float:
        t_obs = abs(beta - beta0) / se
        num = summ.n0 - beta0 * summ.n1
        var = c * (summ.a - 2 * beta0 * summ.b + beta0**2 * summ.d)
        t_star = np.abs(num) / np.sqrt(np.maximum(var, 1e-300))
        hits = int(np.count_nonzero(t_star >= t_obs * (1 - _TIE)))
        if enumerate_all:
            return hits / n_draws
        return (1 + hits) / (n_draws + 1)

    if enumerate_all:
        p_min = 2.0 / 2**g
    else:
        # 2/|support| in logs: 6^G overflows a float for G > 396.
        log_support = g * np.log(2.0 if weights == "rademacher" else 6.0)
        p_min = max(1.0 / (n_draws + 1), float(2.0 * np.exp(-log_support)))
    alpha = 1 - level
    ci = (
        (np.nan, np.nan)
        if p_min > alpha
        else (_invert(p_at, beta, -se, alpha), _invert(p_at, beta, se, alpha))
    )
    return WildBootstrapResult(
        term=term,
        estimate=beta,
        se=se,
        t=beta / se,
        p=p_at(0.0),
        ci=ci,
        p_min=p_min,
        draws=n_draws,
        weights=weights,
        enumerated=enumerate_all,
        clusters=g,
        seed=used_seed,
        p_at=p_at,
    )


def _invert(p_at: Callable[[float], float], beta: float, step: float, alpha: float) -> float:
    """End of {β0 : p(β0) > α} on the side of ``step``; NaN when it does not close."""
    inside = beta
    outside = None
    for i in range(40):
        cand = beta + step * 2.0 ** (i - 1)
        if p_at(cand) <= alpha:
            outside = cand
            break
        inside = cand
    if outside is None:
        return float("nan")
    # p(β0) is a step function; bisect to far below any reportable precision.
    for _ in range(60):
        mid = 0.5 * (inside + outside)
        if p_at(mid) > alpha:
            inside = mid
        else:
            outside = mid
        if abs(outside - inside) <= 1e-10 * abs(step):
            break
    return 0.5 * (inside + outside)


# --------------------------------------------------------------------------- RI


@dataclass
class RandomizationResult:
    """Outcome of randomisation inference.

    ``estimates`` are the actual estimates (one per term), ``placebo`` the M × terms
    matrix of placebo estimates (actual assignment included when enumerated),
    ``p`` the p-values per term and ``p_min`` the smallest attainable p-value.
    """

    estimates: np.ndarray
    placebo: np.ndarray
    p: np.ndarray
    p_min: float
    permutations: int
    enumerated: bool
    seed: int | None


def _n_distinct_assignments(counts: list[int]) -> int:
    total = math.factorial(sum(counts))
    for c in counts:
        total //= math.factorial(c)
    return total


def _multiset_permutations(codes: np.ndarray) -> Iterator[np.ndarray]:
    """Every distinct rearrangement of ``codes`` (positions chosen value by value)."""
    values, counts = np.unique(codes, return_counts=True)
    g = len(codes)

    def rec(free: tuple[int, ...], level: int, out: np.ndarray) -> Iterator[np.ndarray]:
        if level == len(values) - 1:
            out[list(free)] = values[level]
            yield out.copy()
            return
        for chosen in itertools.combinations(free, int(counts[level])):
            out[list(chosen)] = values[level]
            taken = set(chosen)
            rest = tuple(i for i in free if i not in taken)
            yield from rec(rest, level + 1, out)

    yield from rec(tuple(range(g)), 0, np.empty(g, dtype=codes.dtype))


def randomization_inference(
    estimate: Callable[[pd.Series], Any],
    assignment: pd.Series,
    *,
    max_permutations: int = 10_000,
    draws: int = 9999,
    seed: int | None = None,
) -> RandomizationResult:
    """Randomisation inference permuting roll-out dates over clusters.

    H0 (sharp): the programme has no effect in any cluster, so every rearrangement of
    the observed start dates over clusters was as likely as the actual one; statistic
    |θ̂|, p = share of |θ̂_placebo| ≥ |θ̂_actual|.

    Parameters
    ----------
    estimate
        ``assignment -> estimate`` (float or 1-D array, one entry per term): re-fits
        the model with treatment defined by a cluster → start-date Series (NaN = never
        treated).
    assignment
        The actual start date per cluster (index = cluster, NaN = never treated).
    max_permutations
        Enumerate all distinct assignments when there are at most this many.
    draws
        Random permutations used otherwise.
    seed
        Seed of the numpy Generator for the random permutations.

    Returns
    -------
    RandomizationResult
    """
    if assignment.index.has_duplicates:
        raise ValueError("assignment must have one entry per cluster")
    # Codes so that NaN (never treated) is one value like any date.
    codes, uniques = pd.factorize(assignment.to_numpy(), use_na_sentinel=False)

    def as_series(c: np.ndarray) -> pd.Series:
        return pd.Series(uniques[c], index=assignment.index)

    actual = np.atleast_1d(np.asarray(estimate(assignment), dtype=float))
    counts = np.bincount(codes).tolist()
    m = _n_distinct_assignments(counts)
    enumerated = m <= max_permutations
    if enumerated:
        perms: Iterator[np.ndarray] = _multiset_permutations(codes)
        used_seed = None
    else:
        used_seed = resolve_seed(seed)
        rng = np.random.default_rng(used_seed)
        perms = (rng.permutation(codes) for _ in range(draws))
    placebo = np.array(
        [np.atleast_1d(np.asarray(estimate(as_series(c)), dtype=float)) for c in perms]
    )
    hits = (np.abs(placebo) >= np.abs(actual)[None, :] * (1 - _TIE)).sum(axis=0)
    if enumerated:
        p = hits / m
        p_min = 1.0 / m
    else:
        p = (1 + hits) / (draws + 1)
        p_min = 1.0 / (draws + 1)
    return RandomizationResult(
        estimates=actual,
        placebo=placebo,
        p=p,
        p_min=p_min,
        permutations=len(placebo),
        enumerated=enumerated,
        seed=used_seed,
    )


def _hit_intervals(
    b: np.ndarray, c: np.ndarray, b0: float, c0: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per draw, the θ-set where |b − θc| ≥ |b0 − θc0|, as up to two closed intervals.

    The inequality is the quadratic (c² − c0²)θ² − 2(bc − b0c0)θ + (b² − b0²) ≥ 0, so
    its solution set is empty, the line, a closed interval or the complement of an open
    one.  Returns (lo, hi, always) with lo/hi of shape (n, 2) (NaN = unused slot) and
    ``always`` the draws that count for every θ: the actual assignment (equal up to
    rounding, which must count, as ``_TIE`` elsewhere) and draws with NaN estimates
    (counted as at least as extreme: conservative).
    """
    n = len(b)
    lo = np.full((n, 2), np.nan)
    hi = np.full((n, 2), np.nan)
    scale_b = max(abs(b0), float(np.nanmax(np.abs(b))) if n else 0.0, 1e-300)
    scale_c = max(abs(c0), float(np.nanmax(np.abs(c))) if n else 0.0, 1e-300)
    same = (np.abs(b - b0) <= 1e-9 * scale_b) & (np.abs(c - c0) <= 1e-9 * scale_c)
    always = same | ~np.isfinite(b) | ~np.isfinite(c)
    qa = c**2 - c0**2
    qb = -2 * (b * c - b0 * c0)
    qc = b**2 - b0**2
    eps_a = 1e-12 * scale_c**2
    for i in np.flatnonzero(~always):
        a_, b_, c_ = qa[i], qb[i], qc[i]
        if abs(a_) <= eps_a:
            if b_ == 0:
                if c_ >= 0:
                    lo[i, 0], hi[i, 0] = -np.inf, np.inf
            elif b_ > 0:
                lo[i, 0], hi[i, 0] = -c_ / b_, np.inf
            else:
                lo[i, 0], hi[i, 0] = -np.inf, -c_ / b_
            continue
        disc = b_ * b_ - 4 * a_ * c_
        if disc < 0:
            if a_ > 0:
                lo[i, 0], hi[i, 0] = -np.inf, np.inf
            continue
        sq = np.sqrt(disc)
        r1, r2 = sorted(((-b_ - sq) / (2 * a_), (-b_ + sq) / (2 * a_)))
        if a_ > 0:
            lo[i] = (-np.inf, r2)
            hi[i] = (r1, np.inf)
        else:
            lo[i, 0], hi[i, 0] = r1, r2
    return lo, hi, always


def linear_randomization_ci(
    b: np.ndarray,
    c: np.ndarray,
    b0: float,
    c0: float,
    *,
    enumerated: bool,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Exact test-inversion CI of randomisation inference for a linear estimator.

    For an estimator linear in the outcome, the placebo estimate on the outcome with a
    constant additive effect θ removed is ``b_m − θ c_m``, where ``b_m`` is the placebo
    estimate on Y and ``c_m`` on the actual exposure D (two estimator runs per
    assignment).  Statistic |b − θc|; p(θ) = share of assignments with
    |b_m − θ c_m| ≥ |b0 − θ c0| (enumerated: the actual assignment is among the ``b``;
    random draws: p = (1 + hits) / (B + 1)).  Each draw's comparison is a quadratic
    inequality in θ, so p(θ) is a step function with at most 2 breakpoints per draw
    and the accepted set {θ : p(θ) > 1 − level} is found exactly by evaluating it at
    every breakpoint, between consecutive breakpoints and beyond the outermost ones.

    Parameters
    ----------
    b, c
        Placebo estimates on Y and on D (one per assignment).
    b0, c0
        Actual estimates on Y and on D (``c0`` is 1 when D is the exposure the
        estimand measures).
    enumerated
        Whether ``b``/``c`` are all assignments (actual included) or random draws.
    level
        Confidence level.

    Returns
    -------
    tuple of float
        ``(p0, ci_low, ci_high)``: p-value of θ = 0 and the ends of the smallest
        interval containing the accepted set; ±inf when it is unbounded on that side,
        NaN for both when no θ is accepted.
    """
    b = np.asarray(b, dtype=float)
    c = np.asarray(c, dtype=float)
    # 1 − 0.9 is 0.0999…98 in floating point; p-values are multiples of 1/M, so an
    # unrounded α would accept p = 0.1 at the 90 % level.
    alpha = round(1 - level, 12)
    lo, hi, always = _hit_intervals(b, c, b0, c0)
    m = len(b)
    n_always = int(always.sum())
    los = np.sort(lo[np.isfinite(lo) | np.isinf(lo)].ravel())
    his = np.sort(hi[np.isfinite(hi) | np.isinf(hi)].ravel())

    def p_at(theta: np.ndarray) -> np.ndarray:
        # Hits = intervals with lo ≤ θ ≤ hi = #(lo ≤ θ) − #(hi < θ); slots never overlap.
        hits = np.searchsorted(los, theta, side="right") - np.searchsorted(his, theta, "left")
        hits = hits + n_always
        return hits / m if enumerated else (1 + hits) / (m + 1)

    bps = np.unique(np.concatenate([los[np.isfinite(los)], his[np.isfinite(his)]]))
    p0 = float(p_at(np.array([0.0]))[0])
    if bps.size == 0:
        accepted_all = bool(p_at(np.array([0.0]))[0] > alpha)
        return (p0, -np.inf, np.inf) if accepted_all else (p0, np.nan, np.nan)
    span = max(1.0, float(bps[-1] - bps[0]))
    mids = 0.5 * (bps[:-1] + bps[1:])
    left, right = bps[0] - span, bps[-1] + span
    ok_bp = p_at(bps) > alpha
    ok_mid = p_at(mids) > alpha
    ok_left = bool(p_at(np.array([left]))[0] > alpha)
    ok_right = bool(p_at(np.array([right]))[0] > alpha)
    if not (ok_bp.any() or ok_mid.any() or ok_left or ok_right):
        return p0, np.nan, np.nan
    # The set's infimum/supremum is a breakpoint (sets are unions of segments between
    # breakpoints), or infinite when accepted beyond the outermost breakpoint.
    if ok_left:
        low = -np.inf
    else:
        cand = [bps[ok_bp]] + [bps[:-1][ok_mid]]
        low = float(np.min(np.concatenate(cand)))
    if ok_right:
        high = np.inf
    else:
        cand = [bps[ok_bp]] + [bps[1:][ok_mid]]
        high = float(np.max(np.concatenate(cand)))
    return p0, low, high


def t_pvalue(t: np.ndarray | float, df: float | None) -> np.ndarray:
    """Two-sided p-value of t against t(df) (normal when ``df`` is None)."""
    t = np.abs(np.asarray(t, dtype=float))
    if df is None:
        return 2 * stats.norm.sf(t)
    return 2 * stats.t.sf(t, df)


def t_quantile(level: float, df: float | None) -> float:
    """Two-sided critical value at ``level``."""
    if df is None:
        return float(stats.norm.ppf(0.5 + level / 2))
    return float(stats.t.ppf(0.5 + level / 2, df))
