"""Canonical tables of DESIGN §4 that need no cleaning beyond ingest: renamed and typed."""

from __future__ import annotations

import pandas as pd

FACILITY_COLUMNS = {
    "orgunit_uid": "facility_id",
    "orgunit_name": "name",
    "region": "region",
    "district": "district",
    "commune": "commune",
    "aire_de_sante": "aire_de_sante",
    "type": "type",
    "opened": "opened",
    "closed": "closed",
}


def facilities_table(interim: pd.DataFrame) -> pd.DataFrame:
    """``facilities``: facility_id, name, region, district, commune, aire_de_sante, type,
    opened, closed — one row per facility, sorted by facility_id."""
    out = interim.loc[:, list(FACILITY_COLUMNS)].rename(columns=FACILITY_COLUMNS)
    return out.sort_values("facility_id", kind="stable").reset_index(drop=True)


def population_table(interim: pd.DataFrame) -> pd.DataFrame:
    """``population``: facility_id, year, population, sorted."""
    out = interim.rename(columns={"orgunit_uid": "facility_id"})
    return out.sort_values(["facility_id", "year"], kind="stable").reset_index(drop=True)
