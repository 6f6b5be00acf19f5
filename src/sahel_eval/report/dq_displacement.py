"""The data-quality report's table of catchments with displacement (DESIGN §4).

Reads ``results/dq/denominators_{area}.csv`` (written by
:func:`sahel_eval.clean.denominators.area_displacement_table`) and only picks and
names what the page shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Any

import pandas as pd

__all__ = ["displacement_context", "read_displacement_table"]


def read_displacement_table(path: str | PathLike[str]) -> pd.DataFrame:
    """The denominators table of one area (UIDs and districts as text)."""
    return pd.read_csv(path, dtype={"facility_id": "str", "district": "str", "indicator": "str"})


def displacement_context(
    table: pd.DataFrame, facilities: pd.DataFrame, config: Mapping[str, Any]
) -> dict[str, Any]:
    """What the template shows: one row per catchment and year with displacement.

    Parameters
    ----------
    table
        :func:`read_displacement_table`.
    facilities
        Master list, for the CSCOMs' names.
    config
        ``inputs.displacement_sites`` (configured or not) and
        ``denominators.displacement_adjusted`` (which population the analyses use).
    """
    names = dict(
        zip(
            facilities["orgunit_uid"].astype(str),
            facilities["orgunit_name"].astype(str),
            strict=True,
        )
    )
    rows = table.assign(facility=table["facility_id"].map(names).fillna(table["facility_id"]))
    rows = rows.astype(object).where(rows.notna(), None)
    return {
        "configured": bool(config["inputs"]["displacement_sites"]),
        "adjusted": bool(config["denominators"]["displacement_adjusted"]),
        "indicator": config["denominators"]["dq_indicator"],
        "n_facilities": int(table["facility_id"].nunique()),
        "n_hosts": int(table.loc[table["displaced_in"] > 0, "facility_id"].nunique()),
        "n_origins": int(table.loc[table["displaced_out"] > 0, "facility_id"].nunique()),
        "rows": rows.to_dict(orient="records"),
    }
