"""Methods a reviewer can rerun: per analysis, what produced its headline numbers.

Read from the estimates JSON (fits, settings, seeds) and the summary's lead estimator,
never typed: estimator and method, control group, base period, covariates, weights,
estimand, inference (G, G1, assignments, smallest p-value, attained level), draws and
seeds. Software versions are the provenance block's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["methods_rows"]


def methods_rows(
    specs: Sequence[Mapping[str, Any]],
    documents: Mapping[str, Mapping[str, Any]],
    lead: Mapping[str, str],
) -> list[dict[str, Any]]:
    """One row per analysis: its headline fit (first outcome) and the run's settings.

    Fields a fit does not have (a survey 2×2 has no control-group choice) are ``None``
    and read "—".
    """
    rows = []
    for spec in specs:
        doc = documents[spec["name"]]
        fits = doc["fits"]
        head = [f for f in fits if f["headline"]] or fits
        f = head[0]
        ri = f.get("randomization") or {}
        attained = [
            e["confidence_attained"]
            for e in doc["estimates"]
            if e["headline"] and e["outcome"] == f["outcome"] and e.get("confidence_attained")
        ]
        rows.append(
            {
                "analysis": spec["name"],
                "design": spec["design"],
                "estimator": f["estimator"],
                "lead": lead[spec["design"]],
                "method": f.get("method"),
                "control": f.get("control"),
                # A relative month (event study, −1) or a survey round's year.
                "base": f.get("ref") if f.get("ref") is not None else f.get("baseline"),
                "base_kind": "relative"
                if f.get("ref") is not None
                else ("year" if f.get("baseline") is not None else None),
                "covariates": f.get("covariates"),
                "weights": f.get("weights"),
                "estimand": f["fit"].split(":")[1],
                "outcome": f["outcome"],
                "variable": f["variable"],
                "inference": f["inference"],
                "cluster": f["cluster"],
                "g": f.get("clusters"),
                "g1": f.get("treated_clusters"),
                "assignments": ri.get("permutations", f.get("draws")),
                "statistic": ri.get("statistic"),
                "p_min": f.get("p_min"),
                "attained": min(attained) if attained else None,
                "n": f["n"],
                "n_dropped": f["n_dropped"],
                "draws": {k: doc["settings"][k] for k in ("bootstrap_draws", "wild_draws")},
                "seeds": dict(doc["seeds"]),
                "sensitivity": dict(doc["settings"]["sensitivity"]),
            }
        )
    return rows
