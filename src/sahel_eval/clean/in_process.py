"""Ingest and clean the facility data of a config in one process, without Snakemake.

The pipeline runs these steps as separate rules through parquet files; tests and
benchmarks call :func:`clean_in_process` instead, which chains the same library
functions, so their numbers are the pipeline's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sahel_eval import ingest
from sahel_eval.clean.facility_month import CleanSettings, FacilityClean, clean_facility_data
from sahel_eval.clean.panels import build_panels

__all__ = ["FacilityRun", "clean_in_process"]


@dataclass(frozen=True)
class FacilityRun:
    """The interim tables, the cleaning result and the panels of one config.

    Attributes
    ----------
    facilities, population, programmes, datavalues, registrations
        Interim tables as the ingest rule writes them (``results/interim/``).
    settings
        The cleaning settings of the config.
    clean
        :func:`~sahel_eval.clean.facility_month.clean_facility_data`'s result.
    panels
        ``panel_{area}`` by area (:func:`~sahel_eval.clean.panels.build_panels`).
    sites
        The ingested displacement sites, or ``None`` when none are configured.
    timings
        Wall seconds of ``ingest``, ``clean_facility_month`` and ``panels``.
    """

    facilities: pd.DataFrame
    population: pd.DataFrame
    programmes: pd.DataFrame
    datavalues: pd.DataFrame
    registrations: pd.DataFrame
    settings: CleanSettings
    clean: FacilityClean
    panels: dict[str, pd.DataFrame]
    sites: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)


def clean_in_process(config: Mapping[str, Any]) -> FacilityRun:
    """Ingest the facility inputs of ``config``, clean them and build the panels.

    Parameters
    ----------
    config
        A validated config; ``inputs`` name the facility list, population,
        programmes, the DHIS2 exports and optionally the org-unit mapping.

    Returns
    -------
    FacilityRun

    Raises
    ------
    InputError
        An input fails ingest or cleaning (the message names file, column and rows).
    """
    inputs = config["inputs"]
    t0 = time.perf_counter()
    facilities = ingest.ingest_facilities(config)
    programmes = ingest.ingest_programmes(config, facility_ids=facilities["orgunit_uid"])
    population = ingest.ingest_population(config)
    datavalues = ingest.ingest_dhis2_datavalues(config)
    registrations = ingest.ingest_dhis2_completeness(config)
    t1 = time.perf_counter()
    settings = CleanSettings.from_config(config)
    clean = clean_facility_data(
        datavalues,
        registrations,
        facilities,
        settings,
        orgunit_mapping=inputs.get("orgunit_mapping"),
        datavalues_source=inputs["dhis2_datavalues"],
        registrations_source=inputs["dhis2_completeness"],
    )
    t2 = time.perf_counter()
    sites = (
        ingest.ingest_displacement_sites(config, facilities=facilities)
        if inputs["displacement_sites"]
        else None
    )
    panels = build_panels(
        clean.facility_month, facilities, population, programmes, config, sites=sites
    )
    t3 = time.perf_counter()
    return FacilityRun(
        facilities=facilities,
        population=population,
        programmes=programmes,
        datavalues=datavalues,
        registrations=registrations,
        settings=settings,
        clean=clean,
        panels=panels,
        sites=sites,
        timings={"ingest": t1 - t0, "clean_facility_month": t2 - t1, "panels": t3 - t2},
    )
