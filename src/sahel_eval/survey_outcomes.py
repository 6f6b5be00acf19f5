"""Which canonical survey table (unit) holds each survey outcome, from the config alone.

The cleaning stage derives the outcomes (:mod:`sahel_eval.clean.survey_recodes`); the
config check needs to know their units without importing it (``make check`` and the
Snakefile stay light): a subgroup variable must exist in the unit of every primary
outcome it splits (:mod:`sahel_eval.config_subgroups`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["OUTCOMES", "outcome_units"]

#: Derived outcomes per unit (names as in truth.json -> surveys).
OUTCOMES = {
    "households": ("oop_any", "catastrophic_spending", "forgone_care_cost"),
    "women": ("any_insurance", "mutual_membership", "coverage_none"),
    "births": ("facility_delivery", "skilled_birth_attendance", "anc_bp_measured"),
    "children": ("fever", "fever_care", "fever_care_24h", "diarrhoea"),
}


def outcome_units(config: Mapping[str, Any]) -> dict[str, str]:
    """Outcome name -> unit: the derived outcomes, the configured extra catastrophic
    thresholds (households) and scheme items (women), and each unit's raw outcome
    variables (``survey.variables.<unit>.outcomes``, glob patterns left out)."""
    survey = config["survey"]
    units: dict[str, str] = {}
    for unit, spec in survey["variables"].items():
        for name in spec.get("outcomes", []):
            if not any(ch in name for ch in "*?["):
                units[name] = unit
    for unit, names in OUTCOMES.items():
        units.update(dict.fromkeys(names, unit))
    units.update(dict.fromkeys(survey["catastrophic_thresholds"], "households"))
    units.update(dict.fromkeys(survey["scheme_coverage"], "women"))
    return units
