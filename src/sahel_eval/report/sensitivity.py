"""Sensitivity to parallel trends in the reports: picks the stage's rows, computes nothing.

The did stage writes, per event study, HonestDiD intervals (``sensitivity``) and
breakdown values (``breakdown``) to the estimates JSON (DESIGN §6.1). The technical
report shows one row per event study and target; the brief says, for its first
facility outcome, the relative-magnitudes breakdown of the average effect in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sahel_eval.figures.event_time import reading_scale

__all__ = ["brief_sensitivity", "sensitivity_lines", "sensitivity_rows"]

TARGETS = ("on_impact", "average_post")


def _digits(value: float | None) -> int:
    """Decimals that show a value of two significant digits (0.098 → 3, 1.5 → 1, 0 → 0)."""
    if value is None or value == 0:
        return 0
    return max(0, 1 - math.floor(math.log10(abs(value))))


def _breakdown(b: Mapping[str, Any] | None, scale: float = 1.0) -> dict[str, Any] | None:
    if b is None:
        return None
    value = b["value"] if b["value"] is None else b["value"] * scale
    return {
        "value": value,
        "beyond": bool(b["beyond_grid"]),
        "direction": b["direction"],
        "digits": _digits(value),
    }


def _index(doc: Mapping[str, Any], key: str) -> dict[tuple[str, str, str], Any]:
    return {(r["fit"], r["target"], r["restriction"]): r for r in doc[key]}


def sensitivity_rows(
    specs: Sequence[Mapping[str, Any]], documents: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One row per analysed event study and target, in config order.

    Each row: ``analysis, outcome, estimator, target``, the interval with no drift
    allowed (``low0, high0``: ``M̄ = 0``), ``rm`` and ``sd`` breakdowns (``value,
    beyond, direction, digits``) and ``reason`` when the stage computed no bounds.
    The interval and the smoothness breakdown M are in the outcome's reading unit
    (proportions in percentage points, as in its block); M̄ has none.
    """
    rows = []
    for spec in specs:
        doc = documents[spec["name"]]
        if "sensitivity_inputs" not in doc:
            continue
        breakdown = _index(doc, "breakdown")
        bounds = {
            (r["fit"], r["target"]): r
            for r in doc["sensitivity"]
            if r["restriction"] == "relative_magnitude" and r["parameter"] == 0
        }
        for study in doc["sensitivity_inputs"]:
            scale = reading_scale(doc["units"][study["outcome"]])
            for target in TARGETS:
                fit = study["fit"]
                at0 = bounds.get((fit, target))
                rows.append(
                    {
                        "analysis": spec["name"],
                        "outcome": study["outcome"],
                        "estimator": study["estimator"],
                        "target": target,
                        "low0": None if at0 is None else at0["lower"] * scale,
                        "high0": None if at0 is None else at0["upper"] * scale,
                        "rm": _breakdown(breakdown.get((fit, target, "relative_magnitude"))),
                        "sd": _breakdown(breakdown.get((fit, target, "smoothness")), scale),
                        "reason": study.get("reason"),
                    }
                )
    return rows


def brief_sensitivity(doc: Mapping[str, Any] | None, outcome: str | None) -> dict[str, Any] | None:
    """The relative-magnitudes breakdown of ``outcome``'s average effect, for one sentence.

    The event study is the analysis's own estimator (Callaway–Sant'Anna for a staggered
    roll-out, the TWFE event study for a single start). None when the stage wrote none.
    """
    if doc is None or outcome is None or "sensitivity_inputs" not in doc:
        return None
    estimator = doc["analysis"]["estimator"]
    fits = [
        s["fit"]
        for s in doc["sensitivity_inputs"]
        if s["outcome"] == outcome and s["estimator"] == estimator and not s.get("reason")
    ]
    if not fits:
        return None
    b = _index(doc, "breakdown").get((fits[0], "average_post", "relative_magnitude"))
    out = _breakdown(b)
    if out is None:
        return None
    months = int(doc["settings"]["sensitivity"]["window_post"]) + 1
    return {**out, "outcome": outcome, "months": months}


def sensitivity_lines(
    specs: Sequence[Mapping[str, Any]],
    documents: Mapping[str, Mapping[str, Any]],
    primary: Mapping[str, Sequence[str]],
) -> list[dict[str, Any]]:
    """:func:`brief_sensitivity` of each facility analysis's first primary outcome."""
    lines = []
    for spec in specs:
        first = next(iter(primary.get(spec["name"], ())), None)
        if spec["data"] == "facility" and first is not None:
            line = brief_sensitivity(documents[spec["name"]], first)
            if line is not None:
                lines.append(line)
    return lines
