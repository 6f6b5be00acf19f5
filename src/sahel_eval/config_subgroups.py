"""Config check of ``did.subgroups``: only characteristics the programme cannot move.

DESIGN §4: a subgroup must be fixed before the programme started, or out of its reach.
Scheme membership (mutuals, RAMED, AMO, any insurance) is what the programme moves —
an outcome, never a subgroup; splitting by it compares members the programme recruited
with the rest. Wealth measured after the start (consumption, a household's own
wealth quintile in a later round, out-of-pocket spending) may itself respond to cheaper
care. What is left: residence (``urban``), ``sex`` and the asset-based wealth quintile
of the cluster (``cluster_wealth_quintile``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sahel_eval.errors import Problem

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


def subgroup_problems(config: Mapping[str, Any]) -> list[Problem]:
    """Problems of ``did.subgroups``: refused variables, groups that overlap, labels
    missing a report language."""
    problems: list[Problem] = []
    languages = config["reporting"]["languages"]
    for name, sub in sorted(config["did"]["subgroups"].items()):
        key = f"did.subgroups.{name}"
        reason = _reason(sub["variable"], config)
        if reason:
            problems.append(Problem(f"{key}.variable", "unmovable_subgroup", reason))
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
