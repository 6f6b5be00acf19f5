"""Imputation beside Callaway–Sant'Anna in the technical report (DESIGN §6.2).

Picks, from an analysis's estimates JSON, the overall rows of the two staggered
estimators (assignment level and by facility), their assignment-level (randomisation
inference) rows at the first post-start horizons — event times 0 … the sensitivity
window's ``window_post`` (``settings.sensitivity``, 5 months on the demo), the same
horizons for both — and the comparison the DiD stage wrote
(:func:`~sahel_eval.did.analyses.imputation_fits.compare_with_cs`); nothing is computed
here. The partial ``second_opinion.html.j2`` formats them. The imputation estimator has
no estimates before the start (its pre-trend test is a separate regression), so the
horizons are post-start only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["second_opinion"]

_ESTIMATORS = ("callaway_santanna", "imputation")


def _horizons(doc: Mapping[str, Any], outcome: str) -> list[dict[str, Any]]:
    """Per event time 0 … ``window_post``: the CS and imputation assignment-level rows."""
    window = ((doc.get("settings") or {}).get("sensitivity") or {}).get("window_post")
    if window is None:
        return []
    by_h: dict[int, dict[str, Any]] = {}
    for e in doc["estimates"]:
        h = e.get("event_time")
        if (
            e["outcome"] == outcome
            and e["estimator"] in _ESTIMATORS
            and e["aggregation"] == "dynamic"
            and e["robustness"] is None
            and not e["conditional"]
            and h is not None
            and 0 <= h <= window
        ):
            by_h.setdefault(int(h), {})[e["estimator"]] = e
    return [
        {"event_time": h, "cs": pair["callaway_santanna"], "imputation": pair["imputation"]}
        for h, pair in sorted(by_h.items())
        if set(pair) == set(_ESTIMATORS)
    ]


def second_opinion(doc: Mapping[str, Any], outcome: str) -> dict[str, Any] | None:
    """``{"rows": [...], "comparison": {...}, "horizons": [...]}`` for ``outcome``, or
    None without an imputation fit (designs other than staggered)."""
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
    horizons = _horizons(doc, outcome)
    attained = sorted(
        {
            r[k]["confidence_attained"]
            for r in horizons
            for k in ("cs", "imputation")
            if r[k]["confidence_attained"] is not None
        }
    )
    return {
        "rows": rows,
        "comparison": fits[0]["comparison"],
        "horizons": horizons,
        # One attained level when both estimators permute the same assignments.
        "horizons_attained": attained[0] if len(attained) == 1 else None,
    }
