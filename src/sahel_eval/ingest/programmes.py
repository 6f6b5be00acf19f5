"""Ingest the programme roll-out table and the security events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sahel_eval import schemas
from sahel_eval.errors import Problem
from sahel_eval.ingest.common import (
    interim_table,
    membership_problem,
    raise_problems,
)
from sahel_eval.ingest.crosscheck import check_events, check_rollout_within_data
from sahel_eval.io import tables


def ingest_programmes(
    config: Mapping[str, Any],
    *,
    src: str | Path | None = None,
    out: str | Path | None = None,
    facility_ids: Iterable[str] | None = None,
    datavalues: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Programme roll-out: known programmes, levels and units, end ≥ start.

    Units at commune or district level must be districts under ``geography``; at
    facility level, when ``facility_ids`` is given, UIDs of the master list. When the
    ingested ``datavalues`` are given, every roll-out starts after their first month
    and before their last month ends.
    """
    src = src or config["inputs"]["programmes"]
    frame = tables.read_programmes(src)
    names = [p["name"] for p in config["programmes"]]
    frame = schemas.check_frame(
        frame,
        schemas.programmes_schema(names),
        src,
        hint="programme names must match `programmes` in config/config.yaml; dates as "
        "YYYY-MM-DD with end after start.",
    )
    geography = config["geography"]
    districts = {d for ds in geography.values() for d in ds}
    problems: list[Problem | None] = []
    if districts:
        problems.append(
            membership_problem(
                frame,
                "unit_id",
                districts,
                "known_district",
                "district/commune not in `geography` of the config",
                mask_rows=frame["unit_level"].isin(["commune", "district"]),
            )
        )
    if facility_ids is not None:
        problems.append(
            membership_problem(
                frame,
                "unit_id",
                facility_ids,
                "known_facility",
                "facility not in the master facility list",
                mask_rows=frame["unit_level"] == "facility",
            )
        )
    raise_problems(
        src, problems, hint="spell units as in the facility list / `geography`.", row_label="line"
    )
    if datavalues is not None:
        check_rollout_within_data(frame, datavalues, src)
    return interim_table(frame, out)


def ingest_events(
    config: Mapping[str, Any],
    *,
    src: str | Path | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """ACLED-style events: unique ids, dates, fatalities ≥ 0, districts and types known.

    See :func:`~sahel_eval.ingest.crosscheck.check_events`.
    """
    src = src or config["inputs"]["events"]
    frame = tables.read_events(src)
    frame = schemas.check_frame(frame, schemas.events_schema(), src)
    check_events(config, frame, src)
    return interim_table(frame, out)
