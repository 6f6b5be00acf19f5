"""The technical report's tables of one area: ``results/tables/{area}/`` (DESIGN §9).

Step 1 of the technical report (rule ``report_tables``): :func:`build_tables` lays the
results of the DiD, resilience and sustainability stages (``results/estimates``,
``results/resilience``, ``results/sustainability``, the area's panel and survey
tables) out as the area's report tables, written by
:func:`sahel_eval.report.tables.write_table`. Survey cells come from
:func:`sahel_eval.clean.survey_design.survey_cells`: cells from fewer than
``reporting.small_cell_k`` unweighted respondents are blanked there; facility numbers
are not survey cells and are kept. :func:`read_tables` reads them back for step 2
(:mod:`sahel_eval.report.technical`).

Primary outcomes are pre-specified in config ``reporting.primary_outcomes`` (analysis
name → list of outcomes); an analysis it does not name takes its first outcome.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean.survey_design import survey_cells
from sahel_eval.products import REPORT_TABLES
from sahel_eval.report.mutual_areas import mutuals_of_area

__all__ = [
    "TechnicalSettings",
    "area_analyses",
    "build_tables",
    "primary_outcomes",
    "read_tables",
]


#: Headline estimand of each estimator: the row a reader looks at first.
MAIN_AGGREGATION = {"callaway_santanna": "simple", "twfe": "static", "synthdid": "window_mean"}


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
    "verdict",
    "p_min",
    "confidence_attained",
    "mde",
    "family",
    "p_holm",
    "holm_rejected",
    "robustness",
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
        rep = config["reporting"]
        sus = config["sustainability"]
        return cls(
            level=1.0 - float(rep["test_level"]),
            small_cell_k=int(rep["small_cell_k"]),
            primary={k: tuple(v) for k, v in primary_outcomes(config).items()},
            persistence_months=int(sus["persistence_months"]),
            kpi_thresholds=sus["kpi_thresholds"],
        )


def primary_outcomes(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """Pre-specified primary outcomes per analysis.

    ``reporting.primary_outcomes`` maps every analysis name to its primary outcomes
    (``[]``: all exploratory); the config check requires each analysis, so there is no
    default here either.

    Raises
    ------
    ValueError
        When the key names an analysis or an outcome the config does not define.
    """
    given = config["reporting"]["primary_outcomes"]
    analyses = {a["name"]: list(a["outcomes"]) for a in config["analyses"]}
    unknown = sorted(set(given) - set(analyses))
    if unknown:
        raise ValueError(
            f"config reporting.primary_outcomes names analyses {unknown} that are not in "
            f"config analyses {sorted(analyses)}"
        )
    out = {}
    for name, outcomes in analyses.items():
        if name not in given:
            raise ValueError(
                f"config reporting.primary_outcomes.{name}: analysis {name!r} declares no "
                "primary outcomes ([] makes all exploratory)"
            )
        chosen = list(given[name])
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


def _estimates_table(
    spec: Mapping[str, Any],
    estimates: pd.DataFrame,
    primary: Sequence[str],
    level: float,
    units: Mapping[str, str],
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
    sub["unit"] = sub["outcome"].map(units)
    sub["level"] = level
    # Facility-clustered (and every other non-assignment) inference treats the units of
    # one district as independent: valid only if no district-level shock hit treated
    # districts (DESIGN §6.1). The DiD stage marks those rows ``conditional``; the
    # verdict, p_min, attained level and MDE are the stage's, never recomputed here.
    if "conditional" not in sub:
        sub["conditional"] = (sub["cluster"] == "facility_id") & (spec["data"] == "facility")
    # The DiD stage's columns, from "verdict" on: absent in documents that predate them.
    for col in _ESTIMATE_COLUMNS[_ESTIMATE_COLUMNS.index("verdict") :]:
        if col not in sub:
            sub[col] = None
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
                "placebo",
            )
        )
    }
    est_order = {"callaway_santanna": 0, "event_study": 1, "twfe": 2, "synthdid": 3, "did_2x2": 4}
    sub = sub.assign(
        _o=sub["outcome"].map(order),
        _e=sub["estimator"].map(est_order),
        _i=sub["inference"].map(inf_order).fillna(99),
        round=sub["round"],
    ).sort_values(["_o", "_e", "round", "_i"], kind="mergesort")
    return sub[list(_ESTIMATE_COLUMNS)].reset_index(drop=True)


_PRETEST_COLUMNS = (
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
    "p_min",
    "rejected",
    "verdict",
    "level",
    "conditional",
    "reason",
    "rank",
)


def _pretest_table(spec: Mapping[str, Any], doc: Mapping[str, Any], level: float) -> pd.DataFrame:
    """One row per pre-test of the DiD stage; its ``verdict`` is the stage's (DESIGN §6.1).

    ``status``: ``ok`` when the stage wrote a p-value (a Wald statistic or an RI
    p-value), ``none`` when it wrote ``not_testable`` or no pre-test. ``stat`` is
    absent when no valid statistic exists (a rank-deficient covariance, an RI test).
    Robustness fits (a balanced subsample, spillover CSCOMs left out) re-estimate the
    headline and carry no pre-test of their own: they have no row, so no count or
    sentence reads them as tests that could not be computed.
    """
    rows = []
    for f in doc["fits"]:
        if f["estimator"] not in ("callaway_santanna", "event_study"):
            continue
        if f.get("robustness"):
            continue
        pt = f.get("pretest") or {}
        stat, p = pt.get("stat"), pt.get("p")
        if stat is not None and not np.isfinite(stat):
            stat = None
        verdict = pt.get("verdict") or "not_testable"
        tested = verdict != "not_testable" and p is not None
        rows.append(
            {
                "analysis": spec["name"],
                "outcome": f["outcome"],
                "fit": f["fit"],
                "estimator": f["estimator"],
                "inference": f["inference"],
                "cluster": f["cluster"],
                "clusters": f["clusters"],
                "status": "ok" if tested else "none",
                "test": pt.get("test"),
                "stat": stat if tested else None,
                "df": pt.get("df") if tested and stat is not None else None,
                "df2": pt.get("df2") if tested and stat is not None else None,
                "p": p if tested else None,
                "p_min": pt.get("p_min"),
                "rejected": verdict == "pretrend_rejected",
                "verdict": verdict,
                "level": pt.get("level"),
                "conditional": bool(pt.get("conditional", f["cluster"] != "district")),
                "reason": pt.get("reason"),
                "rank": pt.get("rank"),
            }
        )
    return pd.DataFrame(rows, columns=list(_PRETEST_COLUMNS))


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
        fac = s.get("facility") or {}
        fac_est = [e for e in fac.get("estimates", []) if e.get("headline")]
        row["estimate"] = fac_est[0].get("estimate") if fac_est else None
        # Conditional on no district-level shocks: never the verdict.
        row["facility_ci_low"] = fac_est[0].get("ci_low") if fac_est else None
        row["facility_ci_high"] = fac_est[0].get("ci_high") if fac_est else None
        for method in ("wild", "randomization"):
            block = s.get(method) or {}
            ests = [e for e in block.get("estimates", []) if e.get("inference") == method]
            e = ests[0] if ests else {}
            info = block.get("info", {})
            row[f"{method}_status"] = block.get("status", "ok" if ests else None)
            row[f"{method}_reason"] = block.get("reason")
            row[f"{method}_ci_low"] = e.get("ci_low")
            row[f"{method}_ci_high"] = e.get("ci_high")
            row[f"{method}_p"] = e.get("p")
            row[f"{method}_informative"] = e.get("informative")
            row["clusters"] = info.get("clusters", row.get("clusters"))
            row["treated_clusters"] = info.get("treated_clusters", row.get("treated_clusters"))
        # The assignment-level reading (DESIGN §6.1): randomisation inference where it
        # ran, else the wild bootstrap where it is valid (≥ 5 treated and comparison
        # districts), else none, with the reason.
        ran = [m for m in ("randomization", "wild") if row[f"{m}_status"] == "ok"]
        method = ran[0] if ran else None
        row["assignment_inference"] = method
        row["assignment_reason"] = (
            None if method else (row["randomization_reason"] or row["wild_reason"])
        )
        for key in ("ci_low", "ci_high", "p", "informative"):
            row[f"assignment_{key}"] = row[f"{method}_{key}"] if method else None
        rows.append(row)
    return pd.DataFrame(rows)


_SDID_WEIGHT_COLUMNS = (
    "analysis",
    "outcome",
    "level",
    "kind",
    "unit",
    "name",
    "district",
    "month",
    "weight",
)


def _sdid_weights_table(
    spec: Mapping[str, Any],
    doc: Mapping[str, Any],
    panel: pd.DataFrame,
    facilities: pd.DataFrame,
) -> pd.DataFrame:
    """Every non-zero synthetic DiD weight of an analysis, as the DiD stage wrote them.

    One row per weight: ``kind`` ``unit`` (a comparison commune or CSCOM, largest first;
    ``name`` and ``district`` from the data) or ``time`` (a month before the start,
    ``YYYY-MM``, in order). ``level`` is the fit's: ``district`` or ``facility``.
    """
    names = dict(zip(facilities["facility_id"], facilities["name"].astype(str), strict=True))
    district = panel.drop_duplicates("facility_id").set_index("facility_id")["district"]
    rows: list[dict[str, Any]] = []
    order = {o: i for i, o in enumerate(spec["outcomes"])}
    fits = [f for f in doc["fits"] if f["estimator"] == "synthdid"]
    fits.sort(key=lambda f: (order.get(f["outcome"], len(order)), f["level"] != "district"))
    for f in fits:
        base = {"analysis": spec["name"], "outcome": f["outcome"], "level": f["level"]}
        for w in f["unit_weights"]:
            unit = str(w["unit"])
            facility = f["level"] == "facility"
            rows.append(
                {
                    **base,
                    "kind": "unit",
                    "unit": unit,
                    "name": names.get(unit, unit) if facility else unit,
                    "district": district.get(unit) if facility else unit,
                    "month": None,
                    "weight": w["weight"],
                }
            )
        for w in f["time_weights"]:
            m = str(w["month"])
            rows.append(
                {
                    **base,
                    "kind": "time",
                    "unit": None,
                    "name": None,
                    "district": None,
                    "month": f"{m[:4]}-{m[4:6]}",
                    "weight": w["weight"],
                }
            )
    return pd.DataFrame(rows, columns=list(_SDID_WEIGHT_COLUMNS))


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
    facilities: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """Every report table of ``area`` (names of :data:`REPORT_TABLES`), language-neutral.

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
    facilities
        ``results/clean/facilities.parquet``: the CSCOM names of the SDID weights table.
    """
    settings = TechnicalSettings.from_config(config)
    specs = area_analyses(config, area)
    est_parts, pre_parts, weight_parts, survey_outcomes = [], [], [], []
    for spec in specs:
        name = spec["name"]
        est_parts.append(
            _estimates_table(
                spec,
                estimates[name],
                settings.primary[name],
                settings.level,
                documents[name]["units"],
            )
        )
        pre_parts.append(_pretest_table(spec, documents[name], settings.level))
        weight_parts.append(_sdid_weights_table(spec, documents[name], panel, facilities))
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
        "sdid_weights": pd.concat(
            [w for w in weight_parts if len(w)] or [pd.DataFrame(columns=_SDID_WEIGHT_COLUMNS)],
            ignore_index=True,
        ),
    }


def read_tables(paths: Mapping[str, str | os.PathLike[str]]) -> dict[str, pd.DataFrame]:
    """Read the area's report tables back from their CSV files (names of :data:`REPORT_TABLES`)."""
    missing = [n for n in REPORT_TABLES if n not in paths]
    if missing:
        raise ValueError(
            f"technical report: tables {missing} not given; rule report_tables writes them "
            "as results/tables/{area}/<name>.csv"
        )
    text = {
        "onset": "str",
        "first_month": "str",
        "last_month": "str",
        "end_month": "str",
        "month": "str",
    }
    out = {}
    for name in REPORT_TABLES:
        path = Path(paths[name])
        try:
            out[name] = pd.read_csv(path, dtype=text)
        except pd.errors.EmptyDataError:
            out[name] = pd.DataFrame()
    return out
