"""Ingest: raw inputs -> typed, validated, pseudonymised tables under ``results/interim/``.

One public function per kind of input. Each reads through :mod:`sahel_eval.io`,
validates (pandera schemas and cross-checks against the config), drops direct
identifiers, hashes ids, and - when ``out`` is given - writes parquet atomically.
With ``out=None`` nothing is written, which is how :func:`check_inputs` validates every
input for ``make check``. Interim tables keep the raw column names (canonical names are
the cleaning stage's job), except the mutual registers whose headers are mapped here.

One module per kind of input (:mod:`.facilities`, :mod:`.dhis2`, :mod:`.programmes`,
:mod:`.mutuals`, :mod:`.survey`; shared checks in :mod:`.common`); this package hands
their functions on and holds the dispatch table and :func:`check_inputs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sahel_eval.errors import InputError
from sahel_eval.ingest.common import salt_for
from sahel_eval.ingest.dhis2 import ingest_dhis2_completeness, ingest_dhis2_datavalues
from sahel_eval.ingest.facilities import ingest_facilities, ingest_population
from sahel_eval.ingest.mutuals import ingest_mutuals
from sahel_eval.ingest.programmes import ingest_events, ingest_programmes
from sahel_eval.ingest.survey import ingest_survey, survey_entry

__all__ = [
    "KINDS",
    "SINGLE_FILE_INGESTERS",
    "check_inputs",
    "ingest_dhis2_completeness",
    "ingest_dhis2_datavalues",
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
    "dhis2_datavalues",
    "dhis2_completeness",
    "programmes",
    "events",
    "surveys",
    "mutuals",
)

#: Ingest function of each single-file input, by kind (the CLI and the Snakemake rules
#: dispatch on it; surveys and mutuals take extra arguments and are called directly).
SINGLE_FILE_INGESTERS = {
    "facilities": ingest_facilities,
    "population": ingest_population,
    "dhis2_datavalues": ingest_dhis2_datavalues,
    "dhis2_completeness": ingest_dhis2_completeness,
    "programmes": ingest_programmes,
    "events": ingest_events,
}


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
    attempt(ingest_population, config, facility_ids=facility_ids)
    datavalues = attempt(ingest_dhis2_datavalues, config)
    attempt(ingest_dhis2_completeness, config)
    attempt(ingest_programmes, config, facility_ids=facility_ids, datavalues=datavalues)
    attempt(ingest_events, config)
    attempt(ingest_mutuals, config)
    for rnd in config["inputs"]["surveys"]:
        for entry in rnd["files"]:
            attempt(ingest_survey, config, year=rnd["year"], unit=entry["unit"])
    return errors
