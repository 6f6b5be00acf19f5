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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sahel_eval.errors import Problem
from sahel_eval.survey_outcomes import outcome_units

__all__ = ["SUBGROUP_VARIABLES", "subgroup_problems"]

#: The subgroup variables an analysis may split by (canonical survey columns).
SUBGROUP_VARIABLES = ("urban", "sex", "cluster_wealth_quintile")

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
    if variable not in SUBGROUP_VARIABLES:
        return f"'{variable}' is not a subgroup variable; use one of {list(SUBGROUP_VARIABLES)}"
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


def _unit_problems(key: str, variable: str, config: Mapping[str, Any]) -> list[Problem]:
    """A subgroup variable absent from the unit of a survey analysis's primary outcome."""
    units = outcome_units(config)
    primary = config["reporting"]["primary_outcomes"]
    problems = []
    for analysis in config["analyses"]:
        if analysis["data"] != "survey":
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
            problems += _unit_problems(key, sub["variable"], config)
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
