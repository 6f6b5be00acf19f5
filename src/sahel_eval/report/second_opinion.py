"""Imputation beside Callaway–Sant'Anna in the technical report (DESIGN §6.2).

Picks, from an analysis's estimates JSON, the overall rows of the two staggered
estimators (assignment level and by facility) and the comparison the DiD stage wrote
(:func:`~sahel_eval.did.analyses.imputation_fits.compare_with_cs`); nothing is computed
here. The partial ``second_opinion.html.j2`` formats them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["second_opinion"]

_ESTIMATORS = ("callaway_santanna", "imputation")


def second_opinion(doc: Mapping[str, Any], outcome: str) -> dict[str, Any] | None:
    """``{"rows": [...], "comparison": {...}}`` for ``outcome``, or None without an
    imputation fit (designs other than staggered)."""
    fits = [
        f
        for f in doc["fits"]
        if f["estimator"] == "imputation" and f["outcome"] == outcome and "comparison" in f
    ]
    if not fits:
        return None
    rows = [
        e
        for e in doc["estimates"]
        if e["outcome"] == outcome
        and e["estimator"] in _ESTIMATORS
        and e["aggregation"] == "simple"
        and e["robustness"] is None
    ]
    # CS first, assignment level first within each estimator.
    rows.sort(key=lambda e: (_ESTIMATORS.index(e["estimator"]), e["conditional"]))
    return {"rows": rows, "comparison": fits[0]["comparison"]}
