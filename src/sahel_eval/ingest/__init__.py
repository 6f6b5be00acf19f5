"""Ingest: raw inputs -> typed, validated, pseudonymised tables under ``results/interim/``.

One public function per kind of input. Each reads through :mod:`sahel_eval.io`,
validates (pandera schemas and cross-checks against the config), drops direct
identifiers, hashes ids, and - when ``out`` is given - writes parquet atomically.
With ``out=None`` nothing is written, which is how :func:`check_inputs` validates every
input for ``make check``. Interim tables keep the raw column names (canonical names are
the cleaning stage's job), except the mutual registers whose headers are mapped here.

One module per kind of input (:mod:`.facilities`, :mod:`.dhis2`, :mod:`.programmes`,
:mod:`.mutuals`, :mod:`.survey`, :mod:`.displacement`; shared checks in :mod:`.common`);
this package hands their functions on and holds the dispatch table and
:func:`check_inputs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from sahel_eval.errors import InputError
from sahel_eval.ingest.common import salt_for
from sahel_eval.ingest.crosscheck import (
    check_area_districts,
    check_facility_subgroups,
    check_spillover_units,
)
from sahel_eval.ingest.dhis2 import ingest_dhis2_completeness, ingest_dhis2_datavalues
from sahel_eval.ingest.displacement import ingest_displacement_sites
from sahel_eval.ingest.facilities import (
    ingest_district_population,
    ingest_facilities,
    ingest_population,
)
from sahel_eval.ingest.mutuals import ingest_mutuals
from sahel_eval.ingest.period_types import check_monthly_uses, monthly_uses
from sahel_eval.ingest.programmes import ingest_events, ingest_programmes
from sahel_eval.ingest.survey import ingest_survey, survey_entry

__all__ = [
    "KINDS",
    "SINGLE_FILE_INGESTERS",
    "check_inputs",
    "ingest_dhis2_completeness",
    "ingest_dhis2_datavalues",
    "ingest_district_population",
    "ingest_displacement_sites",
    "ingest_events",
    "ingest_facilities",
    "ingest_mutuals",
    "ingest_population",
    "ingest_programmes",
    "ingest_survey",
    "salt_for",
    "survey_entry",
]

KINDS = (
    "facilities",
    "population",
    "district_population",
    "dhis2_datavalues",
    "dhis2_completeness",
    "programmes",
    "events",
    "surveys",
    "mutuals",
    "displacement_sites",
)

#: Ingest function of each single-file input, by kind (the CLI and the Snakemake rules
#: dispatch on it; surveys and mutuals take extra arguments and are called directly).
SINGLE_FILE_INGESTERS = {
    "facilities": ingest_facilities,
    "population": ingest_population,
    "district_population": ingest_district_population,
    "dhis2_datavalues": ingest_dhis2_datavalues,
    "dhis2_completeness": ingest_dhis2_completeness,
    "programmes": ingest_programmes,
    "events": ingest_events,
}


def check_orgunits(
    config: Mapping[str, Any],
    facilities: pd.DataFrame,
    datavalues: pd.DataFrame | None,
    registrations: pd.DataFrame | None,
) -> None:
    """The org-unit mapping, and every org unit of the exports, match the master list.

    The cleaning stage makes this match (and raises the same errors); ``make check``
    runs it early so that an unknown org unit is found in seconds.
    """
    # Imported here: ingest precedes cleaning, and only this check borrows from it.
    from sahel_eval.clean.orgunits import match_orgunits, read_orgunit_mapping

    path = config["inputs"]["orgunit_mapping"]
    mapping = read_orgunit_mapping(path, facilities["orgunit_uid"]) if path else None
    for frame, key in ((datavalues, "dhis2_datavalues"), (registrations, "dhis2_completeness")):
        if frame is not None:
            match_orgunits(frame["orgunit"], facilities, mapping, source=config["inputs"][key])


def check_inputs(config: Mapping[str, Any]) -> list[InputError]:
    """Validate every input of ``config`` without writing anything.

    Returns
    -------
    list of InputError
        One per failing file (empty when all inputs pass); every file is checked
        even after a failure so one run lists everything to fix.
    """
    errors: list[InputError] = []
    facility_ids: list[str] | None = None

    def attempt(fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            errors.append(exc)
            return None

    facilities = attempt(ingest_facilities, config)
    if facilities is not None:
        facility_ids = facilities["orgunit_uid"].tolist()
        attempt(check_area_districts, config, facilities)
        attempt(check_spillover_units, config, facilities)
        attempt(check_facility_subgroups, config, facilities)
    attempt(ingest_population, config, facility_ids=facility_ids)
    if config["inputs"]["district_population"]:
        districts = None if facilities is None else facilities["district"].unique().tolist()
        attempt(ingest_district_population, config, districts=districts)
    datavalues = attempt(ingest_dhis2_datavalues, config)
    registrations = attempt(ingest_dhis2_completeness, config)
    attempt(ingest_programmes, config, facility_ids=facility_ids, datavalues=datavalues)
    if facilities is not None:
        attempt(check_orgunits, config, facilities, datavalues, registrations)
        if config["inputs"]["displacement_sites"]:
            attempt(ingest_displacement_sites, config, facilities=facilities)
    if datavalues is not None:
        attempt(
            check_monthly_uses,
            config,
            monthly_uses(config),
            datavalues,
            config["inputs"]["dhis2_datavalues"],
            rule="check",
        )
    attempt(ingest_events, config)
    attempt(ingest_mutuals, config)
    for rnd in config["inputs"]["surveys"]:
        for entry in rnd["files"]:
            attempt(ingest_survey, config, year=rnd["year"], unit=entry["unit"])
    return errors
