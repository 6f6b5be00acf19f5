"""The technical report of one area: ``reports/technical_{area}_{lang}.html`` (DESIGN §9).

Two steps, two rules, so every number a reader sees sits in a file a reviewer can open:

1. :mod:`sahel_eval.report.technical_tables` (rule ``report_tables``) lays the stages'
   results out as the area's report tables under ``results/tables/{area}/``.
2. :func:`technical_context` (rule ``technical_report``) reads those tables back (plus
   warnings and pre-trend tests from the estimates JSON) and picks what the template
   shows; nothing is estimated here. :func:`render_technical` writes the page.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sahel_eval.figures.event_time import event_rows, event_window, reading_scale
from sahel_eval.products import REPORT_TABLES
from sahel_eval.report.inference_notes import (
    holm_note,
    persistence_notes,
    spillover_block,
    split_robustness,
)
from sahel_eval.report.methods import methods_rows
from sahel_eval.report.provenance import Provenance
from sahel_eval.report.records import plain, records
from sahel_eval.report.render import render_audited_report
from sahel_eval.report.second_opinion import second_opinion
from sahel_eval.report.sensitivity import sensitivity_lines, sensitivity_rows
from sahel_eval.report.shocks import national_kinds
from sahel_eval.report.sustainability_rows import (
    kpi_register,
    persistence_rows,
    persistence_windows,
)
from sahel_eval.report.technical_tables import TechnicalSettings, area_analyses
from sahel_eval.resilience.example import pick_example

__all__ = [
    "read_documents",
    "render_technical",
    "technical_context",
]

TEMPLATE = "technical.html.j2"

#: Inference methods at the assignment level (districts / communes), DESIGN §6.1.
ASSIGNMENT_INFERENCE = frozenset({"wild", "randomization", "placebo"})


def _dedupe(warnings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One warning per code (the first one's parameters), in the order they came."""
    seen: dict[str, dict[str, Any]] = {}
    for w in warnings:
        seen.setdefault(w["code"], {"code": w["code"], "params": dict(w.get("params") or {})})
    return list(seen.values())


def shared_warnings(blocks: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Warnings every outcome block of an analysis carries, said once for it.

    Returns analysis name -> those warnings (same code and parameters), in their
    order; they are taken out of each block's ``warnings``, which keep their own.
    """
    by_analysis: dict[str, list[dict[str, Any]]] = {}
    for b in blocks:
        by_analysis.setdefault(b["analysis"], []).append(b)
    out = {}
    for name, group in by_analysis.items():
        common = [w for w in group[0]["warnings"] if all(w in b["warnings"] for b in group)]
        if len(group) < 2 or not common:
            continue
        out[name] = common
        for b in group:
            b["warnings"] = [w for w in b["warnings"] if w not in common]
    return out


def _verdict(row: Mapping[str, Any]) -> str | None:
    """The DiD stage's verdict code of an assignment-level row (DESIGN §6.1), as written.

    Conditional rows (facility-clustered, design-based, HC1) have none: a conditional
    interval never sets a verdict. The report translates the code; it decides nothing.
    """
    code = row.get("verdict")
    return code if isinstance(code, str) and code else None


def _all_not_informative(doc: Mapping[str, Any]) -> bool:
    """Every headline verdict of the analysis is ``not_informative``."""
    codes = {e.get("verdict") for e in doc["estimates"] if e.get("headline")} - {None}
    return codes == {"not_informative"}


def _estimate_blocks(
    spec: Mapping[str, Any],
    table: pd.DataFrame,
    doc: Mapping[str, Any],
    pretrends: pd.DataFrame,
    figures: Mapping[str, str],
    lead: Mapping[str, tuple[str, str]],
) -> list[dict[str, Any]]:
    """One block per outcome: rows per estimand × inference, warnings, pre-tests, figure.

    ``lead`` maps an outcome to the (estimator, aggregation) the summary leads with
    (``results/summary/{area}.json``), so the key results quote the brief's estimand.
    """
    blocks = []
    fit_warnings: dict[str, list[dict]] = {}
    for w in doc.get("warnings", []):
        fit_warnings.setdefault(w["fit"].split(":")[0], []).append(w)
    for outcome in spec["outcomes"]:
        unit = doc["units"][outcome]
        scale = reading_scale(unit)
        rows = records(table[(table["analysis"] == spec["name"]) & (table["outcome"] == outcome)])
        spillover = spillover_block(rows, doc)
        rows, robust, balanced = split_robustness(rows, doc)
        for r in rows + robust + (spillover["rows"] if spillover else []):
            for k in ("estimate", "ci_low", "ci_high", "mde"):
                r[f"{k}_shown"] = None if r.get(k) is None else r[k] * scale
            r["verdict"] = _verdict(r)
            r["assignment"] = r["inference"] in ASSIGNMENT_INFERENCE and not r["conditional"]
        groups: list[dict[str, Any]] = []
        for r in rows:
            key = (r["estimator"], r["aggregation"])
            if not groups or groups[-1]["key"] != key:
                groups.append(
                    {
                        "key": key,
                        "estimator": r["estimator"],
                        "aggregation": r["aggregation"],
                        "round": r["round"],
                        "rows": [],
                    }
                )
            groups[-1]["rows"].append(r)
        for g in groups:
            g.pop("key")
        head = [r for r in rows if r["headline"]]
        # The headline is assignment-level inference (DESIGN §6); when the table has no
        # headline row (the event study's headline is per event time), the first
        # assignment-level row stands in, never a facility-clustered one. The summary's
        # lead estimand comes first when it has such a row.
        assignment = [r for r in rows if r["assignment"]]
        key = lead.get(outcome)
        led = [r for r in rows if (r["estimator"], r["aggregation"]) == key]
        main = ([r for r in head + assignment if r in led] + head + assignment + rows + [None])[0]
        # A lead without assignment-level inference of its own: its (conditional) row is
        # quoted; the assignment-level row keeps only a "not informative" verdict, which
        # is a property of the design (see report.brief._design_verdict).
        lead_row = led[0] if led and main not in led else None
        if lead_row is not None and main is not None and main["verdict"] != "not_informative":
            main, lead_row = lead_row, None
        conditional = [r for r in rows if r["conditional"] and r["ci_low"] is not None]
        if lead_row is not None:
            conditional = [lead_row] + [r for r in conditional if r is not lead_row]
        elif main is not None:
            # Same estimand as the headline first, so the two numbers quoted side by
            # side differ only in their inference.
            same = [
                r
                for r in conditional
                if (r["estimator"], r["aggregation"]) == (main["estimator"], main["aggregation"])
            ]
            conditional = same + [r for r in conditional if r not in same]
        pre = records(
            pretrends[(pretrends["analysis"] == spec["name"]) & (pretrends["outcome"] == outcome)]
        )
        smallest = (doc.get("outcome_settings") or {}).get(outcome, {}).get("smallest_effect")
        # Synthetic DiD fits: weights, pre-period fit and window, as the stage wrote them.
        fits = doc.get("fits", [])
        synthetic = [f for f in fits if f["estimator"] == "synthdid" and f["outcome"] == outcome]
        planted = [r for r in doc["planted"] or [] if r["outcome"] == outcome]
        blocks.append(
            {
                "analysis": spec["name"],
                "outcome": outcome,
                "smallest_shown": None if smallest is None else float(smallest) * scale,
                "data": spec["data"],
                "unit": unit,
                "estimator": spec["estimator"],
                "primary": bool(rows and rows[0]["primary"]),
                "groups": groups,
                "main": main,
                "lead_row": lead_row,
                "conditional_row": conditional[0] if conditional else None,
                "headline_rows": head,
                "robustness": robust,
                "balanced": balanced,
                "spillover": spillover,
                "warnings": _dedupe(fit_warnings.get(outcome, [])),
                "pretests": pre,
                "figure": figures.get(f"{spec['name']}:{outcome}"),
                "subgroup_figure": figures.get(f"{spec['name']}:{outcome}:subgroups"),
                "synthetic": synthetic,
                "planted": planted,
                "imputation": second_opinion(doc, outcome),
                "has_conditional": any(r["conditional"] for r in rows),
                # Only an assignment-level pre-test can cast doubt on the headline; a
                # facility-level rejection is conditional (district shocks make every
                # such test reject) and is said as such.
                "pretrend_rejected": any(p["rejected"] and not p["conditional"] for p in pre),
                "pretrend_rejected_conditional": any(
                    p["rejected"] and p["conditional"] for p in pre
                ),
            }
        )
    return blocks


def _sdid_annex(weights: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The annex of synthetic DiD weights: per outcome and level, as the table holds them.

    ``results/tables/{area}/sdid_weights.csv`` (rule ``report_tables``) in its own order;
    nothing is recomputed. Unit labels are the table's names (CSCOM names from the data).
    Empty for an area without a synthetic DiD fit.
    """
    if weights is None or not len(weights):
        return []
    out: list[dict[str, Any]] = []
    for (analysis, outcome, level), g in weights.groupby(
        ["analysis", "outcome", "level"], sort=False
    ):
        units = g[g["kind"] == "unit"]
        months = g[g["kind"] == "time"]
        out.append(
            {
                "analysis": analysis,
                "outcome": outcome,
                "level": level,
                "units": [
                    {"label": str(n), "weight": float(w)}
                    for n, w in zip(units["name"], units["weight"], strict=True)
                ],
                "months": [
                    {"month": str(m), "weight": float(w)}
                    for m, w in zip(months["month"], months["weight"], strict=True)
                ],
            }
        )
    return out


def _figure_facts(
    event_time: pd.DataFrame, outcome: str, window: tuple[int, int], scale: float
) -> dict[str, Any]:
    """Numbers quoted in the alt text of an event-study figure (its window, its unit)."""
    rows, conditional = event_rows(event_time, outcome, window)
    e = rows["event_time"].to_numpy(dtype=float)
    pre = rows[e < 0]
    post = rows[e >= 0]
    outside = pre[(pre["ci_low"] > 0) | (pre["ci_high"] < 0)]
    return {
        "n_pre": len(pre),
        "n_post": len(post),
        "pre_outside": len(outside),
        "post_mean": plain(post["estimate"].mean() * scale) if len(post) else None,
        "conditional": conditional,
    }


def _shock_rows(
    tables: Mapping[str, pd.DataFrame], kinds: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """Shock id → the fields :func:`sahel_eval.report.shocks.shock_label` reads.

    National shocks get their kind (strike, pandemic) from the config: the tables say
    only ``national``.
    """
    out: dict[str, dict[str, Any]] = {}
    for name in ("resilience_classes", "resilience_comparison"):
        for r in records(tables[name]):
            if r["shock_id"] in out or "shock_kind" not in r:
                continue
            out[r["shock_id"]] = {
                "shock_id": r["shock_id"],
                "kind": kinds.get(r["shock_id"], r.get("shock_kind")),
                "district": r.get("shock_district"),
                "onset": r.get("onset"),
            }
    return out


def _resilience(
    tables: Mapping[str, pd.DataFrame],
    indicators: pd.DataFrame,
    names: Mapping[str, str],
    services: Sequence[str],
    kinds: Mapping[str, str],
) -> dict[str, Any]:
    classes = tables["resilience_classes"]
    districts = tables["resilience_districts"]
    service = services[0] if services else None
    shocks = []
    for shock_id, g in classes.groupby("shock_id", sort=False):
        first = g.iloc[0]
        services_rows = records(g)
        for r in services_rows:
            parts = [r.get("share_resilient"), r.get("share_recovered")]
            r["share_held"] = None if any(v is None for v in parts) else sum(parts)
        shocks.append(
            {
                "shock_id": shock_id,
                "kind": first["shock_kind"],
                "onset": first["onset"],
                "services": services_rows,
                "districts": records(
                    districts[
                        (districts["shock_id"] == shock_id) & (districts["service"] == service)
                    ]
                ),
            }
        )
    shocks.sort(key=lambda s: (s["onset"], s["shock_id"]))
    example = pick_example(indicators, service) if service else {}
    if example:
        row = indicators[
            (indicators["facility_id"] == example["facility_id"])
            & (indicators["shock_id"] == example["shock_id"])
            & (indicators["service"] == service)
        ]
        example = {
            **example,
            "facility": names.get(example["facility_id"], example["facility_id"]),
            "row": records(row)[0] if len(row) else None,
        }
    return {
        "service": service,
        "shocks": shocks,
        "shock_rows": _shock_rows(tables, kinds),
        "example": example,
        "comparison": records(tables["resilience_comparison"]),
    }


def technical_context(
    area: str,
    config: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    *,
    documents: Mapping[str, Mapping[str, Any]],
    event_time: Mapping[str, pd.DataFrame],
    dq: Mapping[str, Any],
    indicators: pd.DataFrame,
    facilities: pd.DataFrame,
    figures: Mapping[str, str | os.PathLike[str]],
    tables_dir: str,
    summary: Mapping[str, Any],
) -> dict[str, Any]:
    """Everything the technical template shows.

    Parameters
    ----------
    area
        ``mopti`` or ``bamako``.
    config
        Validated config.
    tables
        :func:`read_tables` output (``results/tables/{area}/*.csv``).
    documents, event_time
        Estimates JSON and event-time CSV per analysis of the area.
    dq
        :func:`sahel_eval.report.data_quality.data_quality_context` of the area.
    indicators
        ``results/resilience/{area}_indicators.csv`` (names the example facility).
    facilities
        Canonical master list (``facility_id, name``).
    figures
        ``"{analysis}:{outcome}"`` → DiD figure (``…:subgroups``: the forest figure of
        the subgroups); ``resilience_facility``,
        ``resilience_district``, ``resilience_tau``, ``mutual_kpis``, ``dq_attrition``.
    tables_dir
        Where the CSV / XLSX / LaTeX tables are, as shown to readers.
    summary
        ``results/summary/{area}.json``: the for-action part, shared with the brief.
    """
    settings = TechnicalSettings.from_config(config)
    specs = area_analyses(config, area)
    names = dict(
        zip(facilities["facility_id"].astype(str), facilities["name"].astype(str), strict=True)
    )
    blocks: list[dict[str, Any]] = []
    analyses = []
    fig_paths = {k: str(v) for k, v in figures.items()}
    effects = summary["cards"] + summary["more_effects"] + summary["survey_effects"]
    for spec in specs:
        doc = documents[spec["name"]]
        lead = {
            e["outcome"]: (e["estimator"], e["aggregation"])
            for e in effects
            if e["analysis"] == spec["name"]
        }
        b = _estimate_blocks(spec, tables["estimates"], doc, tables["pretrends"], fig_paths, lead)
        for block in b:
            for fit in block["synthetic"]:
                for w in fit["unit_weights"]:
                    w["label"] = names.get(w["unit"], w["unit"])
            if spec["data"] == "facility" and block["figure"]:
                block["figure_facts"] = _figure_facts(
                    event_time[spec["name"]],
                    block["outcome"],
                    event_window(doc),
                    reading_scale(block["unit"]),
                )
        blocks += b
        head = [f for f in doc["fits"] if f["headline"]]
        first = head[0] if head else doc["fits"][0]
        analyses.append(
            {
                "name": spec["name"],
                "programme": spec["programme"],
                "data": spec["data"],
                "design": spec["design"],
                "estimator": spec["estimator"],
                "outcomes": list(spec["outcomes"]),
                "primary": list(settings.primary[spec["name"]]),
                "clusters": first.get("clusters"),
                "treated_clusters": first.get("treated_clusters"),
                "headline_inference": first.get("inference"),
                "n_fits": len(doc["fits"]),
                "holm": holm_note(doc),
                "draws": {f["inference"]: f.get("draws") for f in doc["fits"] if f.get("draws")},
                # The headline fits' own: a robustness fit on fewer districts (spillover
                # rows, 7 of 8: p_min 1/21) is not what the methods sentence describes.
                "p_min": max(
                    (f["p_min"] for f in head if f.get("p_min") is not None), default=None
                ),
                # Read from the stage's verdicts, not decided here.
                "not_informative": _all_not_informative(doc),
                "confidence_attained": min(
                    (
                        e["confidence_attained"]
                        for e in doc["estimates"]
                        if e.get("headline") and e.get("confidence_attained") is not None
                    ),
                    default=None,
                ),
            }
        )
    shared = shared_warnings(blocks)
    primary = [b for b in blocks if b["primary"]]
    secondary = [b for b in blocks if not b["primary"]]
    pre = tables["pretrends"]
    ok = pre[pre["status"] == "ok"]
    inv = tables["inventory"]
    fac = inv[inv["source"] == "facility_panel"]
    surveys = inv[inv["source"] != "facility_panel"]
    cells = tables["survey_cells"]
    programme_names = sorted({s["programme"] for s in specs})
    cell_rows = records(cells) if len(cells) else []
    for c in cell_rows:
        for k in ("ci_low", "ci_high"):
            c[f"{k}_pct"] = None if c.get(k) is None else 100 * c[k]
    persistence = persistence_rows(tables["persistence"], settings.persistence_months)
    codes = [c for r in persistence for c in r["warning_codes"] if c != "persistence_unavailable"]
    outcome_keys = {}
    for spec in specs:
        prefix = "tech.outcome." if spec["data"] == "survey" else "dq.ind."
        for o in spec["outcomes"]:
            outcome_keys[o] = prefix + o
    for o in tables["persistence"].get("indicator", pd.Series(dtype=str)).dropna():
        outcome_keys.setdefault(str(o), f"dq.ind.{o}")
    return {
        "area": area,
        "area_label": dict(config["areas"][area]["label"]),
        "programmes": programme_names,
        "districts": list(config["areas"][area]["districts"]),
        "settings": {
            "level": settings.level,
            "test_level": 1 - settings.level,
            "small_cell_k": settings.small_cell_k,
            "persistence_months": settings.persistence_months,
            "wild_draws": int(config["did"]["wild_draws"]),
            "bootstrap_draws": int(config["did"]["bootstrap_draws"]),
            "recovery_threshold": float(config["resilience"]["recovery_threshold"]),
        },
        "inventory": {
            "facility": records(fac)[0] if len(fac) else None,
            "surveys": records(surveys),
            "survey_years": sorted({int(y) for y in surveys["year"].dropna()}),
        },
        "dq": {
            "summary": dq["summary"],
            "settings": dq["settings"],
            "attrition": dq["attrition"],
            "district_rows": dq["district_rows"],
            "places": dq["places"],
        },
        "analyses": analyses,
        "primary": primary,
        "secondary": secondary,
        "shared_warnings": shared,
        "any_conditional": any(b["has_conditional"] for b in blocks),
        "pretrend_summary": {
            "tests": len(ok),
            "rejected": int(ok["rejected"].astype(bool).sum()) if len(ok) else 0,
            "rejected_assignment": int(
                (ok["rejected"].astype(bool) & ~ok["conditional"].astype(bool)).sum()
            )
            if len(ok)
            else 0,
            "rejected_conditional": int(
                (ok["rejected"].astype(bool) & ok["conditional"].astype(bool)).sum()
            )
            if len(ok)
            else 0,
            # Assignment-level tests that were computed, and those that could not be:
            # "0 of 15" would count tests that never ran.
            "assignment": int((~ok["conditional"].astype(bool)).sum()) if len(ok) else 0,
            "assignment_none": int(
                ((pre["status"] == "none") & ~pre["conditional"].astype(bool)).sum()
            )
            if len(pre)
            else 0,
            "failed": int((pre["status"] == "failed").sum()),
            "none": int((pre["status"] == "none").sum()),
        },
        "survey_cells": cell_rows,
        "outcome_keys": outcome_keys,
        "survey_cells_suppressed": int(cells["suppressed"].astype(bool).sum()) if len(cells) else 0,
        "resilience": _resilience(
            tables,
            indicators,
            names,
            list(config["resilience"]["essential_services"]),
            national_kinds(config),
        ),
        "sensitivity": sensitivity_rows(specs, documents),
        "sensitivity_settings": dict(config["did"]["sensitivity"]),
        "sensitivity_lines": sensitivity_lines(specs, documents, settings.primary),
        "persistence": persistence,
        "persistence_warnings": list(dict.fromkeys(codes)),
        "persistence_windows": persistence_windows(persistence),
        "persistence_notes": persistence_notes(persistence),
        "kpis": kpi_register(tables["mutual_kpis"]),
        "figures": fig_paths,
        "tables_dir": tables_dir,
        "table_names": list(REPORT_TABLES),
        "summary": summary,
        "support_rows": len(summary["support_cscoms"]),
        # Completed with the page's language: results/summary/{area}_support_{lang}.xlsx.
        "support_file": f"results/summary/{area}_support",
        "methods": methods_rows(specs, documents, config["reporting"]["lead_estimator"]),
        "sdid_annex": _sdid_annex(tables.get("sdid_weights")),
    }


def read_documents(paths: Mapping[str, str | os.PathLike[str]]) -> dict[str, dict[str, Any]]:
    """Estimates JSON documents by analysis name."""
    return {k: json.loads(Path(v).read_text("utf-8")) for k, v in paths.items()}


def render_technical(
    context: Mapping[str, Any],
    provenance: Provenance | Mapping[str, Any],
    lang: str,
    out_path: str | os.PathLike[str],
    *,
    synthetic: bool,
) -> Path:
    """Write ``technical_{area}_{lang}.html`` atomically and return its path."""
    return render_audited_report(TEMPLATE, context, provenance, lang, out_path, synthetic=synthetic)
