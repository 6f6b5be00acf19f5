"""The WHO DQR domains 3-4 section of the data-quality report, from ``results/dq/``.

Reads the tables of :mod:`sahel_eval.clean.dq_external` (bounds and rates included,
so the report computes nothing) and picks the area's rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = ["EXTERNAL_TABLES", "external_context"]

EXTERNAL_TABLES = ("external_consistency", "external_fertility", "external_population")


def _num(x: Any) -> float | None:
    return None if pd.isna(x) else float(x)


def _digits(ratio: float | None, bounds: tuple[float | None, float | None]) -> int:
    # 1.332 shown as "1.33" beside a bound of 1.33 reads as a bug: a third decimal when
    # two would land on a bound.
    if ratio is None or None in bounds:
        return 2
    return 3 if round(ratio, 2) in {round(float(b), 2) for b in bounds} else 2


def _bounds(frame: pd.DataFrame) -> tuple[float | None, float | None]:
    if frame.empty:
        return None, None
    return float(frame["lower"].iloc[0]), float(frame["upper"].iloc[0])


def _population(
    pop: pd.DataFrame, districts: Sequence[str], bounds: tuple[float | None, float | None]
) -> dict[str, Any]:
    years = sorted(int(y) for y in pop["year"].unique())
    sub = pop.set_index(["district", "year"])
    rows = []
    for d in districts:
        cells = []
        for y in years:
            r = sub.loc[(d, y)] if (d, y) in sub.index else None
            ratio = None if r is None else _num(r["ratio"])
            cells.append(
                {
                    "ratio": ratio,
                    "digits": _digits(ratio, bounds),
                    "flagged": None if r is None else bool(r["flagged"]),
                }
            )
        rows.append({"district": d, "cells": cells})
    flagged = pop[pop["flagged"].astype(bool)]
    return {
        "years": years,
        "rows": rows,
        "n": len(pop),
        "flagged": len(flagged),
        "flagged_districts": sorted(flagged["district"].unique()),
    }


def _coverage(
    ext: pd.DataFrame, districts: Sequence[str], bounds: tuple[float | None, float | None]
) -> list[dict[str, Any]]:
    out = []
    for indicator, g in ext.groupby("indicator", sort=True):
        rows = []
        for d in districts:
            for r in g[g["district"] == d].sort_values("year").itertuples(index=False):
                rows.append(
                    {
                        "district": d,
                        "year": int(r.year),
                        "survey": _num(r.survey_coverage),
                        "survey_low": _num(r.survey_low),
                        "survey_high": _num(r.survey_high),
                        "suppressed": bool(r.suppressed),
                        "routine": _num(r.routine_coverage),
                        "ratio": _num(r.ratio),
                        "digits": _digits(_num(r.ratio), bounds),
                        "catchment_digits": _digits(_num(r.catchment_ratio), bounds),
                        "ratio_low": _num(r.ratio_low),
                        "ratio_high": _num(r.ratio_high),
                        "flagged": bool(r.flagged),
                        "outside": bool(r.outside),
                        "catchment_routine": _num(r.catchment_routine_coverage),
                        "catchment_ratio": _num(r.catchment_ratio),
                        "catchment_flagged": bool(r.catchment_flagged),
                        "catchment_outside": bool(r.catchment_outside),
                    }
                )
        out.append(
            {
                "indicator": str(indicator),
                "rows": rows,
                "n": len(rows),
                "flagged": sum(r["flagged"] for r in rows),
                "outside": sum(r["outside"] for r in rows),
                "catchment_flagged": sum(r["catchment_flagged"] for r in rows),
            }
        )
    return out


def external_context(
    tables: Mapping[str, pd.DataFrame], area: str, districts: Sequence[str]
) -> dict[str, Any]:
    """Rows and counts of the domains 3-4 section for one area.

    Parameters
    ----------
    tables
        DQ tables by name; must hold :data:`EXTERNAL_TABLES` (all areas).
    area
        Area key (the fertility table is per area).
    districts
        The area's districts in display order.
    """
    dset = set(districts)
    pop = tables["external_population"]
    pop = pop[pop["district"].isin(dset)]
    ext = tables["external_consistency"]
    ext = ext[ext["district"].isin(dset)]
    fert = tables["external_fertility"]
    fert = fert[fert["area"] == area].sort_values("year")
    lo, hi = _bounds(ext)
    # Same bounds as the projections' ratio; this table exists without projections.
    plo, phi = _bounds(tables["external_fertility"])
    return {
        "coverage_low": lo,
        "coverage_high": hi,
        "population_low": plo,
        "population_high": phi,
        "rate": None if ext.empty else float(ext["expected_pregnancy_rate"].iloc[0]),
        "has_projections": bool(len(pop)),
        "recall_months": None if fert.empty else int(fert["recall_months"].iloc[0]),
        "population": _population(pop, districts, (plo, phi)),
        "coverage": _coverage(ext, districts, (lo, hi)),
        "fertility": [
            {
                "year": int(r.year),
                "births": int(r.births),
                "rate": _num(r.survey_birth_rate),
                "low": _num(r.survey_low),
                "high": _num(r.survey_high),
                "expected": float(r.expected_pregnancy_rate),
                "ratio": _num(r.ratio),
                "digits": _digits(_num(r.ratio), (plo, phi)),
                "ratio_low": _num(r.ratio_low),
                "ratio_high": _num(r.ratio_high),
                "flagged": bool(r.flagged),
                "outside": bool(r.outside),
            }
            for r in fert.itertuples(index=False)
        ],
    }
