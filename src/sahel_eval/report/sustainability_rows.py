"""The sustainability part of the technical report: persistence rows and the mutual
KPI register, laid out for the template from the report tables (nothing computed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from sahel_eval.report.inference_notes import confidence_set
from sahel_eval.report.mutual_areas import register_columns
from sahel_eval.report.records import records

__all__ = ["kpi_register", "persistence_rows", "persistence_windows"]


def persistence_rows(table: pd.DataFrame, months: int) -> list[dict[str, Any]]:
    """Persistence rows with their warning codes, months as ``YYYY-MM`` and the
    confidence set in words; ``months`` is the window a full estimate needs."""
    rows = []
    for r in records(table):
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
        r["set"] = confidence_set(r.get("ci_set"))
        rows.append(r)
    return rows


def persistence_windows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The distinct during / after windows, one per programme, for one sentence each."""
    keys = ("programme", "during_from", "during_to", "after_from", "after_to")
    out: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        if all(r.get(k) for k in keys):
            out.setdefault(tuple(r[k] for k in keys), {k: r[k] for k in keys})
    return list(out.values())


def kpi_register(table: pd.DataFrame) -> dict[str, Any]:
    """The latest year of the mutual KPIs: one row per KPI, one cell per mutual and
    scheme (:func:`register_columns`), and the count of each status."""
    if table.empty:
        return {"mutuals": [], "year": None, "rows": [], "counts": {}}
    last = int(table["year"].max())
    latest = table[table["year"] == last]
    columns = register_columns(latest)
    kpis = list(dict.fromkeys(latest["kpi"]))
    rows = []
    for kpi in kpis:
        cells = []
        for m, scheme, _ in columns:
            hit = latest[
                (latest["mutual"] == m) & (latest["scheme"] == scheme) & (latest["kpi"] == kpi)
            ]
            cells.append(records(hit)[0] if len(hit) else None)
        rows.append({"kpi": kpi, "cells": cells})
    counts = latest["status"].value_counts()
    statuses = ("good", "watch", "alarm", "not_available", "not_applicable")
    return {
        "mutuals": [label for *_, label in columns],
        "year": last,
        "rows": rows,
        "counts": {s: int(counts.get(s, 0)) for s in statuses},
    }
