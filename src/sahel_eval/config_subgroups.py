"""Config check of ``did.subgroups``: only characteristics the programme cannot move.

DESIGN §4: a subgroup must be fixed before the programme started, or out of its reach.
Scheme membership (mutuals, RAMED, AMO, any insurance) is what the programme moves —
an outcome, never a subgroup; splitting by it compares members the programme recruited
with the rest. Wealth measured after the start (consumption, a household's own
wealth quintile in a later round, out-of-pocket spending) may itself respond to cheaper
care. What is left: residence (``urban``), ``sex`` and the asset-based wealth quintile
of the cluster (``cluster_wealth_quintile``).

A subgroup variable must also exist in the table (unit) of every primary outcome of
every survey analysis it splits: ``urban`` where ``survey.variables.<unit>.urban`` is
named, ``sex`` where ``survey.variables.<unit>.sex`` is (DHS ``b4`` of births and
children; the women's recode holds women only, one group), the cluster's wealth
quintile where the household recode keeps ``hv270``. Otherwise the estimate stage
would stop on a missing column; the config check says so first.

Facility analyses split by ``facility_urban`` only: the CSCOM's residence, from the
facility list's type (``did.facility_residence``), which no financing programme moves.
A subgroup applies to the analyses of its variable's data (``analyses`` narrows them);
naming an analysis of the other data is refused. A facility split needs both groups
among the CSCOMs of the analysis's area: :func:`facility_group_problems` checks it
against the facility list (``make check``; the estimate stage refuses it too), so
an all-urban area (Bamako's communes) is refused by name rather than split into one
group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from sahel_eval.errors import Problem
from sahel_eval.survey_outcomes import outcome_units

__all__ = [
    "FACILITY_SUBGROUP_VARIABLES",
    "SUBGROUP_VARIABLES",
    "facility_group_problems",
    "facility_residence",
    "subgroup_problems",
    "subgroups_for",
]

#: The subgroup variables a survey analysis may split by (canonical survey columns).
SUBGROUP_VARIABLES = ("urban", "sex", "cluster_wealth_quintile")
#: The subgroup variables a facility analysis may split by (panel columns).
FACILITY_SUBGROUP_VARIABLES = ("facility_urban",)


def _data_of(variable: str) -> str:
    return "facility" if variable in FACILITY_SUBGROUP_VARIABLES else "survey"


def subgroups_for(
    spec: Mapping[str, Any], subgroups: Mapping[str, Mapping[str, Any]]
) -> dict[str, Mapping[str, Any]]:
    """The subgroups of ``did.subgroups`` that split analysis ``spec``: those of its data
    (survey or facility variable), narrowed by each subgroup's ``analyses``."""
    return {
        name: sub
        for name, sub in sorted(subgroups.items())
        if _data_of(sub["variable"]) == spec["data"]
        and spec["name"] in sub.get("analyses", [spec["name"]])
    }


def facility_residence(types: pd.Series, residence: Mapping[str, Any]) -> pd.Series:
    """``facility_urban`` of facility types (a pandas Series): True for the types of
    ``residence["urban"]``, False for those of ``residence["rural"]``, NA otherwise."""
    out = pd.Series(pd.NA, index=types.index, dtype="boolean")
    out[types.isin(list(residence["rural"])).to_numpy(dtype=bool)] = False
    out[types.isin(list(residence["urban"])).to_numpy(dtype=bool)] = True
    return out


#: What to do when an area's CSCOMs fill only one group (make check and the estimate stage).
FACILITY_GROUP_HINT = (
    "an area whose CSCOMs are all urban (or all rural) cannot be split by residence: "
    "name the analyses to split under did.subgroups.<name>.analyses, or map the facility "
    "types under did.facility_residence (config/README.md)."
)


def facility_group_problems(config: Mapping[str, Any], facilities: pd.DataFrame) -> list[Problem]:
    """Facility subgroups with an empty group in the area of an analysis they split.

    ``facilities`` is the master list (``district`` and ``type`` columns); rule
    ``facility_subgroup_both_groups``.
    """
    residence = facility_residence(facilities["type"], config["did"]["facility_residence"])
    problems = []
    for analysis in config["analyses"]:
        area = config["areas"].get(analysis["area"])
        if area is None:
            continue
        here = facilities["district"].isin(list(area["districts"])).to_numpy(dtype=bool)
        for name, sub in subgroups_for(analysis, config["did"]["subgroups"]).items():
            if sub["variable"] != "facility_urban":
                continue
            for group in sub["groups"]:
                n = int(residence[here].isin(list(group["values"])).fillna(False).sum())
                if n == 0:
                    problems.append(
                        Problem(
                            f"did.subgroups.{name}.groups",
                            "facility_subgroup_both_groups",
                            f"analysis '{analysis['name']}' (area {analysis['area']}) has "
                            f"no CSCOM in group '{group['name']}' (facility_urban in "
                            f"{list(group['values'])}, did.facility_residence): its "
                            "CSCOMs cannot be split by residence; list the analyses the "
                            f"subgroup splits under did.subgroups.{name}.analyses",
                        )
                    )
    return problems


#: Wealth measured after the start, by canonical or DHS name.
_POST_TREATMENT_WEALTH = (
    "wealth_quintile",
    "wealth_label",
    "hv270",
    "v190",
    "consumption",
    "shconso",
    "oop",
    "shoop",
    "oop_share",
)
_SCHEME_WORDS = ("scheme", "mutual", "mutuelle", "insurance", "coverage", "ramed", "amo")


def _scheme_names(config: Mapping[str, Any]) -> set[str]:
    coverage = config["survey"]["scheme_coverage"]
    names = set(coverage) | {entry["variable"] for entry in coverage.values()}
    return names | {"any_insurance", "coverage_none", "v481"}


def _reason(variable: str, config: Mapping[str, Any]) -> str | None:
    low = variable.lower()
    if low in _scheme_names(config) or any(w in low for w in _SCHEME_WORDS):
        return (
            f"'{variable}' is scheme membership: the programme moves it, so it is an "
            "outcome, never a subgroup (DESIGN §4)"
        )
    if low in _POST_TREATMENT_WEALTH:
        return (
            f"'{variable}' is wealth measured after the start, which cheaper care can "
            "move (DESIGN §4); use cluster_wealth_quintile (asset-based, of the cluster)"
        )
    if variable in config["did"]["outcomes"]:
        return f"'{variable}' is an outcome (did.outcomes): the programme may move it"
    allowed = [*SUBGROUP_VARIABLES, *FACILITY_SUBGROUP_VARIABLES]
    if variable not in allowed:
        return f"'{variable}' is not a subgroup variable; use one of {allowed}"
    return None


def _absent_in_unit(variable: str, unit: str, config: Mapping[str, Any]) -> str | None:
    """Why the survey table of ``unit`` has no usable ``variable`` (None: it has one)."""
    variables = config["survey"]["variables"].get(unit)
    if variables is None:
        return f"the config names no {unit} table (survey.variables.{unit})"
    if variable == "sex" and unit == "women":
        return (
            "the women's table holds women only (sex is female for every respondent), "
            "so a split by sex has one group"
        )
    if variable in ("urban", "sex") and not variables.get(variable):
        return (
            f"the {unit} table has no {variable} item: survey.variables.{unit}.{variable} "
            "is null" + (" (births, children: DHS b4)" if variable == "sex" else "")
        )
    if variable == "cluster_wealth_quintile":
        households = config["survey"]["variables"].get("households") or {}
        if "hv270" not in households.get("covariates", []):
            return (
                "the cluster's wealth quintile needs the households' asset quintile "
                "(hv270 under survey.variables.households.covariates)"
            )
    return None


def _scope_problems(key: str, sub: Mapping[str, Any], config: Mapping[str, Any]) -> list[Problem]:
    """``analyses`` naming an unknown analysis or one of the other data."""
    data = {a["name"]: a["data"] for a in config["analyses"]}
    want = _data_of(sub["variable"])
    problems = []
    for name in sub.get("analyses", []):
        if name not in data:
            why = f"'{name}' is not a configured analysis (analyses[].name)"
        elif data[name] != want:
            why = (
                f"analysis '{name}' is a {data[name]} analysis; '{sub['variable']}' splits "
                f"{want} analyses only"
            )
        else:
            continue
        problems.append(Problem(f"{key}.analyses", "subgroup_analysis_data", why))
    return problems


def _unit_problems(key: str, sub: Mapping[str, Any], config: Mapping[str, Any]) -> list[Problem]:
    """A subgroup variable absent from the unit of a survey analysis's primary outcome."""
    variable = sub["variable"]
    units = outcome_units(config)
    primary = config["reporting"]["primary_outcomes"]
    problems = []
    for analysis in config["analyses"]:
        if analysis["data"] != "survey" or _data_of(variable) != "survey":
            continue
        if analysis["name"] not in sub.get("analyses", [analysis["name"]]):
            continue
        for outcome in primary.get(analysis["name"], []):
            if outcome not in units:
                continue  # an unknown survey outcome is named by the cleaning stage
            reason = _absent_in_unit(variable, units[outcome], config)
            if reason:
                problems.append(
                    Problem(
                        f"{key}.variable",
                        "subgroup_variable_in_unit",
                        f"analysis '{analysis['name']}' splits its primary outcome "
                        f"'{outcome}' ({units[outcome]}) by '{variable}', but {reason}; "
                        "remove the subgroup or the outcome from "
                        f"reporting.primary_outcomes.{analysis['name']}",
                    )
                )
    return problems


def subgroup_problems(config: Mapping[str, Any]) -> list[Problem]:
    """Problems of ``did.subgroups``: refused variables, variables absent from the
    table of a primary outcome they split, groups that overlap, labels missing a
    report language."""
    problems: list[Problem] = []
    languages = config["reporting"]["languages"]
    for name, sub in sorted(config["did"]["subgroups"].items()):
        key = f"did.subgroups.{name}"
        reason = _reason(sub["variable"], config)
        if reason:
            problems.append(Problem(f"{key}.variable", "unmovable_subgroup", reason))
        else:
            problems += _scope_problems(key, sub, config) + _unit_problems(key, sub, config)
        first, second = (list(g["values"]) for g in sub["groups"])
        shared = [v for v in first if v in second]
        if shared:
            problems.append(
                Problem(f"{key}.groups", "disjoint_groups", f"values {shared} are in both groups")
            )
        if sub["groups"][0]["name"] == sub["groups"][1]["name"]:
            problems.append(Problem(f"{key}.groups", "distinct_names", "both groups share a name"))
        for where, label in [("label", sub["label"])] + [
            (f"groups.{g['name']}.label", g["label"]) for g in sub["groups"]
        ]:
            missing = [lang for lang in languages if lang not in label]
            if missing:
                problems.append(
                    Problem(f"{key}.{where}", "language_labels", f"no label for {missing}")
                )
    return problems
