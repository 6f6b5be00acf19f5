"""Ingest the facility master list and the population tables (``results/interim/``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sahel_eval import schemas
from sahel_eval.ingest.common import (
    interim_table,
    membership_problem,
    raise_problems,
)
from sahel_eval.io import tables


def ingest_facilities(
    config: Mapping[str, Any],
    *,
    src: str | Path | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """Master facility list: one row per facility, region/district known, UIDs unique.

    Parameters
    ----------
    config
        Validated config.
    src
        Raw file (default ``inputs.facilities``).
    out
        Parquet to write, or ``None`` to validate only.

    Returns
    -------
    pandas.DataFrame
        The typed table (see :func:`sahel_eval.schemas.facilities_schema`).
    """
    src = src or config["inputs"]["facilities"]
    frame = tables.read_facilities(src)
    frame = schemas.check_frame(
        frame,
        schemas.facilities_schema(config["geography"] or None),
        src,
        masked=("orgunit_uid",),
        hint="each facility must appear once with a DHIS2 UID, and its region and "
        "district must be spelled as under `geography` in config/config.yaml.",
    )
    return interim_table(frame, out)


def ingest_population(
    config: Mapping[str, Any],
    *,
    src: str | Path | None = None,
    out: str | Path | None = None,
    facility_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Catchment population: one row per facility and year, population ≥ 0.

    Parameters
    ----------
    facility_ids
        UIDs of the master list; when given, every ``orgunit_uid`` must be one of them.
    """
    src = src or config["inputs"]["population"]
    frame = tables.read_population(src)
    frame = schemas.check_frame(
        frame,
        schemas.population_schema(),
        src,
        masked=("orgunit_uid",),
        hint="population must be a whole number ≥ 0, once per facility and year.",
    )
    if facility_ids is not None:
        _require_known(
            frame,
            "orgunit_uid",
            facility_ids,
            src,
            rule="known_facility",
            detail="facility not in the master facility list",
            hint="add the facility to the master list or correct its UID.",
        )
    return interim_table(frame, out)


def ingest_district_population(
    config: Mapping[str, Any],
    *,
    src: str | Path | None = None,
    out: str | Path | None = None,
    districts: Iterable[str] | None = None,
) -> pd.DataFrame:
    """District population projections: one row per district and year, population > 0.

    Parameters
    ----------
    districts
        Districts of the master list; when given, every ``district`` must be one of
        them (a misspelt district would silently leave its own out of WHO DQR domain 4).
    """
    src = src or config["inputs"]["district_population"]
    frame = tables.read_district_population(src)
    frame = schemas.check_frame(
        frame,
        schemas.district_population_schema(),
        src,
        hint="population must be a whole number > 0, once per district and year.",
    )
    if districts is not None:
        _require_known(
            frame,
            "district",
            districts,
            src,
            rule="known_district",
            detail="district not in the master facility list",
            hint="spell the district as in the master facility list (column `district`).",
        )
    return interim_table(frame, out)


def _require_known(
    frame: pd.DataFrame,
    column: str,
    known: Iterable[str],
    src: str | Path,
    *,
    rule: str,
    detail: str,
    hint: str,
) -> None:
    """Raise one :class:`~sahel_eval.errors.InputError` for values of ``column`` not in
    ``known`` (the master list the population table must match)."""
    problem = membership_problem(frame, column, known, rule, detail)
    raise_problems(src, [problem], hint=hint, row_label="line")
