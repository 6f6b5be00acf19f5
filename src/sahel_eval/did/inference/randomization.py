"""Randomisation inference permuting roll-out dates over clusters, and its exact CI.

Generic over the estimator: it takes an *estimate function* ``assignment -> estimate(s)``
that re-estimates the model under a placebo assignment of roll-out dates to clusters.

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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.inference import TIE, resolve_seed

__all__ = [
    "RandomizationResult",
    "linear_randomization_ci",
    "randomization_inference",
]


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
    hits = (np.abs(placebo) >= np.abs(actual)[None, :] * (1 - TIE)).sum(axis=0)
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
    rounding, which must count, as ``TIE`` elsewhere) and draws with NaN estimates
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
