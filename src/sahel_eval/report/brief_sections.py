"""Programme brief sections that are not DiD effects: CSCOMs through shocks, KPI watch.

Split from :mod:`sahel_eval.report.brief` (which re-exports them) to keep modules short.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from sahel_eval.report.mutual_areas import register_columns

__all__ = [
    "KPI_STATUSES",
    "RESILIENCE_CLASSES",
    "kpi_watch",
    "resilience_rows",
    "survey_groups",
]

# Classes of the resilience stage, in the order a reader meets them (best first).
RESILIENCE_CLASSES = ("resilient", "recovered", "not_recovered", "interrupted", "not_assessable")

# KPI statuses of the sustainability stage, worst first so alarms are read first.
KPI_STATUSES = ("alarm", "watch", "good", "not_available", "not_applicable")


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _ym(value: Any) -> str:
    """``202112``, ``"202112"`` or ``"2021-12"`` as ``"2021-12"``."""
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    digits = text.replace("-", "")
    return f"{digits[:4]}-{digits[4:6]}"


def _ci_reading(row: Mapping[str, Any]) -> str:
    """Programme vs comparison CSCOMs through one shock: the resilience stage writes no
    verdict code, so its interval is read here (most cautious reading)."""
    low, high = _num(row.get("ci_low")), _num(row.get("ci_high"))
    if not row.get("informative", False) or low is None or high is None:
        return "cannot_tell"
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "no_clear_difference"


def resilience_rows(
    aggregates: pd.DataFrame,
    shocks: pd.DataFrame,
    comparison: Mapping[str, Any],
    service: str,
    kinds: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per shock that hit the area: shares of CSCOMs in each class, in onset order.

    Parameters
    ----------
    aggregates
        ``results/resilience/{area}_aggregates.csv``; the ``area`` level is used.
    shocks
        ``results/resilience/{area}_shocks.csv`` (kind, district, onset).
    comparison
        ``results/resilience/{area}_comparison.json``: programme vs comparison CSCOMs.
    service
        The service shown (the first essential service of the config).
    kinds
        Shock name -> kind (``strike``, ``pandemic``) of the config's national shocks;
        the shocks table only says ``national``.
    """
    area_rows = aggregates[(aggregates["level"] == "area") & (aggregates["service"] == service)]
    area_rows = area_rows.set_index("shock_id")
    out = []
    ordered = shocks.sort_values(["onset", "shock_id"], kind="mergesort")
    for s in ordered.itertuples(index=False):
        if s.shock_id not in area_rows.index:
            continue
        a = area_rows.loc[s.shock_id]
        # The template names the row with report.shocks.shock_label, which reads these
        # four fields; the kind is resolved here so the label needs no config.
        out.append(
            {
                "shock_id": s.shock_id,
                "kind": (kinds or {}).get(s.shock_id, s.kind),
                "district": None if pd.isna(s.district) else str(s.district),
                "onset": _ym(s.onset),
                "n": int(a["n_windows"]),
                "shares": {c: float(a[f"share_{c}"]) for c in RESILIENCE_CLASSES},
                "counts": {c: int(a[f"n_{c}"]) for c in RESILIENCE_CLASSES},
                "comparison": _comparison_verdict(comparison.get("shocks", {}).get(s.shock_id)),
            }
        )
    return out


def _comparison_verdict(entry: Mapping[str, Any] | None) -> str:
    """Programme vs comparison CSCOMs through one shock, in one word."""
    if not entry or entry.get("status") != "ok":
        return "not_applicable"
    heads = []
    for block in ("randomization", "wild"):
        b = entry.get(block) or {}
        heads += [e for e in b.get("estimates", []) if e.get("headline")]
    if not heads:
        # Compared, but no assignment-level inference is valid (areas on both sides,
        # or too few for the wild bootstrap): the data cannot tell.
        return "cannot_tell"
    # The most cautious reading wins: if either few-cluster inference is not
    # informative, we cannot tell.
    readings = {_ci_reading(e) for e in heads if e.get("ci_low") is not None} | {
        "cannot_tell" for e in heads if not e.get("informative", False)
    }
    if "cannot_tell" in readings or not readings:
        return "cannot_tell"
    if len(readings) == 1:
        return readings.pop()
    return "no_clear_difference"


#: Mali's health-coverage schemes a brief explains when a register column shows one
#: (catalogue ``summary.scheme.<code>``).
EXPLAINED_SCHEMES = ("AMV", "AMO", "RAMED")


def _range(thresholds: Mapping[str, Any], kpi: str) -> dict[str, float | None]:
    good = (thresholds.get(kpi) or {}).get("good") or [None, None]
    return {"low": _num(good[0]), "high": _num(good[1])}


def kpi_watch(
    kpis: pd.DataFrame, mutuals: Sequence[str], thresholds: Mapping[str, Any]
) -> dict[str, Any]:
    """The latest year's KPI traffic lights of each mutual of the area.

    Returns
    -------
    dict
        ``mutuals`` (name — scheme, its ``scheme``, year), ``rows`` (one per KPI in
        file order: ``kpi``, ``good`` range, ``cells`` per mutual with ``value`` and ``status``) and
        ``alarms`` (``mutual, year, kpi, value``) in table order.
    """
    sub = kpis[kpis["mutual"].isin(mutuals)]
    cols, alarms = [], []
    latest: dict[str, pd.DataFrame] = {}
    for m, scheme, label in register_columns(sub):
        rows = sub[(sub["mutual"] == m) & (sub["scheme"] == scheme)]
        year = int(rows["year"].max())
        latest[label] = rows[rows["year"] == year].set_index("kpi")
        cols.append({"mutual": label, "scheme": scheme, "year": year})
    order = list(dict.fromkeys(sub["kpi"]))
    table = []
    for kpi in order:
        cells = []
        for c in cols:
            frame = latest[c["mutual"]]
            if kpi in frame.index:
                r = frame.loc[kpi]
                status = str(r["status"])
                value = _num(r["value"])
            else:
                status, value = "not_available", None
            cells.append({"value": value, "status": status})
            if status == "alarm":
                alarms.append(
                    {"mutual": c["mutual"], "year": c["year"], "kpi": kpi, "value": value}
                )
        table.append({"kpi": kpi, "good": _range(thresholds, kpi), "cells": cells})
    # Schemes a note explains wherever the table stands: the register's names without
    # their "+" (AMV+ is an AMV row), and whether a "+" name is shown at all.
    shown = [str(c["scheme"]) for c in cols]
    schemes = [k for k in EXPLAINED_SCHEMES if any(x.rstrip("+") == k for x in shown)]
    return {
        "mutuals": cols,
        "rows": table,
        "alarms": alarms,
        "schemes": schemes,
        "schemes_plus": any(x.endswith("+") for x in shown),
    }


def survey_groups(
    effects: Sequence[Mapping[str, Any]], survey: Mapping[str, Any]
) -> dict[str, list[Mapping[str, Any]]]:
    """Survey effects split for the brief: ``covered`` (who is covered, by scheme: the
    outcomes of ``survey.scheme_coverage``, ``coverage_none``, ``any_insurance``),
    ``costs`` (what care costs households: catastrophic spending at every threshold,
    forgone care) and ``care`` (the rest: use and quality of care), each in file order."""
    covered = {*survey["scheme_coverage"], "coverage_none", "any_insurance"}
    costs = {"catastrophic_spending", *survey["catastrophic_thresholds"], "forgone_care_cost"}
    out: dict[str, list[Mapping[str, Any]]] = {"care": [], "covered": [], "costs": []}
    for e in effects:
        o = e["outcome"]
        out["covered" if o in covered else "costs" if o in costs else "care"].append(e)
    return out
