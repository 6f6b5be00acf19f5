"""Persistence of a programme's effect after its end (DESIGN §8), the one implementation.

``persistence = mean calendar-time ATT over the months after the end ÷ mean over the
last months before it (or all treated months, if fewer)``, both windows ``months``
long (config ``sustainability.persistence_months``, 24), the "after" window cut at the
end of the data. The standard error is the delta method on the calendar aggregation's
influence functions (DESIGN §8) and the interval Fieller's set on the same influence
functions with a small-sample t critical value
(:meth:`~sahel_eval.did.cs.aggregate.AggregateResult.ratio`,
:mod:`sahel_eval.did.fieller`), at the cluster level of the ``att_gt`` fit it comes
from. The symmetric delta-method interval covered the planted ratio in 87.5–95 % of
synthetic replicates for Djantoli's 8 treated CSCOMs; Fieller's, 94.5–97.5 %.

The DiD analyses call it for every fit; the sustainability tables read those records
from the estimates documents, so the report's two readings of persistence are the
same numbers.
"""

from __future__ import annotations

from typing import Any

from sahel_eval.did.cs.aggregate import AggregateResult

__all__ = ["PERSISTENCE_MONTHS", "persistence_ratio"]

#: DESIGN §8 default window length.
PERSISTENCE_MONTHS = 24


def persistence_ratio(
    cal: AggregateResult,
    *,
    end_t: int,
    first_t: int,
    last_t: int,
    months: int = PERSISTENCE_MONTHS,
    level: float | None = None,
) -> dict[str, Any]:
    """Persistence ratio of one outcome from its calendar aggregation.

    Parameters
    ----------
    cal
        ``att_gt(...).aggregate("calendar")``.
    end_t
        Last month (``t``) of the programme.
    first_t
        First exposed month of any cohort: the "during" window starts no earlier.
    last_t
        Last month of the data: the "after" window ends no later.
    months
        Window length.
    level
        Confidence level; default the fit's.

    Returns
    -------
    dict
        ``end_t``, ``during_t`` / ``after_t`` (first and last ``t`` of each window),
        ``n_during``, ``after_months``, ``estimate``, ``se`` (delta method), ``df``,
        ``ci_low``, ``ci_high`` (Fieller; infinite when unbounded), ``ci_note``,
        ``ci_set`` (the exact Fieller set as ``[low, high]`` pieces, ±inf for rays),
        ``p_vs_1``, ``att_after`` / ``att_during`` with SEs, ``inference``, ``cluster``,
        ``clusters``, ``treated_clusters`` and ``warnings`` (codes:
        ``persistence_unavailable`` when a window is empty, ``persistence_short_window``
        when fewer than ``months`` months follow the end).
    """
    times = set(cal.table["time"].dropna().astype(int))
    during = [t for t in range(max(first_t, end_t - months + 1), end_t + 1) if t in times]
    after = [t for t in range(end_t + 1, min(last_t, end_t + months) + 1) if t in times]
    info = cal.info
    base = {
        "cluster": info.get("cluster", "unit"),
        "clusters": info.get("clusters"),
        "treated_clusters": info.get("treated_clusters"),
        "end_t": int(end_t),
        "during_t": [during[0], during[-1]] if during else None,
        "after_t": [after[0], after[-1]] if after else None,
        "n_during": len(during),
        "after_months": len(after),
        "method": "Fieller set and delta-method SE on calendar-aggregation influence "
        "functions, t critical value with Welch-Satterthwaite df",
    }
    if not during or not after:
        return {
            **base,
            "estimate": None,
            "warnings": [{"code": "persistence_unavailable", "params": {}}],
        }
    ratio = cal.ratio(after, during, level=level)
    row = ratio.table.iloc[0]
    warns = []
    if len(after) < months:
        warns.append({"code": "persistence_short_window", "params": {"months": len(after)}})
    return {
        **base,
        "estimate": float(row["estimate"]),
        "se": float(row["se"]),
        "df": float(row["df"]),
        "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]),
        "ci_note": row["ci_note"],
        "ci_set": [list(piece) for piece in row["ci_set"]],
        "p_vs_1": float(row["p_vs_1"]),
        "att_after": float(row["numerator"]),
        "se_after": float(row["se_numerator"]),
        "att_during": float(row["denominator"]),
        "se_during": float(row["se_denominator"]),
        "inference": ratio.info["inference"],
        "warnings": warns,
    }
