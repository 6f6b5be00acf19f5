"""Studentised randomisation inference for linear estimators, and its exact interval.

DESIGN §6.1: the assignment-level headline with few treated districts is randomisation
inference (RI) on the studentised statistic t = θ̂ / se, se clustered by facility
(MacKinnon & Webb 2020).  Intervals invert the test of a constant additive effect θ.

For an estimator linear in the outcome, the placebo estimate under assignment m on
the outcome with the effect θ removed (Y − θD, D the actual exposure) is
``b_m − θ c_m`` (``b_m`` on Y, ``c_m`` on D), and its cluster-robust variance is a
quadratic in θ, ``V_m(θ) = A_m − 2θ B_m + θ² C_m`` (cluster scores are linear in the
outcome: ``s_g(θ) = s_g^Y − θ s_g^D``, so ``A = κΣ(s^Y)², B = κΣ s^Y s^D,
C = κΣ(s^D)²``).  Assignment m counts as at least as extreme as the actual one (0) when

    (b_m − θ c_m)² V_0(θ) − (b_0 − θ c_0)² V_m(θ) ≥ 0,

a polynomial of degree ≤ 4 in θ.  p(θ) is therefore a step function whose steps lie at
the real roots of those polynomials; it is evaluated at every root, between roots and
beyond them, so the accepted set {θ : p(θ) > α} is found exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "StudentizedRI",
    "ci_note",
    "attained_level",
    "rejection_alpha",
    "studentized_ri",
    "variance_pieces",
]

_CHUNK = 2_000_000  # assignments × evaluation points per block


@dataclass(frozen=True)
class StudentizedRI:
    """One quantity's studentised RI: p of θ = 0, the inverted interval and its level.

    ``ci_low``/``ci_high`` are ±inf when the accepted set is unbounded on that side and
    both NaN when it is empty; ``t`` is the actual studentised statistic.
    """

    estimate: float
    t: float
    p: float
    ci_low: float
    ci_high: float
    p_min: float
    confidence_attained: float


def ci_note(low: float, high: float) -> str | None:
    """``ci_note`` of a test-inversion interval (None when bounded on both sides)."""
    if np.isnan(low) and np.isnan(high):
        return "empty"
    if np.isinf(low) and np.isinf(high):
        return "unbounded"
    if np.isinf(low):
        return "unbounded_below"
    if np.isinf(high):
        return "unbounded_above"
    return None


def rejection_alpha(level: float) -> float:
    """α = 1 − level, rounded so that p-values that are multiples of 1/M compare exactly."""
    return round(1.0 - level, 12)


def attained_level(level: float, permutations: int, *, enumerated: bool) -> float:
    """Attained confidence level of an RI interval at nominal ``level``.

    p-values are multiples of 1/M (enumerated, M assignments) or of 1/(B + 1) (B random
    draws), and H0 is rejected when p ≤ α, so the size is ⌊αM⌋/M: with M = 28 and
    α = 5 % the interval covers with probability 1 − 1/28 = 96.4 %.  Rounded to 3
    decimals (a tenth of a percent).
    """
    m = permutations if enumerated else permutations + 1
    k = math.floor(rejection_alpha(level) * m + 1e-9)
    return round(1.0 - k / m, 3)


def variance_pieces(
    scores_y: np.ndarray, scores_d: np.ndarray, factor: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A, B, C)`` of V(θ) = A − 2θB + θ²C from cluster scores (assignments × clusters)."""
    sy = np.atleast_2d(scores_y)
    sd = np.atleast_2d(scores_d)
    return (
        factor * np.einsum("mg,mg->m", sy, sy),
        factor * np.einsum("mg,mg->m", sy, sd),
        factor * np.einsum("mg,mg->m", sd, sd),
    )


def _coefficients(
    b: np.ndarray, c: np.ndarray, v: tuple[np.ndarray, ...], b0: float, c0: float, v0: tuple
) -> np.ndarray:
    """Ascending coefficients (M × 5) of (b − θc)² V0(θ) − (b0 − θc0)² V(θ)."""
    a_, bb, cc = v
    a0, bb0, cc0 = v0
    sq = np.stack([b * b, -2 * b * c, c * c], axis=1)  # (b − θc)²
    sq0 = np.array([b0 * b0, -2 * b0 * c0, c0 * c0])
    var = np.stack([a_, -2 * bb, cc], axis=1)
    var0 = np.array([a0, -2 * bb0, cc0])
    out = np.zeros((len(b), 5))
    for i in range(3):
        for j in range(3):
            out[:, i + j] += sq[:, i] * var0[j] - sq0[i] * var[:, j]
    return out


def _real_roots(coef: np.ndarray) -> np.ndarray:
    """Real roots of every polynomial (rows of ascending coefficients), concatenated.

    Coefficients below 1e-13 of the row's largest are dropped from the top; rows left
    with fewer than two are skipped.  Each row is solved as ``np.roots`` does (exact
    zeros at the bottom are roots at 0, the rest the eigenvalues of the companion
    matrix), with all rows of one degree in one batched eigenvalue call.
    """
    scale = np.abs(coef).max(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    norm = coef / scale
    big = np.abs(norm) > 1e-13
    keep = big.sum(axis=1) >= 2
    norm, big = norm[keep], big[keep]
    top = norm.shape[1] - 1 - np.argmax(big[:, ::-1], axis=1)
    low = np.argmax(norm != 0, axis=1)
    roots = [np.zeros(int(low.sum()), dtype=complex)]
    degree = top - low
    for d in np.unique(degree):
        rows = np.flatnonzero(degree == d)
        desc = norm[rows[:, None], top[rows][:, None] - np.arange(d + 1)[None, :]]
        companion = np.zeros((len(rows), d, d))
        companion[:, 0, :] = -desc[:, 1:] / desc[:, :1]
        companion[:, np.arange(1, d), np.arange(d - 1)] = 1.0
        roots.append(np.linalg.eigvals(companion).ravel())
    r = np.concatenate(roots)
    return r.real[np.abs(r.imag) <= 1e-9 * np.maximum(1.0, np.abs(r.real))]


def studentized_ri(
    b: np.ndarray,
    c: np.ndarray,
    var: tuple[np.ndarray, np.ndarray, np.ndarray],
    b0: float,
    c0: float,
    var0: tuple[float, float, float],
    *,
    enumerated: bool,
    level: float = 0.95,
) -> StudentizedRI:
    """Studentised RI p-value of θ = 0 and the exact test-inversion interval.

    Parameters
    ----------
    b, c
        Placebo estimates on Y and on D, one per assignment (enumerated: every
        assignment, the actual one included; otherwise random draws without it).
    var
        ``(A, B, C)`` per assignment: V_m(θ) = A − 2θB + θ²C (:func:`variance_pieces`).
    b0, c0, var0
        The same for the actual assignment (``c0`` is 1 when D measures the quantity).
    enumerated
        p = hits / M when enumerated, (1 + hits) / (B + 1) otherwise.
    level
        Nominal confidence level.

    Returns
    -------
    StudentizedRI
    """
    b = np.asarray(b, float)
    c = np.asarray(c, float)
    var = tuple(np.asarray(x, float) for x in var)
    m = len(b)
    alpha = rejection_alpha(level)
    p_min = 1.0 / m if enumerated else 1.0 / (m + 1)
    se0 = math.sqrt(var0[0]) if var0[0] > 0 else float("nan")
    t0 = b0 / se0 if se0 > 0 else float("nan")
    scale_b = max(abs(b0), float(np.nanmax(np.abs(b))) if m else 0.0, 1e-300)
    scale_c = max(abs(c0), float(np.nanmax(np.abs(c))) if m else 0.0, 1e-300)
    scale_v = max(abs(var0[0]), 1e-300)
    same = (
        (np.abs(b - b0) <= 1e-9 * scale_b)
        & (np.abs(c - c0) <= 1e-9 * scale_c)
        & (np.abs(var[0] - var0[0]) <= 1e-9 * scale_v)
    )
    finite = np.isfinite(b) & np.isfinite(c) & np.all([np.isfinite(x) for x in var], axis=0)
    always = same | ~finite
    live = ~always
    coef = _coefficients(b[live], c[live], tuple(x[live] for x in var), b0, c0, var0)
    n_always = int(always.sum())

    def p_at(theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_1d(np.asarray(theta, float))
        hits = np.full(theta.shape, n_always, dtype=float)
        step = max(1, _CHUNK // max(1, len(coef)))
        powers_all = theta[None, :] ** np.arange(5)[:, None]
        for s in range(0, len(theta), step):
            vals = coef @ powers_all[:, s : s + step]
            tol = 1e-10 * (np.abs(coef) @ np.abs(powers_all[:, s : s + step]))
            hits[s : s + step] += (vals >= -tol).sum(axis=0)
        return hits / m if enumerated else (1 + hits) / (m + 1)

    p0 = float(p_at(np.array([0.0]))[0])
    bps = np.unique(_real_roots(coef))
    if bps.size == 0:
        ok = bool(p_at(np.array([0.0]))[0] > alpha)
        lo, hi = (-np.inf, np.inf) if ok else (np.nan, np.nan)
    else:
        span = max(1.0, float(bps[-1] - bps[0]))
        mids = 0.5 * (bps[:-1] + bps[1:])
        ok_bp = p_at(bps) > alpha
        ok_mid = p_at(mids) > alpha if mids.size else np.zeros(0, bool)
        ok_left = bool(p_at(np.array([bps[0] - span]))[0] > alpha)
        ok_right = bool(p_at(np.array([bps[-1] + span]))[0] > alpha)
        if not (ok_bp.any() or ok_mid.any() or ok_left or ok_right):
            lo = hi = np.nan
        else:
            lo = -np.inf if ok_left else float(np.min(np.r_[bps[ok_bp], bps[:-1][ok_mid]]))
            hi = np.inf if ok_right else float(np.max(np.r_[bps[ok_bp], bps[1:][ok_mid]]))
    return StudentizedRI(
        estimate=float(b0),
        t=float(t0),
        p=p0,
        ci_low=float(lo),
        ci_high=float(hi),
        p_min=p_min,
        confidence_attained=attained_level(level, m, enumerated=enumerated),
    )
