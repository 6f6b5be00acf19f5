"""The data-quality report of one area: ``reports/data_quality_{area}_{lang}.html``.

Everything shown is read from the DQ tables of ``results/dq/`` (see
:mod:`sahel_eval.clean.dq`) plus the master list for facility names; this module only
filters them to the area, adds counts up and picks the rows to show. Two derived
quantities are worth naming:

* area totals of completeness and timeliness are sums of the districts' report
  counts (``completeness_district``), divided once — as the WHO DQ Tool aggregates;
* the usual level of an outlier is the ``outlier_level`` column of the ``outliers``
  table, written by the cleaning stage with the score (either rule).

The figures come from :mod:`sahel_eval.figures.dq` and are inlined. A little over 500
lines: one context builder per section of the page (WHO DQ domains), sharing the area
filter and the settings; split, each section would import the same private helpers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean.attrition import area_attrition
from sahel_eval.clean.outliers_count import SCORE_CAP
from sahel_eval.report.dq_external import EXTERNAL_TABLES, external_context
from sahel_eval.report.provenance import Provenance
from sahel_eval.report.render import render_audited_report

__all__ = [
    "DQReportSettings",
    "data_quality_context",
    "read_dq_tables",
    "render_data_quality",
]

TEMPLATE = "data_quality.html.j2"

STATUS_TABLE = "reporting_status"
"""Facility-month reporting status (``FacilityClean.status``); the heat map needs it."""


# Text columns that look numeric in CSV (periods, UIDs): read as text.
_TEXT_COLUMNS = (
    "period",
    "gap_start",
    "gap_end",
    "facility_id",
    "orgunit_uid",
    "unit",
    "district",
    "name_in_export",
    "lastupdated",
)
# Per table: "values" of duplicates_conflicting is "5 | 8", of outliers_summary a count.
_TEXT_BY_TABLE = {"duplicates_conflicting": ("values",)}

CHECKS = ("anc1_penta1", "penta1_penta3", "anc4_anc1")


@dataclass(frozen=True)
class DQReportSettings:
    """The DQ settings a reader needs to interpret the report (config ``dq``)."""

    completeness_target: float = 0.9
    timeliness_target: float = 0.75
    deadline_day: int = 15
    inactive_months: int = 6
    rule: str = "count"
    fdr_q: float = 0.001
    window_months: int = 13
    threshold: float = 3.5
    sides: str = "one"
    seasonal_adjustment: bool = True
    seasonal_indicators: tuple[str, ...] = ()
    treatment: str = "flag"
    consistency_low: float = 1.0
    consistency_high: float = 1.5
    top_n: int = 25

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DQReportSettings:
        """Settings from the validated config (its ``dq`` section)."""
        dq = config["dq"]
        out = dq["outliers"]
        bounds = dq["consistency_bounds"]
        return cls(
            completeness_target=float(dq["completeness_target"]),
            timeliness_target=float(dq["timeliness_target"]),
            deadline_day=int(dq["timeliness_deadline_day"]),
            inactive_months=int(dq["inactive_months"]),
            rule=str(out["rule"]),
            fdr_q=float(out["count"]["fdr_q"]),
            window_months=int(out["count"]["window_months"]),
            threshold=float(out["threshold"]),
            sides=str(out["sides"]),
            seasonal_adjustment=bool(out["seasonal_adjustment"]),
            seasonal_indicators=tuple(out["seasonal_indicators"]),
            treatment=str(dq["treatment"]),
            consistency_low=float(bounds[0]),
            consistency_high=float(bounds[1]),
        )


def read_dq_tables(paths: Mapping[str, str | os.PathLike[str]]) -> dict[str, pd.DataFrame]:
    """Read DQ tables written as CSV, keeping periods and UIDs as text.

    Parameters
    ----------
    paths
        Table name -> CSV path; must hold every name the report uses.

    Raises
    ------
    ValueError
        Naming the tables that are missing.
    """
    needed = [
        "attrition_by_arm",
        "completeness_district",
        "completeness_district_month",
        "completeness_facility",
        "completeness_month",
        "consistency_internal",
        "consistency_over_time",
        "duplicates_conflicting",
        "duplicates_exact",
        "keyed_zeros",
        "orgunit_matches",
        "outliers",
        "outliers_summary",
        STATUS_TABLE,
    ]
    missing = [n for n in needed if n not in paths]
    if missing:
        raise ValueError(
            f"data-quality report: DQ tables {missing} not given; the clean rule writes them "
            "as results/dq/<name>.csv"
        )
    out = {}
    for name, path in paths.items():
        dtypes = dict.fromkeys((*_TEXT_COLUMNS, *_TEXT_BY_TABLE.get(name, ())), "str")
        out[name] = pd.read_csv(path, dtype=dtypes, keep_default_na=True)
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # Plain Python values for the template (NaN -> None so filters print "—").
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict(orient="records")


def _rate(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def _summary(t: Mapping[str, pd.DataFrame], s: DQReportSettings) -> dict[str, Any]:
    cd = t["completeness_district"]
    expected, reported, timely = (int(cd[c].sum()) for c in ("expected", "reported", "timely"))
    fac = t["completeness_facility"]
    scored = int(t["outliers_summary"]["values"].sum())
    out = t["outliers"]
    n_missing = int(out["set_missing"].astype(bool).sum())
    n_wins = int(out["winsorised"].astype(bool).sum())
    return {
        "expected": expected,
        "reported": reported,
        "timely": timely,
        "completeness": _rate(reported, expected),
        "timeliness": _rate(timely, expected),
        "completeness_ok": bool(expected and reported / expected >= s.completeness_target),
        "timeliness_ok": bool(expected and timely / expected >= s.timeliness_target),
        "n_districts": len(cd),
        "districts_completeness_ok": int(cd["completeness_ok"].astype(bool).sum()),
        "districts_timeliness_ok": int(cd["timeliness_ok"].astype(bool).sum()),
        "n_facilities": len(fac),
        "facilities_inactive": int(fac["inactive"].astype(bool).sum()),
        "keyed_zeros": len(t["keyed_zeros"]),
        "values_scored": scored,
        "outliers": len(out),
        "outlier_share": _rate(len(out), scored),
        "outliers_set_missing": n_missing,
        "outliers_winsorised": n_wins,
        "outliers_flag_only": len(out) - n_missing - n_wins,
        # Both rules' flag counts: the configured one and the other, for comparison.
        "outliers_by_count": int(t["outliers_summary"]["outliers_by_count"].sum()),
        "outliers_by_z": int(t["outliers_summary"]["outliers_by_z"].sum()),
        "exact_duplicate_rows": int(t["duplicates_exact"]["n_rows_dropped"].sum()),
        "exact_duplicate_months": len(t["duplicates_exact"]),
        "conflicting_duplicates": len(t["duplicates_conflicting"]),
    }


def _district_rows(t: Mapping[str, pd.DataFrame], districts: Sequence[str]) -> list[dict]:
    cd = t["completeness_district"].set_index("district")
    inactive = t["completeness_facility"].groupby("district")["inactive"].sum()
    rows = []
    for d in districts:
        if d not in cd.index:
            continue
        r = cd.loc[d]
        rows.append(
            {
                "district": d,
                "expected": int(r["expected"]),
                "reported": int(r["reported"]),
                "timely": int(r["timely"]),
                "completeness": float(r["completeness"]),
                "timeliness": float(r["timeliness"]),
                "completeness_ok": bool(r["completeness_ok"]),
                "timeliness_ok": bool(r["timeliness_ok"]),
                "facilities_inactive": int(inactive.get(d, 0)),
            }
        )
    return rows


def _outlier_rows(
    t: Mapping[str, pd.DataFrame], names: Mapping[str, str], s: DQReportSettings
) -> list[dict]:
    out = (
        t["outliers"]
        .sort_values(
            ["outlier_score", "facility_id", "period", "indicator"],
            ascending=[False, True, True, True],
            kind="mergesort",
        )
        .head(s.top_n)
    )
    out = out.assign(
        facility=out["facility_id"].map(names).fillna(out["facility_id"]),
        treatment=np.where(
            out["set_missing"].astype(bool),
            "set_missing",
            np.where(out["winsorised"].astype(bool), "winsorise", "flag"),
        ),
    )
    return _records(
        out[
            [
                "facility",
                "district",
                "period",
                "indicator",
                "value",
                "outlier_level",
                "outlier_high",
                "outlier_score",
                "outlier_method",
                "treatment",
            ]
        ]
    )


def _outliers_by_indicator(t: Mapping[str, pd.DataFrame]) -> list[dict]:
    cols = ["values", "outliers", "outliers_by_count", "outliers_by_z"]
    g = t["outliers_summary"].groupby("indicator", sort=True)[cols].sum()
    g = g.reset_index()
    g["share"] = g["outliers"] / g["values"].where(g["values"] > 0)
    return _records(g)


def _consistency(t: Mapping[str, pd.DataFrame], districts: Sequence[str]) -> dict[str, Any]:
    ci = t["consistency_internal"]
    dist = ci[ci["level"] == "district"]
    years = sorted(int(y) for y in dist["year"].unique())
    tables = []
    for check in CHECKS:
        sub = dist[dist["check"] == check].set_index(["district", "year"])
        rows = []
        for d in districts:
            cells = []
            for y in years:
                if (d, y) in sub.index:
                    r = sub.loc[(d, y)]
                    ok = None if pd.isna(r["consistent"]) else bool(r["consistent"])
                    ratio = None if pd.isna(r["ratio"]) else float(r["ratio"])
                    # 0.998 shown as "1.00" and marked out of bounds reads as a bug: a
                    # third decimal when two would land on a bound.
                    on_bound = ratio is not None and round(ratio, 2) in (
                        round(float(r["lower"]), 2) if pd.notna(r["lower"]) else None,
                        round(float(r["upper"]), 2),
                    )
                    cells.append(
                        {
                            "ratio": ratio,
                            "consistent": ok,
                            "digits": 3 if on_bound and ok is False else 2,
                        }
                    )
                else:
                    cells.append({"ratio": None, "consistent": None, "digits": 2})
            rows.append({"district": d, "cells": cells})
        fac = ci[(ci["level"] == "facility") & (ci["check"] == check)]
        defined = fac["consistent"].notna()
        tables.append(
            {
                "check": check,
                "rows": rows,
                "district_years_out": int(
                    (dist["check"].eq(check) & dist["consistent"].eq(False)).sum()
                ),
                "district_years": int((dist["check"].eq(check) & dist["consistent"].notna()).sum()),
                "facility_years_out": int((defined & fac["consistent"].eq(False)).sum()),
                "facility_years": int(defined.sum()),
            }
        )
    cot = t["consistency_over_time"]
    cot = cot[(cot["level"] == "district") & cot["ratio"].notna()]
    last = int(cot["year"].max()) if len(cot) else None
    indicators = sorted(cot["indicator"].unique())
    over_time = []
    if last is not None:
        sub = cot[cot["year"] == last].set_index(["district", "indicator"])["ratio"]
        # One row per indicator, districts across: nine long indicator names do not
        # fit side by side on A4.
        for i in indicators:
            over_time.append(
                {
                    "indicator": i,
                    "cells": [
                        float(sub[(d, i)]) if (d, i) in sub.index else None for d in districts
                    ],
                }
            )
    return {
        "years": years,
        "internal": tables,
        "over_time_year": last,
        "over_time": over_time,
    }


def _duplicates(
    t: Mapping[str, pd.DataFrame], names: Mapping[str, str], s: DQReportSettings
) -> dict[str, Any]:
    conf = t["duplicates_conflicting"]
    conf = conf.assign(facility=conf["orgunit_uid"].map(names).fillna(conf["orgunit_uid"]))
    # By name, as a district team would look its facilities up.
    conf = conf.sort_values(["facility", "period", "dataelement"], kind="mergesort")
    shown = conf.head(s.top_n).assign(
        values_list=lambda d: d["values"].astype(str).str.split(r"\s*\|\s*", regex=True),
    )
    rules = conf["rule"].value_counts().sort_index()
    return {
        "rows": _records(shown[["facility", "period", "values_list", "chosen_value", "rule"]]),
        "rules": [{"rule": str(k), "n": int(v)} for k, v in rules.items()],
    }


def _orgunits(t: Mapping[str, pd.DataFrame], names: Mapping[str, str]) -> dict[str, Any]:
    om = t["orgunit_matches"]
    counts = om.groupby(["source", "method"], sort=True).size().unstack(fill_value=0)
    methods = ("uid", "name", "mapping")
    by_source = [
        {
            "source": str(src),
            **{m: int(counts.loc[src].get(m, 0)) for m in methods},
        }
        for src in counts.index
    ]
    other = om[om["method"] != "uid"].sort_values(
        ["method", "source", "name_in_export"], kind="mergesort"
    )
    other = other.assign(facility=other["orgunit_uid"].map(names).fillna(other["orgunit_uid"]))
    return {
        "by_source": by_source,
        "by_method": {m: int((om["method"] == m).sum()) for m in methods},
        "non_uid": _records(other[["source", "name_in_export", "method", "facility", "n_rows"]]),
    }


def _attrition(attrition: pd.DataFrame) -> dict[str, Any]:
    total = attrition[attrition["district"] == "all"]
    arms = [a for a in ("treated", "comparison") if a in set(total["arm"])]
    years = sorted(int(y) for y in total["year"].unique())
    per_arm = []
    for arm in arms:
        a = total[total["arm"] == arm].set_index("year")
        exp, rep = int(a["expected"].sum()), int(a["reported"].sum())
        per_arm.append(
            {
                "arm": arm,
                "programme": ", ".join(sorted(set(a["programme"]))),
                "years": [
                    {
                        "year": y,
                        "facilities_open": int(a.loc[y, "facilities_open"]),
                        "unreported_share": None
                        if pd.isna(a.loc[y, "unreported_share"])
                        else float(a.loc[y, "unreported_share"]),
                        "closures": int(a.loc[y, "closures"]),
                        "facilities_inactive": int(a.loc[y, "facilities_inactive"]),
                    }
                    for y in years
                    if y in a.index
                ],
                "expected": exp,
                "unreported": exp - rep,
                "unreported_share": _rate(exp - rep, exp),
                "closures": int(a["closures"].sum()),
            }
        )
    detail = attrition[attrition["district"] != "all"]
    by_d = detail.groupby(["district", "arm"], sort=True)[["expected", "reported"]].sum()
    by_d = by_d.reset_index()
    by_d["share"] = (by_d["expected"] - by_d["reported"]) / by_d["expected"].where(
        by_d["expected"] > 0
    )
    by_d = by_d.sort_values(["share", "district"], ascending=[False, True], kind="mergesort")
    worst = by_d.iloc[0] if len(by_d) else None
    best = by_d.iloc[-1] if len(by_d) else None
    return {
        "years": years,
        "arms": per_arm,
        "districts": _records(by_d[["district", "arm", "expected", "share"]]),
        "worst": None
        if worst is None
        else {"district": worst["district"], "arm": worst["arm"], "share": float(worst["share"])},
        "best": None
        if best is None
        else {"district": best["district"], "arm": best["arm"], "share": float(best["share"])},
    }


def area_tables(
    tables: Mapping[str, pd.DataFrame], districts: Sequence[str], facilities: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The DQ tables restricted to the area's districts (and its facilities).

    Tables keyed by org unit without a district column (duplicates, org-unit
    matches) are restricted through the master list.
    """
    dset = set(districts)
    fac_ids = set(facilities.loc[facilities["district"].isin(dset), "orgunit_uid"].astype(str))
    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        if name == "attrition_by_arm":
            out[name] = area_attrition(frame, districts)
        elif "district" in frame.columns:
            out[name] = frame[frame["district"].isin(dset)].reset_index(drop=True)
        elif "orgunit_uid" in frame.columns:
            out[name] = frame[frame["orgunit_uid"].astype(str).isin(fac_ids)].reset_index(drop=True)
        elif "facility_id" in frame.columns:
            out[name] = frame[frame["facility_id"].astype(str).isin(fac_ids)].reset_index(drop=True)
        else:
            out[name] = frame
    return out


def data_quality_context(
    tables: Mapping[str, pd.DataFrame],
    facilities: pd.DataFrame,
    area: str,
    districts: Sequence[str],
    settings: DQReportSettings,
    figures: Mapping[str, str | os.PathLike[str]],
    *,
    area_label: Mapping[str, str],
    places: Mapping[str, Mapping[str, str]],
    csv_dir: str = "results/dq",
) -> dict[str, Any]:
    """Everything the template shows, from the DQ tables of every area.

    Parameters
    ----------
    tables
        DQ tables by name (:data:`DQ_REPORT_TABLES`), all areas.
    facilities
        Master list (``orgunit_uid, orgunit_name, district``): names and areas.
    area
        Area key (``mopti`` / ``bamako``).
    districts
        The area's districts in display order (config ``areas.<area>.districts``).
    settings
        Targets and methods shown to the reader.
    figures
        SVG path per figure name of :data:`sahel_eval.figures.dq.DQ_FIGURES`.
    area_label
        Language -> the area's name as readers say it (config ``areas.<area>.label``).
    places
        District -> language -> "in <district>" (config ``areas.<area>.place``).
    csv_dir
        Where the full tables are, as shown to readers (relative path).
    """
    t = area_tables(tables, districts, facilities)
    names = dict(
        zip(
            facilities["orgunit_uid"].astype(str),
            facilities["orgunit_name"].astype(str),
            strict=True,
        )
    )
    periods = sorted(t["completeness_month"]["period"].astype(str))
    return {
        "area": area,
        "area_label": dict(area_label),
        "places": {k: dict(v) for k, v in places.items()},
        "districts": list(districts),
        "period_start": periods[0] if periods else None,
        "period_end": periods[-1] if periods else None,
        "settings": settings.__dict__ | {"seasonal_indicators": list(settings.seasonal_indicators)},
        "summary": _summary(t, settings),
        "district_rows": _district_rows(t, districts),
        "outlier_rows": _outlier_rows(t, names, settings),
        "outliers_by_indicator": _outliers_by_indicator(t),
        "consistency": _consistency(t, districts),
        # WHO DQR domains 3-4: the rule dq_external writes them (absent from tables
        # built by the facility cleaning alone).
        "external": external_context(tables, area, districts)
        if set(EXTERNAL_TABLES) <= set(tables)
        else None,
        "duplicates": _duplicates(t, names, settings),
        "orgunits": _orgunits(t, names),
        "attrition": _attrition(t["attrition_by_arm"]),
        "figures": {k: str(v) for k, v in figures.items()},
        "csv_dir": csv_dir,
        "score_cap": SCORE_CAP,
    }


def render_data_quality(
    context: Mapping[str, Any],
    provenance: Provenance | Mapping[str, Any],
    lang: str,
    out_path: str | os.PathLike[str],
    *,
    synthetic: bool,
) -> Path:
    """Write ``data_quality_{area}_{lang}.html`` atomically and return its path."""
    return render_audited_report(TEMPLATE, context, provenance, lang, out_path, synthetic=synthetic)
