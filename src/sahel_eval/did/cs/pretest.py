"""Wald pre-test of a Callaway–Sant'Anna fit: every pre-treatment ATT(g, t) is zero."""

from __future__ import annotations

import numpy as np
from scipy import stats

from sahel_eval.stats.covariance import covariance_rank


def _wald_pretest(
    att: np.ndarray,
    gram: np.ndarray,
    n: int,
    g: np.ndarray,
    t: np.ndarray,
    anticipation: int,
    se: np.ndarray,
) -> dict[str, float | int | str | None] | None:
    """Wald test of H0: every pre-treatment ATT(g,t) = 0 (as R did's ``W``, ``Wpval``).

    Uses the analytic (clustered, when requested) covariance even after a bootstrap;
    cells with zero variance (universal base cells) are left out.
    """
    pre = np.flatnonzero((g - anticipation > t) & np.isfinite(se))
    if pre.size == 0:
        return None
    v = gram[np.ix_(pre, pre)] / n**2
    rank = covariance_rank(v)
    dropped = int(np.sum((g - anticipation > t) & ~np.isfinite(se)))
    if rank < pre.size:
        # Not invertible at this cluster level (rank ≤ clusters − 1): no statistic.
        return {
            "stat": None,
            "df": int(pre.size),
            "p": None,
            "rank": rank,
            "reason": "covariance_rank_deficient",
            "dropped_cells": dropped,
        }
    stat = float(att[pre] @ np.linalg.solve(v, att[pre]))
    return {
        "stat": stat,
        "df": int(pre.size),
        "p": float(stats.chi2.sf(stat, pre.size)),
        "rank": rank,
        "dropped_cells": dropped,
    }
