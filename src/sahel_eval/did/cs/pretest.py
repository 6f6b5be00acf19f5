"""Wald pre-test of a Callaway–Sant'Anna fit: every pre-treatment ATT(g, t) is zero.

The covariance is checked before it is inverted (DESIGN §6.1). Rank alone is not
enough: a cluster-robust covariance of q coefficients is estimated from G cluster sums,
i.e. G − 1 degrees of freedom, and when q approaches G − 1 its smallest eigenvalues are
noise close to zero. Under normal, identically distributed cluster sums the statistic
is then Hotelling's T², with mean q(G − 1)/(G − q − 2) instead of the χ² reference's q.
On the demo's Bamako panel (q = 45 pre-period cells, G = 48 facilities) the matrix had
full rank 45 but a condition number of 6·10^5–6·10^6, and 65–99 % of W (10^4–3·10^5)
came from its one smallest eigen-direction: an artefact, not evidence. So the test is
given only when q ≤ (G − 1)/2 (the χ² reference then understates W's scale by less than
a factor of about 2) and the condition number is below :data:`MAX_CONDITION`; otherwise
no statistic, with ``reason`` ``covariance_near_singular`` and the numbers that decided.
"""

from __future__ import annotations

import numpy as np

from sahel_eval.stats.covariance import covariance_rank
from sahel_eval.stats.distributions import chi2_sf

#: Largest condition number (of the correlation matrix, so free of units) inverted.
MAX_CONDITION = 1e8


def _condition(v: np.ndarray) -> float:
    d = np.sqrt(np.diag(v))
    if not np.all(d > 0):
        return float("inf")
    ev = np.linalg.eigvalsh(v / np.outer(d, d))
    return float(ev.max() / ev.min()) if ev.min() > 0 else float("inf")


def _wald_pretest(
    att: np.ndarray,
    gram: np.ndarray,
    n: int,
    g: np.ndarray,
    t: np.ndarray,
    anticipation: int,
    se: np.ndarray,
    clusters: int,
) -> dict[str, float | int | str | None] | None:
    """Wald test of H0: every pre-treatment ATT(g,t) = 0 (as R did's ``W``, ``Wpval``).

    Uses the analytic (clustered, when requested) covariance even after a bootstrap;
    cells with zero variance (universal base cells) are left out. ``clusters`` is G, the
    number of clusters (units when not clustered) the covariance is estimated from.
    """
    pre = np.flatnonzero((g - anticipation > t) & np.isfinite(se))
    if pre.size == 0:
        return None
    v = gram[np.ix_(pre, pre)] / n**2
    rank = covariance_rank(v)
    dropped = int(np.sum((g - anticipation > t) & ~np.isfinite(se)))
    base = {"df": int(pre.size), "rank": rank, "clusters": int(clusters), "dropped_cells": dropped}
    if rank < pre.size:
        # Not invertible at this cluster level (rank ≤ clusters − 1): no statistic.
        return {**base, "stat": None, "p": None, "reason": "covariance_rank_deficient"}
    condition = _condition(v)
    base["condition_number"] = condition
    if 2 * pre.size > clusters - 1 or condition > MAX_CONDITION:
        return {**base, "stat": None, "p": None, "reason": "covariance_near_singular"}
    stat = float(att[pre] @ np.linalg.solve(v, att[pre]))
    return {**base, "stat": stat, "p": float(chi2_sf(stat, pre.size))}
