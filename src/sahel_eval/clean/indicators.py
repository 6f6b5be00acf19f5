"""Sum DHIS2 (data element, category option combo) rows into the analysis indicators.

The mapping is ``dhis2.indicators`` of the config: indicator -> list of
``{data_element, category_option_combo}``. One row may feed several indicators (the
under-5 consultations feed both ``consultations_u5`` and ``consultations_all``).
An indicator is the sum of the rows present for the facility-month (DHIS2 analytics
does the same: DHIS2 does not store zeros by default, so an absent row is not a
reason to lose the whole indicator); it is missing only when none of its rows is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from sahel_eval.errors import InputError, Problem

__all__ = ["indicator_table", "map_indicators"]


def indicator_table(indicators: Mapping[str, Sequence[Mapping[str, str]]]) -> pd.DataFrame:
    """The config mapping as a table.

    Parameters
    ----------
    indicators
        ``dhis2.indicators`` of the config.

    Returns
    -------
    pandas.DataFrame
        ``indicator, dataelement, categoryoptioncombo``, one row per pair.

    Raises
    ------
    InputError
        If a pair is listed twice for one indicator (it would be counted twice).
    """
    rows = [
        (name, src["data_element"], src["category_option_combo"])
        for name, sources in indicators.items()
        for src in sources
    ]
    table = pd.DataFrame(rows, columns=["indicator", "dataelement", "categoryoptioncombo"])
    if table.duplicated().any():
        dup = table[table.duplicated()].iloc[0]
        raise InputError(
            "config",
            [
                Problem(
                    f"dhis2.indicators.{dup['indicator']}",
                    "unique_source",
                    "a (data element, category option combo) pair is listed twice",
                )
            ],
            hint="list each pair once per indicator.",
            column_label="key",
        )
    return table


def map_indicators(
    values: pd.DataFrame, indicators: Mapping[str, Sequence[Mapping[str, str]]]
) -> pd.DataFrame:
    """Sum data values into indicators per facility and month.

    Parameters
    ----------
    values
        Deduplicated data values: ``orgunit_uid, period, dataelement,
        categoryoptioncombo, value`` and optionally ``duplicate_resolved``.
    indicators
        ``dhis2.indicators`` of the config.

    Returns
    -------
    pandas.DataFrame
        ``facility_id, period, indicator, value, duplicate_resolved`` (any source row
        resolved), sorted; rows whose pair is not mapped are ignored (ingest has
        already checked them against ``dhis2.unmapped_data_elements``).
    """
    table = indicator_table(indicators)
    frame = values[["orgunit_uid", "period", "dataelement", "categoryoptioncombo", "value"]].copy()
    frame["duplicate_resolved"] = (
        values["duplicate_resolved"].to_numpy(dtype=bool)
        if "duplicate_resolved" in values
        else False
    )
    merged = frame.merge(table, on=["dataelement", "categoryoptioncombo"], how="inner")
    g = merged.groupby(["orgunit_uid", "period", "indicator"], sort=True)
    out = (
        pd.DataFrame(
            {
                "value": g["value"].sum(min_count=1),
                "duplicate_resolved": g["duplicate_resolved"].any(),
            }
        )
        .reset_index()
        .rename(columns={"orgunit_uid": "facility_id"})
    )
    out["value"] = out["value"].astype("float64")
    out["duplicate_resolved"] = out["duplicate_resolved"].astype(bool)
    return out
