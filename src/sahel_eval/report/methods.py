"""Methods a reviewer can rerun: per analysis, what produced its headline numbers.

Read from the estimates JSON (fits, settings, seeds) and the summary's lead estimator,
never typed: estimator and method, control group, base period, covariates, weights,
estimand, inference (G, G1, assignments, smallest p-value, attained level), draws and
seeds. Software versions are the provenance block's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["lead_fit", "methods_rows"]


def lead_fit(fits: Sequence[Mapping[str, Any]], lead: str) -> Mapping[str, Any]:
    """The fit behind the number the summary leads with: of the first headline
    outcome, the lead estimator's fit, preferring (as the summary does,
    ``report.brief._pick_overall``) a headline fit, then the assignment level; without
    a fit of the lead estimator, the first headline fit. Robustness fits never lead."""
    main = [f for f in fits if not f.get("robustness")]
    head = [f for f in main if f["headline"]] or main
    outcome = head[0]["outcome"]
    led = [f for f in main if f["outcome"] == outcome and f["estimator"] == lead]
    if not led:
        return head[0]
    return sorted(led, key=lambda f: (not f["headline"], f["cluster"] != "district"))[0]


def _control(f: Mapping[str, Any]) -> str | None:
    """The control group's code: the fit's own, else what the design implies (a survey
    2×2 compares with the areas without the programme)."""
    if f.get("control"):
        return str(f["control"])
    return "untreated_areas" if f["estimator"] == "did_2x2" else None


def _base(f: Mapping[str, Any]) -> tuple[Any, str | None]:
    """The base period and its kind: a relative month (event study, −1), a survey
    round's year, or Callaway–Sant'Anna's month g−1 (``cs_varying`` / ``cs_universal``,
    the fit's ``base_period``)."""
    if f.get("ref") is not None:
        return f["ref"], "relative"
    if f.get("baseline") is not None:
        return f["baseline"], "year"
    if f["estimator"] == "callaway_santanna" and f.get("base_period"):
        return f["base_period"], f"cs_{f['base_period']}"
    return None, None


def methods_rows(
    specs: Sequence[Mapping[str, Any]],
    documents: Mapping[str, Mapping[str, Any]],
    lead: Mapping[str, str],
) -> list[dict[str, Any]]:
    """One row per analysis: the fit behind its lead number (:func:`lead_fit`) and the
    run's settings.

    Fields a fit does not have are ``None`` and read "—"; covariates are ``[]`` when
    the fit adjusts for none (it reads "none").
    """
    rows = []
    for spec in specs:
        doc = documents[spec["name"]]
        f = lead_fit(doc["fits"], lead[spec["design"]])
        ri = f.get("randomization") or {}
        attained = [
            e["confidence_attained"]
            for e in doc["estimates"]
            if e["outcome"] == f["outcome"]
            and e["estimator"] == f["estimator"]
            and e["cluster"] == f["cluster"]
            and (e["headline"] or not f["headline"])
            and not e.get("robustness")
            and e.get("confidence_attained")
        ]
        base, base_kind = _base(f)
        rows.append(
            {
                "analysis": spec["name"],
                "design": spec["design"],
                "estimator": f["estimator"],
                "lead": lead[spec["design"]],
                "method": f.get("method"),
                "control": _control(f),
                "base": base,
                "base_kind": base_kind,
                "covariates": list(f.get("covariates") or []),
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
