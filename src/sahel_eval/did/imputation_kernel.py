"""Compiled row loops of the imputation estimator's refits
(:mod:`~sahel_eval.did.imputation_scores`).

Each loop does what a chain of ``np.compress`` / ``np.bincount`` / sparse product calls
did, with the same floating-point operations in the same order (sums in row order, as
``np.bincount`` adds; products before sums; no fused multiply-add, numba's default), so
the results are bit-identical — in one pass over the rows instead of one per step and
outcome, each allocating a rows-sized temporary (most of a randomisation refit's time).
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np

from sahel_eval.compiled import compiled


def _untreated_seen(
    treated: np.ndarray,
    unit: np.ndarray,
    period: np.ndarray,
    seen_u: np.ndarray,
    seen_p: np.ndarray,
) -> None:
    """Mark in ``seen_u`` and ``seen_p`` the units and periods of the untreated rows."""
    for r in range(treated.shape[0]):
        if not treated[r]:
            seen_u[unit[r]] = True
            seen_p[period[r]] = True


def _untreated_weights(
    treated: np.ndarray,
    u: np.ndarray,
    p: np.ndarray,
    w: np.ndarray,
    cross: np.ndarray,
    wu: np.ndarray,
    wp: np.ndarray,
) -> None:
    """Add the untreated rows' weights ``w`` to ``cross`` (units × periods, by design
    codes ``u``, ``p``), ``wu`` (per unit) and ``wp`` (per period)."""
    for r in range(treated.shape[0]):
        if treated[r]:
            continue
        cross[u[r], p[r]] += w[r]
        wu[u[r]] += w[r]
        wp[p[r]] += w[r]


def _untreated_sums(
    ys: np.ndarray,
    treated: np.ndarray,
    u: np.ndarray,
    p: np.ndarray,
    w: np.ndarray,
    by_unit: np.ndarray,
    by_period: np.ndarray,
) -> None:
    """Add Z'W y of the untreated rows (J outcomes ``ys``, J × rows) to ``by_unit``
    (units × J) and ``by_period`` (periods × J): weighted sums per design code ``u``, ``p``."""
    n_j = ys.shape[0]
    for r in range(treated.shape[0]):
        if treated[r]:
            continue
        for j in range(n_j):
            x = ys[j, r] * w[r]
            by_unit[u[r], j] += x
            by_period[p[r], j] += x


def _treated_sums(
    ys: np.ndarray,
    row: np.ndarray,
    col: np.ndarray,
    w: np.ndarray,
    u: np.ndarray,
    p: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    total: np.ndarray,
    v1: np.ndarray,
    tau: np.ndarray,
    est: np.ndarray,
    by_unit: np.ndarray,
    by_period: np.ndarray,
) -> None:
    """The aggregation of the (``row``, target ``col``) pairs, in place: per target the
    total weight ``total``; per pair its weight v = w / total of its target (``v1``) and
    τ̂ = y − (a_u + b_p) of each outcome (``tau``, J × pairs); per outcome and target
    Σ v·τ̂ (``est``); Σ v by design unit × target (``by_unit``) and period × target
    (``by_period``)."""
    n_j = ys.shape[0]
    for i in range(row.shape[0]):
        total[col[i]] += w[row[i]]
    for i in range(row.shape[0]):
        r, k = row[i], col[i]
        t = total[k]
        v = w[r] / (t if t > 0 else 1.0)
        v1[i] = v
        for j in range(n_j):
            e = ys[j, r] - (a[j, u[r]] + b[j, p[r]])
            tau[j, i] = e
            est[j, k] += v * e
        by_unit[u[r], k] += v
        by_period[p[r], k] += v


def _residual_sums(
    ys: np.ndarray,
    treated: np.ndarray,
    u: np.ndarray,
    p: np.ndarray,
    w: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    cl: np.ndarray,
    pair: np.ndarray,
    n_p: int,
    by_cl_period: np.ndarray,
    by_pair: np.ndarray,
) -> None:
    """Add w·ε̃ = w·(y − (a_u + b_p)) of the untreated rows (effects ``a``: J × units,
    ``b``: J × periods) to ``by_cl_period`` (J × clusters·``n_p``, by cluster ``cl`` ×
    period) and ``by_pair`` (J × pairs, by (cluster, unit) pair ``pair``)."""
    n_j = ys.shape[0]
    for r in range(treated.shape[0]):
        if treated[r]:
            continue
        at = cl[r] * n_p + p[r]
        for j in range(n_j):
            e = (ys[j, r] - (a[j, u[r]] + b[j, p[r]])) * w[r]
            by_cl_period[j, at] += e
            by_pair[j, pair[r]] += e


def _cluster_scores(
    tau: np.ndarray,
    v1: np.ndarray,
    sw: np.ndarray,
    by_cell: np.ndarray,
    n_cells: int,
    den: np.ndarray,
    cl1: np.ndarray,
    col: np.ndarray,
    by_pair: np.ndarray,
    pair_cl: np.ndarray,
    pair_u: np.ndarray,
    a_u: np.ndarray,
    score: np.ndarray,
) -> None:
    """One outcome's cluster scores (clusters × targets), in place: ``score`` holds the
    untreated rows' period part Σ w·ε̃·a_p and becomes
    (treated part − unit part) − period part.

    Treated part: Σ v·(τ̂ − τ̄) by (cluster, target) over the (row, target) pairs, τ̄ the
    cell average Σ sw·τ̂ / ``den`` (0 where ``den`` is 0) of the pair's group ``by_cell``.
    Unit part: Σ over a cluster's (cluster, unit) pairs, in the order given (by unit,
    as a CSR product adds them), of its w·ε̃ sum ``by_pair`` times ``a_u`` of the unit.
    """
    n_cl, n_k = score.shape
    num = np.zeros(n_cells)
    for i in range(tau.shape[0]):
        num[by_cell[i]] += sw[i] * tau[i]
    treated = np.zeros((n_cl, n_k))
    for i in range(tau.shape[0]):
        d = den[i]
        avg = num[by_cell[i]] / d if d != 0 else 0.0
        treated[cl1[i], col[i]] += v1[i] * (tau[i] - avg)
    unit = np.zeros((n_cl, n_k))
    for q in range(pair_cl.shape[0]):
        g, x = pair_cl[q], by_pair[q]
        for k in range(n_k):
            unit[g, k] += x * a_u[pair_u[q], k]
    for g in range(n_cl):
        for k in range(n_k):
            score[g, k] = (treated[g, k] - unit[g, k]) - score[g, k]


@functools.cache
def kernels() -> SimpleNamespace:
    """The loops of this module compiled (:func:`~sahel_eval.compiled.compiled`), by
    name without the leading underscore."""
    loops = (
        _untreated_seen,
        _untreated_weights,
        _untreated_sums,
        _treated_sums,
        _residual_sums,
        _cluster_scores,
    )
    return SimpleNamespace(**{f.__name__[1:]: compiled(f)() for f in loops})
