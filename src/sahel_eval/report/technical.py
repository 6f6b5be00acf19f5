"""The technical report of one area: ``reports/technical_{area}_{lang}.html`` (DESIGN §9).

Two steps, two rules, so every number a reader sees sits in a file a reviewer can open:

1. :func:`build_tables` turns the results of the DiD, resilience and sustainability
   stages (``results/estimates``, ``results/resilience``, ``results/sustainability``,
   the area's panel and survey tables) into the area's report tables, written by
   :func:`sahel_eval.report.tables.write_table` under ``results/tables/{area}/``.
   Survey cells from fewer than ``reporting.small_cell_k`` unweighted respondents are
   blanked there (:func:`~sahel_eval.clean.survey_design.suppress_small_cells`);
   facility numbers are not survey cells and are kept.
2. :func:`technical_context` reads those tables back (plus warnings and pre-trend
   tests from the estimates JSON) and picks what the template shows; nothing is
   estimated here.

Primary outcomes are pre-specified in config ``reporting.primary_outcomes`` (analysis
name → list of outcomes); without it the first outcome of each analysis is primary.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean.survey_design import suppress_small_cells, weighted_prevalence
from sahel_eval.report.event_time import event_rows
from sahel_eval.report.mutual_areas import mutuals_of_area
from sahel_eval.report.provenance import Provenance
from sahel_eval.report.render import render_audited_report
from sahel_eval.report.shocks import national_kinds
from sahel_eval.resilience.example import pick_example

__all__ = [
    "TABLES",
    "TechnicalSettings",
    "area_analyses",
    "build_tables",
    "primary_outcomes",
    "read_documents",
    "read_tables",
    "render_technical",
    "technical_context",
]

TEMPLATE = "technical.html.j2"

#: Report tables of one area, in the order the report uses them: name → LaTeX caption.
TABLES: dict[str, str] = {
    "inventory": "Data used in this report",
    "estimates": "Programme effects: every analysis, estimand and inference method",
    "pretrends": "Joint pre-trend tests",
    "survey_cells": "Survey prevalence by round and arm (small cells suppressed)",
    "resilience_classes": "CSCOM resilience classes by shock and service",
    "resilience_districts": "CSCOM resilience by district, shock and service",
    "resilience_comparison": "Resilience index: programme vs comparison facilities",
    "persistence": "Persistence of programme effects after the end of funding",
    "mutual_kpis": "Mutual health insurance indicators with status",
}

#: Headline estimand of each estimator: the row a reader looks at first.
MAIN_AGGREGATION = {"callaway_santanna": "simple", "twfe": "static"}

#: Inference methods at the assignment level (districts / communes), DESIGN §6.
ASSIGNMENT_INFERENCE = frozenset({"multiplier_bootstrap", "wild", "randomization"})

RESILIENCE_CLASSES = ("resilient", "recovered", "not_recovered", "interrupted", "not_assessable")

_ESTIMATE_COLUMNS = (
    "analysis",
    "estimator",
    "design",
    "outcome",
    "primary",
    "unit",
    "aggregation",
    "term",
    "round",
    "inference",
    "level",
    "cluster",
    "clusters",
    "treated_clusters",
    "headline",
    "informative",
    "conditional",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "n",
)


@dataclass(frozen=True)
class TechnicalSettings:
    """The config values the technical report needs."""

    level: float = 0.95
    small_cell_k: int = 5
    primary: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    persistence_months: int = 24
    kpi_thresholds: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TechnicalSettings:
        """Settings from the validated config."""
        rep = config.get("reporting", {})
        sus = config.get("sustainability", {})
        return cls(
            level=1.0 - float(rep.get("test_level", 0.05)),
            small_cell_k=int(rep.get("small_cell_k", 5)),
            primary={k: tuple(v) for k, v in primary_outcomes(config).items()},
            persistence_months=int(sus.get("persistence_months", 24)),
            kpi_thresholds=sus.get("kpi_thresholds", {}),
        )


def primary_outcomes(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """Pre-specified primary outcomes per analysis.

    ``reporting.primary_outcomes`` maps an analysis name to its primary outcomes; an
    analysis it does not name (or a config without the key) takes its first outcome.

    Raises
    ------
    ValueError
        When the key names an analysis or an outcome the config does not define.
    """
    given = (config.get("reporting") or {}).get("primary_outcomes") or {}
    analyses = {a["name"]: list(a["outcomes"]) for a in config["analyses"]}
    unknown = sorted(set(given) - set(analyses))
    if unknown:
        raise ValueError(
            f"config reporting.primary_outcomes names analyses {unknown} that are not in "
            f"config analyses {sorted(analyses)}"
        )
    out = {}
    for name, outcomes in analyses.items():
        chosen = list(given.get(name) or outcomes[:1])
        bad = [o for o in chosen if o not in outcomes]
        if bad:
            raise ValueError(
                f"config reporting.primary_outcomes.{name}: outcomes {bad} are not among the "
                f"analysis outcomes {outcomes}"
            )
        out[name] = chosen
    return out


def area_analyses(config: Mapping[str, Any], area: str) -> list[dict[str, Any]]:
    """Config entries of the analyses of ``area``, facility panels first."""
    specs = [dict(a) for a in config["analyses"] if a["area"] == area]
    return sorted(specs, key=lambda a: (a["data"] != "facility", a["name"]))


# --- step 1: tables ---------------------------------------------------------------


def _estimates_table(
    spec: Mapping[str, Any], estimates: pd.DataFrame, primary: Sequence[str], level: float
) -> pd.DataFrame:
    est = estimates
    if spec["data"] == "survey":
        keep = est["estimator"] == "did_2x2"
    else:
        keep = pd.Series(False, index=est.index)
        for estimator, agg in MAIN_AGGREGATION.items():
            keep |= (est["estimator"] == estimator) & (est["aggregation"] == agg)
    sub = est[keep].copy()
    sub["design"] = spec["design"]
    sub["primary"] = sub["outcome"].isin(list(primary))
    sub["unit"] = "proportion" if spec["data"] == "survey" else "per_1000_month"
    sub["level"] = level
    # Facility-clustered inference treats facilities of one district as independent:
    # valid only if no district-level shock hit treated districts (DESIGN §6).
    sub["conditional"] = (sub["cluster"] == "facility_id") & (spec["data"] == "facility")
    order = {o: i for i, o in enumerate(spec["outcomes"])}
    inf_order = {
        m: i
        for i, m in enumerate(
            (
                "multiplier_bootstrap",
                "wild",
                "randomization",
                "analytic",
                "crv1",
                "cluster",
                "design",
                "hc1",
            )
        )
    }
    est_order = {"callaway_santanna": 0, "event_study": 1, "twfe": 2, "did_2x2": 3}
    sub = sub.assign(
        _o=sub["outcome"].map(order),
        _e=sub["estimator"].map(est_order),
        _i=sub["inference"].map(inf_order).fillna(99),
        round=sub["round"],
    ).sort_values(["_o", "_e", "round", "_i"], kind="mergesort")
    return sub[list(_ESTIMATE_COLUMNS)].reset_index(drop=True)


def _pretest_table(spec: Mapping[str, Any], doc: Mapping[str, Any], level: float) -> pd.DataFrame:
    rows = []
    for f in doc["fits"]:
        if f["estimator"] not in ("callaway_santanna", "event_study"):
            continue
        pt = f.get("pretest")
        stat = None if pt is None else pt.get("stat")
        p = None if pt is None else pt.get("p")
        # A negative statistic is a numerical failure (a near-singular covariance with
        # few clusters); showing its p-value would pretend a test was run.
        computable = (
            pt is not None
            and stat is not None
            and np.isfinite(stat)
            and stat >= 0
            and p is not None
        )
        rows.append(
            {
                "analysis": spec["name"],
                "outcome": f["outcome"],
                "fit": f["fit"],
                "estimator": f["estimator"],
                "inference": f["inference"],
                "cluster": f["cluster"],
                "clusters": f["clusters"],
                "status": "ok" if computable else ("failed" if pt is not None else "none"),
                "test": pt.get("test") if pt else None,
                "stat": stat if computable else None,
                "df": pt.get("df") if computable else None,
                "df2": pt.get("df2") if computable else None,
                "p": p if computable else None,
                "rejected": bool(computable and p < 1 - level),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "analysis",
            "outcome",
            "fit",
            "estimator",
            "inference",
            "cluster",
            "clusters",
            "status",
            "test",
            "stat",
            "df",
            "df2",
            "p",
            "rejected",
        ],
    )


def survey_cells(
    surveys: Mapping[str, pd.DataFrame],
    outcomes: Sequence[str],
    area: str,
    *,
    k: int,
    level: float = 0.95,
) -> pd.DataFrame:
    """Weighted prevalence of each survey outcome by round and arm, small cells blanked.

    Parameters
    ----------
    surveys
        Canonical survey tables by unit (``results/clean/survey_{unit}.parquet``).
    outcomes
        0/1 outcome columns; each must be in exactly one table.
    area
        Area key; rows of other areas are dropped.
    k
        Cells from fewer than ``k`` unweighted respondents are suppressed.
    """
    parts = []
    for outcome in outcomes:
        hits = [u for u, t in surveys.items() if outcome in t.columns]
        if len(hits) != 1:
            raise ValueError(
                f"survey outcome {outcome!r} is in {hits or 'none'} of the survey tables "
                f"{sorted(surveys)}; it must be in exactly one"
            )
        frame = surveys[hits[0]]
        frame = frame[frame["area"] == area]
        cells = weighted_prevalence(
            frame, outcome, by=("year", "arm"), level=level, ci="korn_graubard"
        )
        parts.append(cells.assign(unit=hits[0]))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if out.empty:
        return out
    out = suppress_small_cells(out, k=k)
    cols = ["outcome", "unit", "year", "arm", "n", "n_psu", "suppressed", "estimate", "se"]
    return out[[*cols, "ci_low", "ci_high", "weighted_n"]]


def _inventory_table(
    panel: pd.DataFrame, surveys: Mapping[str, pd.DataFrame], area: str
) -> pd.DataFrame:
    months = panel.drop_duplicates("t").sort_values("t")["month"].astype(str).str.replace("-", "")
    months = months.str[:4] + "-" + months.str[4:6]
    fac = panel.drop_duplicates("facility_id")
    rows = [
        {
            "source": "facility_panel",
            "year": None,
            "records": len(panel),
            "facilities": fac["facility_id"].nunique(),
            "treated_facilities": int((fac["group"] > 0).sum()),
            "districts": fac["district"].nunique(),
            "psu": None,
            "first_month": months.iloc[0] if len(months) else None,
            "last_month": months.iloc[-1] if len(months) else None,
        }
    ]
    for unit in sorted(surveys):
        t = surveys[unit]
        t = t[t["area"] == area]
        for year, g in t.groupby("year", sort=True):
            rows.append(
                {
                    "source": f"survey_{unit}",
                    "year": int(year),
                    "records": len(g),
                    "facilities": None,
                    "treated_facilities": None,
                    "districts": g["district"].nunique(),
                    "psu": g["psu"].nunique(),
                    "first_month": None,
                    "last_month": None,
                }
            )
    return pd.DataFrame(rows)


def _comparison_table(comparison: Mapping[str, Any], shocks: pd.DataFrame) -> pd.DataFrame:
    rows = []
    # Kind, district and onset travel with each row so the report can name the shock
    # (report/shocks.py) from this table alone.
    about = shocks.set_index("shock_id")[["kind", "district", "onset"]].astype(object)
    onset = about["onset"].astype(str).to_dict()
    for shock, s in sorted(
        comparison.get("shocks", {}).items(), key=lambda kv: onset.get(kv[0], "")
    ):
        row: dict[str, Any] = {"shock_id": shock, "status": s.get("status")}
        if shock in about.index:
            row["shock_kind"] = about.at[shock, "kind"]
            row["shock_district"] = about.at[shock, "district"]
            row["onset"] = str(about.at[shock, "onset"])
        for key in ("n_facilities", "n_programme", "n_comparison", "n_districts"):
            row[key] = s.get(key)
        row["mean_ri_programme"] = s.get("mean_resilience_index_programme")
        row["mean_ri_comparison"] = s.get("mean_resilience_index_comparison")
        for method in ("wild", "randomization"):
            block = s.get(method) or {}
            ests = [e for e in block.get("estimates", []) if e.get("inference") == method]
            e = ests[0] if ests else {}
            info = block.get("info", {})
            row[f"{method}_estimate"] = e.get("estimate")
            row[f"{method}_ci_low"] = e.get("ci_low")
            row[f"{method}_ci_high"] = e.get("ci_high")
            row[f"{method}_p"] = e.get("p")
            row[f"{method}_informative"] = e.get("informative")
            row["clusters"] = info.get("clusters", row.get("clusters"))
            row["treated_clusters"] = info.get("treated_clusters", row.get("treated_clusters"))
        crv = [
            e for e in (s.get("wild") or {}).get("estimates", []) if e.get("inference") == "crv1"
        ]
        row["crv1_ci_low"] = crv[0].get("ci_low") if crv else None
        row["crv1_ci_high"] = crv[0].get("ci_high") if crv else None
        rows.append(row)
    return pd.DataFrame(rows)


def build_tables(
    area: str,
    config: Mapping[str, Any],
    *,
    estimates: Mapping[str, pd.DataFrame],
    documents: Mapping[str, Mapping[str, Any]],
    panel: pd.DataFrame,
    surveys: Mapping[str, pd.DataFrame],
    aggregates: pd.DataFrame,
    shocks: pd.DataFrame,
    comparison: Mapping[str, Any],
    persistence: pd.DataFrame,
    mutual_kpis: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """Every report table of ``area`` (names of :data:`TABLES`), language-neutral.

    Parameters
    ----------
    estimates, documents
        ``results/estimates/{analysis}.csv`` and ``.json`` of the area's analyses.
    panel
        ``results/clean/panel_{area}.parquet``.
    surveys
        Canonical survey tables by unit (all areas).
    aggregates, shocks, comparison
        ``results/resilience/{area}_aggregates.csv``, ``_shocks.csv``, ``_comparison.json``.
    persistence, mutual_kpis
        ``results/sustainability/persistence.csv`` and ``mutual_kpis.csv`` (all areas).
    """
    settings = TechnicalSettings.from_config(config)
    specs = area_analyses(config, area)
    est_parts, pre_parts, survey_outcomes = [], [], []
    for spec in specs:
        name = spec["name"]
        est_parts.append(
            _estimates_table(spec, estimates[name], settings.primary[name], settings.level)
        )
        pre_parts.append(_pretest_table(spec, documents[name], settings.level))
        if spec["data"] == "survey":
            survey_outcomes += [o for o in spec["outcomes"] if o not in survey_outcomes]
    has_shocks = shocks[shocks["n_facilities"].fillna(0) > 0]
    agg = aggregates.merge(
        has_shocks[["shock_id", "kind", "district", "onset"]].rename(
            columns={"kind": "shock_kind", "district": "shock_district"}
        ),
        on="shock_id",
        how="inner",
    )
    agg = agg.assign(onset=agg["onset"].astype(str))
    kpis = mutual_kpis[
        mutual_kpis["mutual"].isin(mutuals_of_area(mutual_kpis["mutual"].unique(), area, config))
    ]
    pers = (
        persistence[persistence["area"] == area] if "area" in persistence else persistence.iloc[:0]
    )
    return {
        "inventory": _inventory_table(panel, surveys, area),
        "estimates": pd.concat(est_parts, ignore_index=True),
        "pretrends": pd.concat(pre_parts, ignore_index=True),
        "survey_cells": survey_cells(
            surveys, survey_outcomes, area, k=settings.small_cell_k, level=settings.level
        ),
        "resilience_classes": agg[agg["level"] == "area"]
        .drop(columns=["programme_status", "district"])
        .reset_index(drop=True),
        "resilience_districts": agg[agg["level"] == "district"]
        .drop(columns=["programme_status"])
        .reset_index(drop=True),
        "resilience_comparison": _comparison_table(comparison, shocks),
        "persistence": pers.reset_index(drop=True),
        "mutual_kpis": kpis.reset_index(drop=True),
    }


def read_tables(paths: Mapping[str, str | os.PathLike[str]]) -> dict[str, pd.DataFrame]:
    """Read the area's report tables back from their CSV files (names of :data:`TABLES`)."""
    missing = [n for n in TABLES if n not in paths]
    if missing:
        raise ValueError(
            f"technical report: tables {missing} not given; rule report_tables writes them "
            "as results/tables/{area}/<name>.csv"
        )
    text = {"onset": "str", "first_month": "str", "last_month": "str", "end_month": "str"}
    out = {}
    for name in TABLES:
        path = Path(paths[name])
        try:
            out[name] = pd.read_csv(path, dtype=text)
        except pd.errors.EmptyDataError:
            out[name] = pd.DataFrame()
    return out


# --- step 2: context --------------------------------------------------------------


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]


def _dedupe(warnings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One warning per code (the first one's parameters), in the order they came."""
    seen: dict[str, dict[str, Any]] = {}
    for w in warnings:
        seen.setdefault(w["code"], {"code": w["code"], "params": dict(w.get("params") or {})})
    return list(seen.values())


def _verdict(row: Mapping[str, Any]) -> str:
    if not row["informative"]:
        return "not_informative"
    if row["ci_low"] is None or row["ci_high"] is None:
        return "p_only"
    if row["ci_low"] > 0:
        return "positive"
    if row["ci_high"] < 0:
        return "negative"
    return "includes_zero"


def _estimate_blocks(
    spec: Mapping[str, Any],
    table: pd.DataFrame,
    doc: Mapping[str, Any],
    pretrends: pd.DataFrame,
    figures: Mapping[str, str],
) -> list[dict[str, Any]]:
    """One block per outcome: rows per estimand × inference, warnings, pre-tests, figure."""
    blocks = []
    fit_warnings: dict[str, list[dict]] = {}
    for w in doc.get("warnings", []):
        fit_warnings.setdefault(w["fit"].split(":")[0], []).append(w)
    scale = 100.0 if spec["data"] == "survey" else 1.0
    for outcome in spec["outcomes"]:
        rows = _records(table[(table["analysis"] == spec["name"]) & (table["outcome"] == outcome)])
        for r in rows:
            for k in ("estimate", "ci_low", "ci_high"):
                r[f"{k}_shown"] = None if r[k] is None else r[k] * scale
            r["verdict"] = _verdict(r)
            r["assignment"] = r["inference"] in ASSIGNMENT_INFERENCE
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
        # assignment-level row stands in, never a facility-clustered one.
        assignment = [r for r in rows if r["assignment"]]
        main = (head or assignment or rows or [None])[0]
        conditional = [r for r in rows if r["conditional"] and r["ci_low"] is not None]
        if main is not None:
            # Same estimand as the headline first, so the two numbers quoted side by
            # side differ only in their inference.
            same = [
                r
                for r in conditional
                if (r["estimator"], r["aggregation"]) == (main["estimator"], main["aggregation"])
            ]
            conditional = same + [r for r in conditional if r not in same]
        pre = _records(
            pretrends[(pretrends["analysis"] == spec["name"]) & (pretrends["outcome"] == outcome)]
        )
        blocks.append(
            {
                "analysis": spec["name"],
                "outcome": outcome,
                "data": spec["data"],
                "estimator": spec["estimator"],
                "primary": bool(rows and rows[0]["primary"]),
                "groups": groups,
                "main": main,
                "conditional_row": conditional[0] if conditional else None,
                "headline_rows": head,
                "warnings": _dedupe(fit_warnings.get(outcome, [])),
                "pretests": pre,
                "figure": figures.get(f"{spec['name']}:{outcome}"),
                "has_conditional": any(r["conditional"] for r in rows),
                "pretrend_rejected": any(p["rejected"] for p in pre),
            }
        )
    return blocks


def _figure_facts(event_time: pd.DataFrame, outcome: str) -> dict[str, Any]:
    """Numbers quoted in the alt text of an event-study figure."""
    rows, conditional = event_rows(event_time, outcome)
    e = rows["event_time"].to_numpy(dtype=float)
    pre = rows[e < 0]
    post = rows[e >= 0]
    outside = pre[(pre["ci_low"] > 0) | (pre["ci_high"] < 0)]
    return {
        "n_pre": len(pre),
        "n_post": len(post),
        "pre_outside": len(outside),
        "post_mean": _plain(post["estimate"].mean()) if len(post) else None,
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
        for r in _records(tables[name]):
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
        services_rows = _records(g)
        for r in services_rows:
            parts = [r.get("share_resilient"), r.get("share_recovered")]
            r["share_held"] = None if any(v is None for v in parts) else sum(parts)
        shocks.append(
            {
                "shock_id": shock_id,
                "kind": first["shock_kind"],
                "onset": first["onset"],
                "services": services_rows,
                "districts": _records(
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
            "row": _records(row)[0] if len(row) else None,
        }
    return {
        "service": service,
        "shocks": shocks,
        "shock_rows": _shock_rows(tables, kinds),
        "example": example,
        "comparison": _records(tables["resilience_comparison"]),
    }


def _persistence(table: pd.DataFrame, months: int) -> list[dict[str, Any]]:
    rows = []
    for r in _records(table):
        codes = [c for c in str(r.get("warnings") or "").split(";") if c]
        status = r.get("status")
        if status != "ok" or r.get("estimate") is None:
            codes.append("persistence_unavailable")
        else:
            short = [
                n for n in (r.get("n_during"), r.get("n_after")) if n is not None and n < months
            ]
            if short:
                codes.append("persistence_short_window")
        r["warning_codes"] = list(dict.fromkeys(codes))
        for k in ("during_from", "during_to", "after_from", "after_to", "end_month"):
            v = r.get(k)
            if v is not None:
                s = str(int(float(v))) if not isinstance(v, str) else v
                r[k] = f"{s[:4]}-{s[4:6]}"
        rows.append(r)
    return rows


def _windows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The distinct during / after windows, one per programme, for one sentence each."""
    keys = ("programme", "during_from", "during_to", "after_from", "after_to")
    out: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        if all(r.get(k) for k in keys):
            out.setdefault(tuple(r[k] for k in keys), {k: r[k] for k in keys})
    return list(out.values())


def _kpis(table: pd.DataFrame) -> dict[str, Any]:
    if table.empty:
        return {"mutuals": [], "year": None, "rows": [], "counts": {}}
    last = int(table["year"].max())
    latest = table[table["year"] == last]
    mutuals = sorted(latest["mutual"].unique())
    kpis = list(dict.fromkeys(latest["kpi"]))
    rows = []
    for kpi in kpis:
        cells = []
        for m in mutuals:
            hit = latest[(latest["mutual"] == m) & (latest["kpi"] == kpi)]
            cells.append(_records(hit)[0] if len(hit) else None)
        rows.append({"kpi": kpi, "cells": cells})
    counts = latest["status"].value_counts()
    return {
        "mutuals": mutuals,
        "year": last,
        "rows": rows,
        "counts": {s: int(counts.get(s, 0)) for s in ("good", "watch", "alarm", "not_available")},
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
        ``"{analysis}:{outcome}"`` → DiD figure; ``resilience_facility``,
        ``resilience_district``, ``resilience_tau``, ``mutual_kpis``, ``dq_attrition``.
    tables_dir
        Where the CSV / XLSX / LaTeX tables are, as shown to readers.
    """
    settings = TechnicalSettings.from_config(config)
    specs = area_analyses(config, area)
    names = dict(
        zip(facilities["facility_id"].astype(str), facilities["name"].astype(str), strict=True)
    )
    blocks: list[dict[str, Any]] = []
    analyses = []
    fig_paths = {k: str(v) for k, v in figures.items()}
    for spec in specs:
        doc = documents[spec["name"]]
        b = _estimate_blocks(spec, tables["estimates"], doc, tables["pretrends"], fig_paths)
        for block in b:
            if spec["data"] == "facility" and block["figure"]:
                block["figure_facts"] = _figure_facts(event_time[spec["name"]], block["outcome"])
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
                "draws": {f["inference"]: f.get("draws") for f in doc["fits"] if f.get("draws")},
                "p_min": max(
                    (f["p_min"] for f in doc["fits"] if f.get("p_min") is not None), default=None
                ),
            }
        )
    primary = [b for b in blocks if b["primary"]]
    secondary = [b for b in blocks if not b["primary"]]
    pre = tables["pretrends"]
    ok = pre[pre["status"] == "ok"]
    inv = tables["inventory"]
    fac = inv[inv["source"] == "facility_panel"]
    surveys = inv[inv["source"] != "facility_panel"]
    cells = tables["survey_cells"]
    programme_names = sorted({s["programme"] for s in specs})
    cell_rows = _records(cells) if len(cells) else []
    for c in cell_rows:
        for k in ("ci_low", "ci_high"):
            c[f"{k}_pct"] = None if c.get(k) is None else 100 * c[k]
    persistence = _persistence(tables["persistence"], settings.persistence_months)
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
        "programmes": programme_names,
        "districts": list(config["areas"][area]["districts"]),
        "settings": {
            "level": settings.level,
            "test_level": 1 - settings.level,
            "small_cell_k": settings.small_cell_k,
            "persistence_months": settings.persistence_months,
            "wild_draws": int(config.get("did", {}).get("wild_draws", 9999)),
            "bootstrap_draws": int(config.get("did", {}).get("bootstrap_draws", 999)),
            "recovery_threshold": float(config["resilience"].get("recovery_threshold", 0.9)),
        },
        "inventory": {
            "facility": _records(fac)[0] if len(fac) else None,
            "surveys": _records(surveys),
            "survey_years": sorted({int(y) for y in surveys["year"].dropna()}),
        },
        "dq": {
            "summary": dq["summary"],
            "settings": dq["settings"],
            "attrition": dq["attrition"],
            "district_rows": dq["district_rows"],
        },
        "analyses": analyses,
        "primary": primary,
        "secondary": secondary,
        "pretrend_summary": {
            "tests": len(ok),
            "rejected": int(ok["rejected"].astype(bool).sum()) if len(ok) else 0,
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
        "persistence": persistence,
        "persistence_warnings": list(dict.fromkeys(codes)),
        "persistence_windows": _windows(persistence),
        "kpis": _kpis(tables["mutual_kpis"]),
        "figures": fig_paths,
        "tables_dir": tables_dir,
        "table_names": list(TABLES),
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
