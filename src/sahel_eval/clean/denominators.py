"""Catchment populations that count displaced people where they live now (DESIGN §4).

A displacement site adds its persons to the catchment of the aire de santé that hosts
it and takes them from the aire they fled. A year's move is the annual mean of the
monthly counts: the persons of the year's months summed and divided by 12 (a month
without the site counts 0), so a site that opens in June weighs 7/12 of its size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.errors import InputError, problem

__all__ = [
    "adjusted_population",
    "area_displacement_table",
    "catchment_moves",
    "denominator_population",
    "displacement_table",
]

MOVES = ["orgunit_uid", "year", "displaced_in", "displaced_out"]
TABLE = [
    "facility_id",
    "district",
    "year",
    "population",
    "displaced_in",
    "displaced_out",
    "population_adjusted",
    "indicator",
    "months",
    "rate_unadjusted",
    "rate_adjusted",
]


def catchment_moves(sites: pd.DataFrame) -> pd.DataFrame:
    """Displaced people in and out per CSCOM and year (annual means of monthly persons).

    Parameters
    ----------
    sites
        Ingested sites: ``orgunit_uid`` (host), ``origin_orgunit_uid``, ``month``
        (``YYYYMM``), ``persons``.

    Returns
    -------
    pandas.DataFrame
        ``orgunit_uid, year, displaced_in, displaced_out`` (float, 0 where none), one
        row per CSCOM and year with a move, sorted.
    """
    year = sites["month"].str[:4].astype("int64").rename("year")
    persons = sites["persons"].astype("float64")
    moved = {
        name: persons.groupby([sites[col].rename("orgunit_uid"), year]).sum() / 12.0
        for name, col in (("displaced_in", "orgunit_uid"), ("displaced_out", "origin_orgunit_uid"))
    }
    out = pd.concat(moved, axis=1).fillna(0.0).sort_index().reset_index()
    return out[MOVES]


def adjusted_population(population: pd.DataFrame, moves: pd.DataFrame, source: str) -> pd.DataFrame:
    """Catchment population + displaced in − displaced out, per facility and year.

    Parameters
    ----------
    population
        ``orgunit_uid, year, population`` (the catchment population as given).
    moves
        :func:`catchment_moves`.
    source
        The displacement file, named when more people fled a catchment than it had.

    Returns
    -------
    pandas.DataFrame
        ``orgunit_uid, year, population`` (adjusted, float64) and
        ``population_unadjusted`` (float64), in the order of ``population``.

    Raises
    ------
    InputError
        A catchment would have a negative population (more people fled than lived
        there): the catchment or the site counts are wrong, and no rate can be computed.
    """
    out = population[["orgunit_uid", "year", "population"]].merge(
        moves, on=["orgunit_uid", "year"], how="left"
    )
    given = out["population"].astype("float64")
    adjusted = given + out["displaced_in"].fillna(0.0) - out["displaced_out"].fillna(0.0)
    negative = (adjusted < 0).to_numpy()
    if negative.any():
        keys = out.loc[negative, ["orgunit_uid", "year"]].astype(str).agg(" ".join, axis=1)
        raise InputError(
            source,
            [
                problem(
                    "persons",
                    "fled_within_population",
                    "more people fled the catchment (origin aire) in a year than its "
                    "catchment population",
                    keys.tolist(),
                    adjusted[negative].round(1).tolist(),
                    masked=False,
                )
            ],
            hint="check the persons of the sites whose people fled this aire, and the "
            "aire's catchment population.",
            row_label="facility-year",
        )
    return pd.DataFrame(
        {
            "orgunit_uid": out["orgunit_uid"],
            "year": out["year"],
            "population": adjusted,
            "population_unadjusted": given,
        }
    )


def denominator_population(
    population: pd.DataFrame, sites: pd.DataFrame | None, config: Mapping[str, Any]
) -> pd.DataFrame:
    """The population the rates divide by: adjusted when sites are configured and
    ``denominators.displacement_adjusted`` is on, else ``population`` unchanged."""
    if sites is None or not config["denominators"]["displacement_adjusted"]:
        return population
    source = config["inputs"]["displacement_sites"]
    return adjusted_population(population, catchment_moves(sites), source)


def displacement_table(
    panel: pd.DataFrame, population: pd.DataFrame, moves: pd.DataFrame, indicator: str
) -> pd.DataFrame:
    """The data-quality table: the area's catchments with displacement, per year, with
    the population and the indicator's rate unadjusted and adjusted.

    Parameters
    ----------
    panel
        The area's panel (``facility_id, district, month`` and the ``indicator`` count).
    population
        :func:`adjusted_population`.
    moves
        :func:`catchment_moves`.
    indicator
        The indicator whose rate is shown (``denominators.dq_indicator``).

    Returns
    -------
    pandas.DataFrame
        :data:`TABLE` columns; a rate is the mean monthly count over the year's months
        with a value, per 1,000 population (missing when no month has one).
    """
    year = panel["month"].str[:4].astype("int64").rename("year")
    counts = panel.groupby(["facility_id", "district", year], sort=True)[indicator].agg(
        ["mean", "count"]
    )
    counts = counts.reset_index().rename(columns={"facility_id": "orgunit_uid"})
    rows = counts.merge(moves, on=["orgunit_uid", "year"]).merge(
        population, on=["orgunit_uid", "year"], how="left"
    )
    mean = rows["mean"].where(rows["count"] > 0)
    given, adjusted = rows["population_unadjusted"], rows["population"]
    table = pd.DataFrame(
        {
            "facility_id": rows["orgunit_uid"],
            "district": rows["district"],
            "year": rows["year"],
            "population": given,
            "displaced_in": rows["displaced_in"],
            "displaced_out": rows["displaced_out"],
            "population_adjusted": adjusted,
            "indicator": indicator,
            "months": rows["count"].astype("int64"),
            "rate_unadjusted": mean / given.where(given > 0) * 1000.0,
            "rate_adjusted": mean / adjusted.where(adjusted > 0) * 1000.0,
        }
    )
    return table[TABLE].sort_values(["district", "facility_id", "year"], kind="mergesort")


def area_displacement_table(
    panel: pd.DataFrame,
    population: pd.DataFrame,
    sites: pd.DataFrame | None,
    config: Mapping[str, Any],
) -> pd.DataFrame:
    """:func:`displacement_table` of one area, whether or not the panel is adjusted
    (``denominators.dq_indicator``); no sites configured: the table without rows."""
    if sites is None:
        return pd.DataFrame({c: pd.Series(dtype=np.dtype("O")) for c in TABLE})
    moves = catchment_moves(sites)
    adjusted = adjusted_population(population, moves, config["inputs"]["displacement_sites"])
    return displacement_table(panel, adjusted, moves, config["denominators"]["dq_indicator"])
