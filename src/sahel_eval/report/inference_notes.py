"""What the technical report says beside the headline numbers: robustness rows, the
Holm family of each analysis and confidence sets that are not one interval.

Every number is the DiD stage's (``results/estimates/*.json``,
``results/sustainability/persistence.csv``); this module only picks and lays them out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "confidence_set",
    "holm_note",
    "persistence_notes",
    "spillover_block",
    "split_robustness",
]


def split_robustness(
    rows: Sequence[dict[str, Any]], doc: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]:
    """``rows`` without robustness rows, the balanced-subsample ones, and their facts.

    Robustness rows sit beside a headline and set no verdict, so they leave the
    estimate table and get one line of their own.
    """
    main = [r for r in rows if not r.get("robustness")]
    robust = [r for r in rows if r.get("robustness") == "balanced_subsample"]
    return main, robust, _robustness_facts(doc, "balanced_subsample")


def spillover_block(
    rows: Sequence[dict[str, Any]], doc: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The spillover robustness rows of one outcome and their facts, or ``None``.

    The rows without the comparison CSCOMs of ``did.spillover_exclude``; the facts name
    the districts they came from and how many CSCOMs remain.
    """
    spill = [r for r in rows if r.get("robustness") == "spillover_excluded"]
    if not spill:
        return None
    return {"rows": spill, "facts": _robustness_facts(doc, "spillover_excluded")}


def _robustness_facts(doc: Mapping[str, Any], subsample: str) -> dict[str, Any] | None:
    return next(
        (
            f["robustness"]
            for f in doc["fits"]
            if (f.get("robustness") or {}).get("subsample") == subsample
        ),
        None,
    )


def confidence_set(pieces: str | Sequence[Sequence[float | None]] | None) -> dict[str, Any]:
    """A confidence set in words' terms: ``kind`` and its ends.

    ``kind``: ``interval`` (low, high), ``at_least`` (low), ``at_most`` (high),
    ``two_rays`` (at most ``high``, or at least ``low``), ``any`` (the whole line),
    ``empty``, or ``none`` (no set written). An unbounded set is never one number.
    """
    if pieces is None or (isinstance(pieces, float) and pieces != pieces):
        return {"kind": "none"}
    sets = json.loads(pieces) if isinstance(pieces, str) else pieces
    if not sets:
        return {"kind": "empty"}
    if len(sets) == 2 and sets[0][0] is None and sets[1][1] is None:
        return {"kind": "two_rays", "high": sets[0][1], "low": sets[1][0]}
    low, high = sets[0][0], sets[-1][1]
    if low is None and high is None:
        return {"kind": "any"}
    if low is None:
        return {"kind": "at_most", "high": high}
    if high is None:
        return {"kind": "at_least", "low": low}
    return {"kind": "interval", "low": low, "high": high}


def holm_note(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The analysis's Holm family: its size, the smallest adjusted p it can reach."""
    mt = doc["multiple_testing"]
    return {
        "primary": list(mt["primary_outcomes"]),
        "family_size": mt["family_size"],
        "p_min_adjusted": mt["p_min_adjusted"],
        "can_reject": mt["can_reject"],
    }


def persistence_notes(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One methods line per programme: the Conley–Taber facts of its headline rows."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        if not r.get("headline") or r.get("inference") != "conley_taber":
            continue
        note = out.setdefault(
            r["programme"],
            {
                "programme": r["programme"],
                "treated": r.get("treated_clusters"),
                "controls": r.get("control_clusters"),
                "permutations": r.get("permutations"),
                "p_min": r.get("p_min"),
                "attained": r.get("confidence_attained"),
                "not_informative": True,
            },
        )
        note["not_informative"] &= r.get("verdict") == "not_informative"
    return list(out.values())
