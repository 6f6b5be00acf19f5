"""Ingest: raw inputs -> typed, validated, pseudonymised tables under ``results/interim/``.

One public function per kind of input. Each reads through :mod:`sahel_eval.io`,
validates (pandera schemas and cross-checks against the config), drops direct
identifiers, hashes ids, and - when ``out`` is given - writes parquet atomically.
With ``out=None`` nothing is written, which is how :func:`check_inputs` validates every
input for ``make check``. Interim tables keep the raw column names (canonical names are
the cleaning stage's job), except the mutual registers whose headers are mapped here.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval import schemas
from sahel_eval.errors import InputError, Problem, display_path, problem
from sahel_eval.io import dhis2, stata_spss, tables
from sahel_eval.io.columns import Coercer, require_columns
from sahel_eval.io.parquet import atomic_paths, write_json_to, write_parquet, write_parquet_to
from sahel_eval.privacy import SaltError, drop_identifiers, hash_series, resolve_salt

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
SURVEY_DESIGN = ("cluster", "weight", "psu", "strata", "region", "district", "commune")
# Design codes are whole numbers; typed Int64 so joins across rounds do not hit 1 vs 1.0
# (geography written as names stays text).
SURVEY_CODES = ("cluster", "psu", "strata", "region", "district", "commune", "urban")
CONFIG_HINT = "check the mapping in config/config.yaml (see config/README.md)."


def _out(frame: pd.DataFrame, out: str | Path | None) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    if out is not None:
        write_parquet(frame, out)
    return frame


def _membership(
    frame: pd.DataFrame,
    column: str,
    allowed: Iterable[object],
    rule: str,
    detail: str,
    *,
    row_offset: int = 2,
    masked: bool = False,
    mask_rows: pd.Series | None = None,
) -> Problem | None:
    allowed = set(allowed)
    bad = ~frame[column].isin(allowed) & frame[column].notna()
    if mask_rows is not None:
        bad &= mask_rows
    if not bad.any():
        return None
    return problem(
        column,
        rule,
        detail,
        frame.index[bad.to_numpy()].tolist(),
        frame.loc[bad, column].tolist(),
        masked=masked,
        row_offset=row_offset,
    )


def _raise(path: str | Path, problems: Sequence[Problem | None], hint: str, **kw: Any) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise InputError(display_path(path), found, hint=hint, **kw)


def salt_for(config: Mapping[str, Any]) -> str:
    """The salt for this run (env var, or the demo salt on synthetic data).

    Raises
    ------
    InputError
        If the salt variable is unset on real data.
    """
    privacy = config.get("privacy", {})
    try:
        return resolve_salt(privacy, synthetic=bool(config.get("synthetic", False)))
    except SaltError as exc:
        raise InputError(
            "environment",
            [Problem(privacy.get("salt_env", "SAHEL_EVAL_SALT"), "salt_set", str(exc))],
            hint="set the salt variable before running; `synthetic: true` is only for the "
            "bundled demo data.",
            column_label="variable",
        ) from None


# --- facility data ---------------------------------------------------------------------


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
        schemas.facilities_schema(config.get("geography") or None),
        src,
        hint="each facility must appear once with a DHIS2 UID, and its region and "
        "district must be spelled as under `geography` in config/config.yaml.",
    )
    return _out(frame, out)


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
        hint="population must be a whole number ≥ 0, once per facility and year.",
    )
    if facility_ids is not None:
        _raise(
            src,
            [
                _membership(
                    frame,
                    "orgunit_uid",
                    facility_ids,
                    "known_facility",
                    "facility not in the master facility list",
                )
            ],
            hint="add the facility to the master list or correct its UID.",
            row_label="line",
        )
    return _out(frame, out)


def _dhis2_mapping(config: Mapping[str, Any]) -> dict[str, set[str]]:
    mapping: dict[str, set[str]] = {}
    for sources in config["dhis2"]["indicators"].values():
        for source in sources:
            mapping.setdefault(source["data_element"], set()).add(source["category_option_combo"])
    return mapping


def ingest_dhis2_datavalues(
    config: Mapping[str, Any],
    *,
    src: str | Path | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """DHIS2 data values: mapped codes only, numeric values, user names dropped.

    Checks that every (data element, category option combo) is in ``dhis2.indicators``
    (unmapped data elements are an error or dropped per ``dhis2.unmapped_data_elements``)
    and that every mapped data element occurs in the export (a wrong UID in the config
    would otherwise silently give an empty indicator). ``value`` becomes float64;
    keyed zeros, duplicates and name-variant org units are kept for the cleaning stage.

    Returns
    -------
    pandas.DataFrame
        ``dataelement, period, orgunit, categoryoptioncombo, attributeoptioncombo,
        value, lastupdated, followup``.
    """
    src = src or config["inputs"]["dhis2_datavalues"]
    frame = dhis2.read_datavalues(src)
    mapping = _dhis2_mapping(config)
    problems: list[Problem | None] = []
    if config["dhis2"].get("unmapped_data_elements", "error") == "drop":
        frame = frame[frame["dataelement"].isin(list(mapping))]
    else:
        problems.append(
            _membership(
                frame,
                "dataelement",
                mapping,
                "known_data_element",
                "data element not mapped under dhis2.indicators",
            )
        )
    known_pairs = {(de, coc) for de, cocs in mapping.items() for coc in cocs}
    mapped = frame["dataelement"].isin(list(mapping))
    pairs = pd.Series(
        list(zip(frame["dataelement"], frame["categoryoptioncombo"], strict=True)),
        index=frame.index,
    )
    bad_coc = mapped & ~pairs.isin(known_pairs)
    if bad_coc.any():
        problems.append(
            problem(
                "categoryoptioncombo",
                "known_category_option_combo",
                "category option combo not mapped for this data element",
                frame.index[bad_coc.to_numpy()].tolist(),
                frame.loc[bad_coc, "categoryoptioncombo"].tolist(),
                row_offset=2,
            )
        )
    absent = sorted(set(mapping) - set(frame["dataelement"]))
    if absent:
        problems.append(
            Problem(
                "dataelement",
                "mapped_data_element_present",
                "mapped data element(s) never occur in the export: " + ", ".join(absent),
            )
        )
    _raise(
        src,
        problems,
        hint="add the code to dhis2.indicators in config/config.yaml, "
        "correct the UID there, or set dhis2.unmapped_data_elements: drop.",
    )
    typer = Coercer(frame, src)
    typer.number("value")
    typer.raise_if_any(
        "a mapped data element must hold a number: correct the value in DHIS2 and export again."
    )
    frame = drop_identifiers(typer.frame, config["dhis2"].get("identifiers", []))
    frame = frame[[c for c in schemas.datavalues_schema().columns if c in frame.columns]]
    frame = schemas.check_frame(
        frame,
        schemas.datavalues_schema(),
        src,
        hint="counts cannot be negative: correct the value in DHIS2.",
    )
    return _out(frame, out)


def ingest_dhis2_completeness(
    config: Mapping[str, Any],
    *,
    src: str | Path | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """Complete data-set registrations (``dhis2.dataset`` kept if set), user names dropped.

    Returns
    -------
    pandas.DataFrame
        ``dataset, period, orgunit, attributeoptioncombo, date, completed``.
    """
    src = src or config["inputs"]["dhis2_completeness"]
    frame = dhis2.read_completeness(src)
    dataset = config["dhis2"].get("dataset")
    if dataset:
        frame = frame[frame["dataset"] == dataset]
    frame = drop_identifiers(frame, config["dhis2"].get("identifiers", []))
    frame = frame[[c for c in schemas.completeness_schema().columns if c in frame.columns]]
    frame = schemas.check_frame(frame, schemas.completeness_schema(), src)
    return _out(frame, out)


# --- programmes, events, mutuals ------------------------------------------------------


def ingest_programmes(
    config: Mapping[str, Any],
    *,
    src: str | Path | None = None,
    out: str | Path | None = None,
    facility_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Programme roll-out: known programmes, levels and units, end ≥ start.

    Units at commune or district level must be districts under ``geography``; at
    facility level, when ``facility_ids`` is given, UIDs of the master list.
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
    geography = config.get("geography") or {}
    districts = {d for ds in geography.values() for d in ds}
    problems: list[Problem | None] = []
    if districts:
        problems.append(
            _membership(
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
            _membership(
                frame,
                "unit_id",
                facility_ids,
                "known_facility",
                "facility not in the master facility list",
                mask_rows=frame["unit_level"] == "facility",
            )
        )
    _raise(
        src, problems, hint="spell units as in the facility list / `geography`.", row_label="line"
    )
    return _out(frame, out)


def ingest_events(
    config: Mapping[str, Any],
    *,
    src: str | Path | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """ACLED-style events: unique ids, dates, fatalities ≥ 0."""
    src = src or config["inputs"]["events"]
    frame = tables.read_events(src)
    frame = schemas.check_frame(frame, schemas.events_schema(), src)
    return _out(frame, out)


def ingest_mutuals(
    config: Mapping[str, Any],
    *,
    srcs: Sequence[str | Path] | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """Mutual-insurance registers, headers mapped, all files stacked.

    Returns
    -------
    pandas.DataFrame
        One row per mutual and year, canonical names (``mutuals.columns``) plus
        ``source_file``; sorted by mutual and year.
    """
    srcs = list(srcs if srcs is not None else config["inputs"]["mutuals"])
    settings = config.get("mutuals", {})
    columns = settings.get("columns") or {}
    inverse = {v: k for k, v in columns.items()}
    frames = []
    for src in srcs:
        frame = tables.read_register(src, columns, sheet=settings.get("sheet", 0))
        frames.append(
            schemas.check_frame(
                frame,
                schemas.mutuals_schema(),
                src,
                column_names=inverse,
                hint="amounts and counts must be ≥ 0, one row per year.",
            )
        )
    if not frames:
        return _out(pd.DataFrame(columns=list(schemas.mutuals_schema().columns)), out)
    stacked = pd.concat(frames, ignore_index=True)
    if stacked.duplicated(["mutual", "year"]).any():
        dup = stacked[stacked.duplicated(["mutual", "year"], keep=False)]
        files = sorted(set(dup["source_file"]))
        raise InputError(
            ", ".join(files),
            [
                Problem(
                    inverse.get("mutual", "mutual"),
                    "unique_key",
                    "the same mutual and year appear in more than one register file",
                )
            ],
            hint="keep each mutual's years in one file, or give the mutuals distinct names.",
        )
    stacked = stacked.sort_values(["mutual", "year"], kind="mergesort")
    return _out(stacked, out)


# --- surveys ---------------------------------------------------------------------------


def survey_entry(config: Mapping[str, Any], year: int, unit: str) -> dict[str, Any]:
    """The ``inputs.surveys`` file entry for a round year and unit, with round and year."""
    for rnd in config["inputs"]["surveys"]:
        if rnd["year"] == int(year):
            for entry in rnd["files"]:
                if entry["unit"] == unit:
                    return {**entry, "round": rnd["round"], "year": rnd["year"]}
    raise InputError(
        "config",
        [Problem("inputs.surveys", "known_round", f"no {unit} file for round year {year}")],
        hint="add the file under inputs.surveys in config/config.yaml.",
        column_label="key",
    )


def _expand(patterns: Iterable[str], columns: Sequence[str]) -> tuple[list[str], list[str]]:
    found: list[str] = []
    missing: list[str] = []
    for pattern in patterns:
        hits = [c for c in columns if fnmatch.fnmatchcase(c, pattern)]
        if hits:
            found.extend(h for h in hits if h not in found)
        else:
            missing.append(pattern)
    return found, missing


def ingest_survey(
    config: Mapping[str, Any],
    *,
    year: int,
    unit: str,
    src: str | Path | None = None,
    out: str | Path | None = None,
    labels_out: str | Path | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One survey recode file: design checked, identifiers dropped, id hashed.

    Only the variables named in ``survey.variables.<unit>`` (design, outcomes - glob
    patterns allowed - and covariates) are kept, so an identifier nobody listed cannot
    slip through; the id is replaced by its salted hash. Design codes become Int64, the
    other variables float64 (codes kept: don't-know codes are resolved per variable
    from the value labels in the cleaning stage). ``round`` and ``round_year`` are added.

    Parameters
    ----------
    config
        Validated config.
    year, unit
        The round (by year) and unit (households, women, births, children).
    src
        Raw file (default from ``inputs.surveys``).
    out, labels_out
        Parquet and JSON sidecar (variable and value labels, sorted keys) to write,
        together and atomically; ``None`` to validate only.

    Returns
    -------
    tuple
        The table and the labels dict.
    """
    entry = survey_entry(config, year, unit)
    src = src or entry["path"]
    variables = config["survey"]["variables"][unit]
    survey = stata_spss.read_survey(
        src, file_format=entry.get("format", "auto"), encoding=entry.get("encoding")
    )
    frame = survey.frame
    identifiers = set(variables.get("identifiers", []))
    masked = identifiers | {variables["id"]}
    design = {key: variables[key] for key in SURVEY_DESIGN}
    if variables.get("urban"):
        design["urban"] = variables["urban"]
    columns = [str(c) for c in frame.columns]
    if design["psu"] not in columns:
        raise InputError(
            display_path(src),
            [
                Problem(
                    design["psu"],
                    "psu_present",
                    "this round has no primary sampling unit (PSU) variable",
                )
            ],
            hint="design-based standard errors need the PSU: get the round's file with "
            "its PSU variable, or name it under survey.variables in the config.",
            row_label="observation",
        )
    require_columns(
        frame,
        [variables["id"], *design.values()],
        src,
        hint="name the variable under survey.variables in config/config.yaml, "
        "or rename it in the file.",
    )
    extra, missing = _expand(
        [*variables.get("outcomes", []), *variables.get("covariates", [])], columns
    )
    if missing:
        require_columns(
            frame,
            missing,
            src,
            hint="remove the variable from survey.variables in the config, or "
            "use a round that has it.",
        )
    keep = [variables["id"], *design.values(), *(c for c in extra if c not in design.values())]
    keep = [c for c in columns if c in set(keep) and c not in identifiers]
    frame = frame[keep].copy()

    # Geography may come as labelled codes or as names (a commune written out): names
    # stay text, everything else must be numeric.
    geo_text = {
        design[key]
        for key in ("region", "district", "commune", "urban")
        if key in design and not pd.api.types.is_numeric_dtype(frame[design[key]])
    }
    typer = Coercer(frame, src, row_offset=1, row_label="observation", masked=masked)
    for col in keep:
        if col in geo_text:
            typer.text(col)
        elif col != variables["id"]:
            typer.number(col)
    typer.raise_if_any(
        "survey variables must be numeric codes: check the variable "
        "names under survey.variables in the config."
    )
    frame = schemas.check_frame(
        typer.frame,
        schemas.survey_schema(variables),
        src,
        row_offset=1,
        row_label="observation",
        masked=masked,
        hint="every respondent needs a positive weight and a PSU, cluster and stratum.",
    )
    for key in SURVEY_CODES:
        col = design.get(key)
        if col is None or col in geo_text:
            continue
        values = frame[col]
        frac = values.notna() & (values != np.floor(values.fillna(0)))
        if frac.any():
            _raise(
                src,
                [
                    problem(
                        col,
                        "integer",
                        "design codes must be whole numbers",
                        frame.index[frac.to_numpy()].tolist(),
                        values[frac].tolist(),
                        row_offset=1,
                    )
                ],
                hint="check the variable named for this design role.",
                row_label="observation",
            )
        frame[col] = values.astype("Int64")
    salt = salt_for(config)
    length = int(config.get("privacy", {}).get("hash_length", 16))
    frame[variables["id"]] = hash_series(frame[variables["id"]], salt, length=length)
    frame.insert(0, "round", np.int64(entry["round"]))
    frame.insert(1, "round_year", np.int64(entry["year"]))
    frame = frame.reset_index(drop=True)

    kept = set(frame.columns) - {variables["id"]}
    labels = {
        "file": Path(src).name,
        "unit": unit,
        "round": entry["round"],
        "year": entry["year"],
        "format": survey.file_format,
        "stata_release": survey.release,
        "encoding": survey.encoding,
        "variable_labels": {k: v for k, v in survey.variable_labels.items() if k in kept},
        "value_labels": {k: v for k, v in survey.value_labels.items() if k in kept},
    }
    if out is not None or labels_out is not None:
        if out is None or labels_out is None:
            raise ValueError("out and labels_out are written together")
        with atomic_paths(out, labels_out) as (tmp_parquet, tmp_json):
            write_parquet_to(frame, tmp_parquet)
            write_json_to(labels, tmp_json)
    return frame, labels


# --- all inputs --------------------------------------------------------------------------


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
    attempt(ingest_dhis2_datavalues, config)
    attempt(ingest_dhis2_completeness, config)
    attempt(ingest_programmes, config, facility_ids=facility_ids)
    attempt(ingest_events, config)
    attempt(ingest_mutuals, config)
    for rnd in config["inputs"]["surveys"]:
        for entry in rnd["files"]:
            attempt(ingest_survey, config, year=rnd["year"], unit=entry["unit"])
    return errors
