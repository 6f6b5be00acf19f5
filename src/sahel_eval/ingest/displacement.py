"""Ingest the displacement sites and map each to the CSCOM catchments it moves people
between (DESIGN §3-4): the host aire de santé and the aire the people fled."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sahel_eval import schemas
from sahel_eval.errors import Problem, problem
from sahel_eval.ingest.common import interim_table, raise_problems
from sahel_eval.io import tables

#: Columns naming an aire de santé: (district column, aire column, UID column written).
PLACES = (
    ("district", "aire_de_sante", "orgunit_uid"),
    ("origin_district", "origin_aire_de_sante", "origin_orgunit_uid"),
)


def _aire_problems(frame: pd.DataFrame, facilities: pd.DataFrame) -> list[Problem]:
    """Every aire named must be the aire of exactly one facility of its district."""
    per_aire = facilities.groupby(["district", "aire_de_sante"])["orgunit_uid"].nunique()
    problems = []
    for district, aire, _ in PLACES:
        pairs = pd.MultiIndex.from_frame(frame[[district, aire]])
        count = per_aire.reindex(pairs).fillna(0).to_numpy()
        shown = (frame[district] + " / " + frame[aire]).tolist()
        for bad, rule, detail in (
            (count == 0, "known_aire", "no facility of the master list has this district / aire"),
            (count > 1, "one_facility_per_aire", "several facilities share this district / aire"),
        ):
            if bad.any():
                rows = frame.index[bad].tolist()
                problems.append(
                    problem(
                        aire, rule, detail, rows, [shown[i] for i in bad.nonzero()[0]], row_offset=2
                    )
                )
    return problems


def ingest_displacement_sites(
    config: Mapping[str, Any],
    *,
    facilities: pd.DataFrame,
    src: str | Path | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """Displaced people per site and month, mapped to the host and origin CSCOMs.

    Parameters
    ----------
    config
        Validated config (``inputs.displacement_sites``, ``geography``).
    facilities
        The ingested master list: each (district, aire de santé) of a row, host and
        origin, must be the aire of exactly one facility.
    src, out
        Raw file (default ``inputs.displacement_sites``); parquet to write, or ``None``.

    Returns
    -------
    pandas.DataFrame
        The raw columns (``month`` as ``YYYYMM``) plus ``orgunit_uid`` (host CSCOM) and
        ``origin_orgunit_uid`` (the CSCOM whose catchment they left), sorted by site
        and month.
    """
    src = src or config["inputs"]["displacement_sites"]
    frame = tables.read_displacement_sites(src)
    districts = sorted({d for ds in config["geography"].values() for d in ds})
    frame = schemas.check_frame(
        frame,
        schemas.displacement_schema(districts),
        src,
        hint="one row per site and month; districts spelled as under `geography`, persons "
        "a whole number ≥ 0.",
    )
    raise_problems(
        src,
        _aire_problems(frame, facilities),
        hint="spell the district and aire de santé as in the master facility list (one "
        "CSCOM per aire).",
        row_label="line",
    )
    uid = facilities.drop_duplicates(["district", "aire_de_sante"]).set_index(
        ["district", "aire_de_sante"]
    )["orgunit_uid"]
    for district, aire, col in PLACES:
        frame[col] = uid.reindex(pd.MultiIndex.from_frame(frame[[district, aire]])).to_numpy()
        frame[col] = frame[col].astype("str")
    frame = frame.sort_values(["site", "month"], kind="mergesort")
    return interim_table(frame, out)
