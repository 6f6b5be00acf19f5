"""The programme brief of one area: ``reports/brief_{area}_{lang}.{html,pdf}``.

One or two printed A4 pages for the ministry, the UTM, district health teams and NGOs:
what the programme changed in the use of care, how the CSCOMs held up through each
shock, and which mutual-insurance indicators need watching. Every number is read from
a results file (estimates JSON, resilience aggregates and comparison, mutual KPIs,
persistence); this module only picks the rows.

Uncertainty in words
--------------------
Each effect carries the ``verdict`` the DiD stage wrote on its assignment-level
headline row (DESIGN §6.1): ``increase_shown``, ``decrease_shown``,
``no_large_effect``, ``not_shown`` or ``not_informative``. The brief translates the
code; it never decides one ("not shown" is never "no effect"). Each number is shown
with its assignment-level interval and attained confidence level when one exists;
when the verdict is ``not_informative`` no assignment-level interval exists, and the
facility-level interval, if any, is shown labelled conditional (valid only if no
district-level shock hit the treated districts). The PDF is printed by
:mod:`sahel_eval.report.pdf`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sahel_eval.figures.event_time import reading_scale
from sahel_eval.report.brief_sections import (
    _num,
    _ym,
    kpi_watch,
    resilience_rows,
    survey_groups,
)
from sahel_eval.report.mutual_areas import mutuals_of_area
from sahel_eval.report.provenance import Provenance
from sahel_eval.report.render import render_report
from sahel_eval.report.sensitivity import brief_sensitivity
from sahel_eval.report.shocks import national_kinds

__all__ = [
    "VERDICTS",
    "brief_context",
    "headline_effects",
    "kpi_watch",
    "render_brief",
    "resilience_rows",
]

TEMPLATE = "brief.html.j2"

#: The DiD stage's headline verdict codes (DESIGN §6.1) the brief translates; a row
#: without one (no assignment-level row) reads ``conditional_only``.
VERDICTS = (
    "increase_shown",
    "decrease_shown",
    "no_large_effect",
    "not_shown",
    "not_informative",
    "conditional_only",
)

# How many effects get a big-number card; the others are listed in one line each.
N_CARDS = 3

_OVERALL_CS = "simple"
_OVERALL_TWFE = "static"
_SURVEY_AGG = re.compile(r"^(\d{4})_vs_(\d{4})$")


def stage_verdict(row: Mapping[str, Any]) -> str:
    """The verdict code the DiD stage wrote on ``row``; ``conditional_only`` when none.

    A conditional (facility-level, design-based) row has no verdict: a conditional
    interval never sets one (DESIGN §6.1).
    """
    code = row.get("verdict")
    return code if isinstance(code, str) and code in VERDICTS else "conditional_only"


def _overall_rows(estimates: Sequence[Mapping[str, Any]], outcome: str) -> list[dict]:
    """Rows that summarise the whole effect of one outcome (no event time, no cohort)."""
    out = []
    for r in estimates:
        if r["outcome"] != outcome or r.get("robustness"):
            continue
        agg = str(r["aggregation"])
        if agg in (_OVERALL_CS, _OVERALL_TWFE) or _SURVEY_AGG.match(agg):
            out.append(dict(r))
    return out


def _pick_overall(rows: list[dict], assignment_cluster: str | None, lead: str) -> dict | None:
    # The config's leading estimator first (reporting.lead_estimator), then the headline
    # row the DiD stage marked, then the assignment level. The verdict stays the
    # assignment-level one (see headline_effects).
    def rank(r: dict) -> tuple:
        return (
            r["estimator"] != lead,
            not r["headline"],
            r["cluster"] != assignment_cluster,
        )

    if not rows:
        return None
    survey = [r for r in rows if _SURVEY_AGG.match(str(r["aggregation"]))]
    if survey:
        # Baseline against the last round: "by the end of the programme".
        last = max(int(_SURVEY_AGG.match(str(r["aggregation"])).group(2)) for r in survey)
        rows = [r for r in survey if int(_SURVEY_AGG.match(str(r["aggregation"])).group(2)) == last]
    return sorted(rows, key=rank)[0]


def _conditional_twin(rows: list[dict], row: Mapping[str, Any]) -> dict | None:
    """The conditional row of the same estimand (facility-clustered, design-based)."""
    twins = [
        r
        for r in rows
        if r.get("conditional")
        and (r["estimator"], r["aggregation"]) == (row["estimator"], row["aggregation"])
        and _num(r.get("ci_low")) is not None
        and _num(r.get("ci_high")) is not None
    ]
    order = {"facility_id": 0, "psu": 1}
    return min(twins, key=lambda r: order.get(r["cluster"], 9)) if twins else None


def _ci_digits(bounds: Sequence[float | None], digits: int) -> int:
    """One more decimal when a non-zero bound would read as 0 (an interval shown as
    "between 0.0 and 0.9" beside "not shown" would confuse a reader)."""
    tiny = any(b is not None and b != 0 and round(b, digits) == 0 for b in bounds)
    return digits + 1 if tiny else digits


def _design_verdict(rows: list[dict], row: Mapping[str, Any]) -> str:
    """The verdict of a lead row the DiD stage gave none (a conditional row).

    ``not_informative`` is a property of the design (the smallest attainable p-value at
    the assignment level), so it holds for every estimator of the outcome; any other
    assignment-level verdict belongs to its own estimator, and the lead row then reads
    ``conditional_only``.
    """
    codes = {stage_verdict(r) for r in rows if r["headline"]}
    return "not_informative" if codes == {"not_informative"} else stage_verdict(row)


def headline_effects(doc: Mapping[str, Any], lead: Mapping[str, str]) -> list[dict[str, Any]]:
    """The overall effect of each outcome of one analysis, with its verdict code.

    Parameters
    ----------
    doc
        ``results/estimates/{analysis}.json`` as loaded.
    lead
        Design -> the estimator whose overall row leads (``reporting.lead_estimator``).

    Returns
    -------
    list of dict
        One per outcome, in config order: ``outcome, data, value, low, high, digits, ci_digits,
        sign, verdict, attained, mde, conditional, treated_clusters, clusters, baseline,
        round``. ``verdict`` is the DiD stage's code; ``low``/``high`` the
        assignment-level interval (``None`` when not informative); ``conditional`` the
        conditional interval (``value, low, high``) shown instead when the verdict is
        ``not_informative``. Numbers are in readers' units (``unit``, the DiD stage's):
        facility indicators per 1,000 inhabitants per month, survey outcomes and
        quality-of-care ratios in percentage points.
    """
    spec = doc["analysis"]
    estimates = doc["estimates"]
    headline_clusters = {r["cluster"] for r in estimates if r["headline"]}
    assignment = next(iter(sorted(headline_clusters)), None)
    out = []
    for outcome in spec["outcomes"]:
        rows = _overall_rows(estimates, outcome)
        row = _pick_overall(rows, assignment, lead[spec["design"]])
        if row is None or _num(row["estimate"]) is None:
            continue
        unit = doc["units"][outcome]
        points = unit == "proportion"
        scale = reading_scale(unit)
        value = float(row["estimate"]) * scale
        # Plain reading: whole points for large changes, one decimal otherwise.
        digits = 0 if points and abs(value) >= 10 else 1
        rounded = round(value, digits)
        match = _SURVEY_AGG.match(str(row["aggregation"]))
        verdict = _design_verdict(rows, row)

        def scaled(r: Mapping[str, Any], key: str, scale: float = scale) -> float | None:
            v = _num(r.get(key))
            return None if v is None else v * scale

        twin = (
            _conditional_twin(rows, row)
            if verdict in ("not_informative", "conditional_only")
            else None
        )
        # A lead row without its own verdict is conditional: its interval is shown only
        # as the conditional one, never as an assignment-level interval.
        own = stage_verdict(row) != "conditional_only"
        bounds = [scaled(r, k) for r in (row, twin or {}) for k in ("ci_low", "ci_high")]
        out.append(
            {
                "outcome": outcome,
                "data": spec["data"],
                "unit": unit,
                "value": value,
                "low": scaled(row, "ci_low") if own else None,
                "high": scaled(row, "ci_high") if own else None,
                "attained": _num(row.get("confidence_attained")),
                "mde": scaled(row, "mde"),
                "digits": digits,
                "ci_digits": _ci_digits(bounds, digits),
                "sign": "+" if rounded > 0 else "",
                "verdict": verdict,
                # A shown primary result that Holm's adjustment does not confirm.
                "holm_p": _num(row.get("p_holm")) if row.get("holm_rejected") is False else None,
                "conditional": None
                if twin is None
                else {
                    "value": scaled(twin, "estimate"),
                    "low": scaled(twin, "ci_low"),
                    "high": scaled(twin, "ci_high"),
                },
                "treated_clusters": row["treated_clusters"],
                "clusters": row["clusters"],
                "cluster": row["cluster"],
                "estimator": row["estimator"],
                "aggregation": row["aggregation"],
                "baseline": match.group(1) if match else None,
                "round": match.group(2) if match else None,
            }
        )
    return out


def _analysis_caveats(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Warnings a brief reader must know: few treated clusters, trends before.

    Only an assignment-level pre-test the DiD stage judged ``pretrend_rejected`` counts;
    facility-level pre-tests are conditional (district shocks alone make them reject).
    """
    fits = doc["fits"]
    head = [f for f in fits if f.get("headline")]
    treated = sorted({f["treated_clusters"] for f in head if f.get("treated_clusters") is not None})
    clusters = sorted({f["clusters"] for f in head if f.get("clusters") is not None})
    pretrend = sorted(
        {
            f["outcome"]
            for f in fits
            if (f.get("pretest") or {}).get("verdict") == "pretrend_rejected"
            and not (f.get("pretest") or {}).get("conditional", True)
        }
    )
    return {
        "treated_clusters": treated[0] if treated else None,
        "clusters": clusters[0] if clusters else None,
        "cluster": head[0]["cluster"] if head else None,
        "pretrend_outcomes": pretrend,
        "n_outcomes": len(doc["analysis"]["outcomes"]),
    }


def _persistence_line(
    persistence: pd.DataFrame, area: str, effects: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """How much of the first increase shown remained after the funding ended.

    The headline is the assignment-level (Conley–Taber) row and its verdict; the
    facility-level Fieller interval beside it is conditional and sets no verdict
    (DESIGN §6.1). An unbounded Fieller set is said as such, never as a number.
    """
    rates = [e for e in effects if e["unit"] == "per_1000_month"]
    shown = [e for e in rates if e["verdict"] == "increase_shown"]
    if not shown or persistence.empty:
        return None
    rows = persistence[
        (persistence["area"] == area)
        & (persistence["indicator"] == shown[0]["outcome"])
        & (persistence["status"] == "ok")
    ]
    head = rows[rows["headline"].astype(bool)]
    cond = rows[rows["conditional"].astype(bool)]
    if head.empty or cond.empty:
        return None
    r, h = cond.iloc[0], head.iloc[0]
    est = _num(r["estimate"])
    if est is None:
        return None
    low, high = _num(r["ci_low"]), _num(r["ci_high"])
    return {
        "outcome": shown[0]["outcome"],
        "verdict": h["verdict"],
        "ratio": est,
        "low": low,
        "high": high,
        "bounded": low is not None and high is not None,
        "end_month": _ym(r["end_month"]),
        "months": int(r["n_after"]),
    }


def brief_context(
    *,
    area: str,
    config: Mapping[str, Any],
    estimates: Sequence[Mapping[str, Any]],
    aggregates: pd.DataFrame,
    shocks: pd.DataFrame,
    comparison: Mapping[str, Any],
    kpis: pd.DataFrame,
    persistence: pd.DataFrame,
    lead: Mapping[str, str],
) -> dict[str, Any]:
    """Everything the brief shows, from results already loaded (see report.summary).

    Parameters
    ----------
    area
        Area key of the config (``mopti``, ``bamako``).
    config
        The validated config: ``areas``, ``resilience.essential_services`` and
        ``sustainability.kpi_thresholds`` are read.
    estimates
        Estimates JSON documents; those of other areas are ignored.
    aggregates, shocks, comparison
        The area's resilience results.
    kpis, persistence
        ``results/sustainability/mutual_kpis.csv`` and ``persistence.csv``.
    lead
        Design -> leading estimator (``reporting.lead_estimator``).
    """
    docs = [d for d in estimates if d["analysis"]["area"] == area]
    facility = next((d for d in docs if d["analysis"]["data"] == "facility"), None)
    survey = next((d for d in docs if d["analysis"]["data"] == "survey"), None)
    if facility is None and survey is None:
        raise ValueError(
            f"programme brief {area}: no analysis of this area in the estimates given; "
            "add one to config analyses or pass results/estimates/<analysis>.json"
        )
    fac_effects = headline_effects(facility, lead) if facility else []
    sur_effects = headline_effects(survey, lead) if survey else []
    # The brief shows the survey outcomes in three groups: use and quality of care, who
    # is covered (by scheme) and what care costs households.
    groups = survey_groups(sur_effects, config["survey"])
    programme = (facility or survey)["analysis"].get("programme", "")
    service = config["resilience"]["essential_services"][0]
    mutuals = mutuals_of_area(kpis["mutual"].unique(), area, config)
    return {
        "area": area,
        "area_label": dict(config["areas"][area]["label"]),
        "district_unit": dict(config["areas"][area]["district_unit"]),
        "region": config["areas"][area]["region"],
        "programme": programme,
        "cards": fac_effects[:N_CARDS],
        "more_effects": fac_effects[N_CARDS:],
        "survey_effects": sur_effects,
        "survey_groups": {k: [e["outcome"] for e in v] for k, v in groups.items()},
        "facility_caveats": _analysis_caveats(facility) if facility else None,
        "survey_caveats": _analysis_caveats(survey) if survey else None,
        "persistence": _persistence_line(persistence, area, fac_effects),
        "sensitivity": brief_sensitivity(
            facility, fac_effects[0]["outcome"] if fac_effects else None
        ),
        "service": service,
        "shocks": resilience_rows(
            aggregates,
            shocks,
            comparison,
            service,
            national_kinds(config),
        ),
        "recovery_threshold": float(config["resilience"]["recovery_threshold"]),
        "window_months": int(config["resilience"]["window_months"]),
        "interruption_months": int(config["resilience"]["interruption_months"]),
        "kpi": kpi_watch(kpis, mutuals, config["sustainability"]["kpi_thresholds"]),
    }


def read_estimates(paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Load estimates JSON documents (``results/estimates/{analysis}.json``)."""
    return [json.loads(Path(p).read_text("utf-8")) for p in paths]


def render_brief(
    summary: Mapping[str, Any],
    provenance: Provenance,
    lang: str,
    out_path: str | os.PathLike[str],
    *,
    synthetic: bool,
    support_rows: int,
    trends_figure: str | os.PathLike[str],
) -> Path:
    """Write ``reports/brief_{area}_{lang}.html`` from the area's summary and the brief's
    trends figure of ``lang`` (``results/figures/{lang}/resilience_{area}_trends_brief.svg``)."""
    prov = provenance.to_dict()
    short = {
        "code_version": prov["code_version"],
        "base_commit": prov["base_commit"],
        "config_hash": prov["config_hash"][:12],
        "n_inputs": len(prov["inputs"]),
    }
    area = summary["area"]
    full = {
        "summary": summary,
        "prov": short,
        "synthetic": synthetic,
        "support_rows": support_rows,
        # The attached file by its name: a path means nothing on paper.
        "support_file": f"{area}_support_{lang}.xlsx",
        "technical_href": f"technical_{area}_{lang}.html",
        "trends_figure": str(trends_figure),
    }
    return render_report(TEMPLATE, full, lang, out_path)
