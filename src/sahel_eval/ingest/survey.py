"""Ingest one survey recode file (Stata / SPSS): design columns typed, identifiers
dropped, ids hashed, value labels kept in a JSON sidecar."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval import schemas
from sahel_eval.errors import InputError, Problem, display_path, problem
from sahel_eval.ingest.common import (
    raise_problems,
    salt_for,
)
from sahel_eval.io import stata_spss
from sahel_eval.io.columns import Coercer, require_columns
from sahel_eval.io.parquet import atomic_paths, write_json_to, write_parquet_to
from sahel_eval.privacy import hash_series

SURVEY_DESIGN = ("cluster", "weight", "psu", "strata", "region", "district", "commune")


# Design codes are whole numbers; typed Int64 so joins across rounds do not hit 1 vs 1.0
# (geography written as names stays text).
SURVEY_CODES = ("cluster", "psu", "strata", "region", "district", "commune", "urban", "sex")
#: Optional design-like items of a unit (null in the config: the unit has none).
OPTIONAL_CODES = ("urban", "sex")


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


def _as_configured_case(
    survey: stata_spss.SurveyFile, variables: Mapping[str, Any], src: str | Path
) -> stata_spss.SurveyFile:
    """Rename the file's variables to the config's spelling, matched case-insensitively.

    DHS files come with ``V481`` or ``v481`` depending on the release and the
    converter; a variable matched only by a glob takes the glob's case. Two variables
    differing only in case are ambiguous and refused.
    """
    names = [
        variables["id"],
        *(variables[key] for key in SURVEY_DESIGN),
        *(variables[key] for key in OPTIONAL_CODES if variables.get(key)),
        *variables["outcomes"],
        *variables["covariates"],
        *variables["identifiers"],
    ]
    globs = [n for n in names if any(ch in n for ch in "*?[")]
    exact = {n.casefold(): n for n in names if n not in globs}
    columns = [str(c) for c in survey.frame.columns]
    rename = {}
    for col in columns:
        target = exact.get(col.casefold())
        if target is None:
            hits = [g for g in globs if fnmatch.fnmatchcase(col.casefold(), g.casefold())]
            target = (col.lower() if hits[0] == hits[0].lower() else col.upper()) if hits else col
        if target != col:
            rename[col] = target
    if not rename:
        return survey
    renamed = [rename.get(c, c) for c in columns]
    clash = sorted({c for c in renamed if renamed.count(c) > 1})
    if clash:
        raise InputError(
            display_path(src),
            [
                Problem(
                    clash[0],
                    "unique_variable",
                    "variables differ only in case: "
                    + ", ".join(c for c in columns if rename.get(c, c) in clash),
                )
            ],
            hint="drop or rename one of them in the file: names are matched ignoring case.",
            row_label="observation",
        )
    return stata_spss.SurveyFile(
        frame=survey.frame.rename(columns=rename),
        variable_labels={rename.get(k, k): v for k, v in survey.variable_labels.items()},
        value_labels={rename.get(k, k): v for k, v in survey.value_labels.items()},
        file_format=survey.file_format,
        release=survey.release,
        encoding=survey.encoding,
    )


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
    survey = stata_spss.read_survey(src, file_format=entry["format"], encoding=entry["encoding"])
    survey = _as_configured_case(survey, variables, src)
    frame = survey.frame
    identifiers = set(variables["identifiers"])
    masked = identifiers | {variables["id"]}
    design = {key: variables[key] for key in SURVEY_DESIGN}
    for key in OPTIONAL_CODES:
        if variables.get(key):
            design[key] = variables[key]
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
    extra, missing = _expand([*variables["outcomes"], *variables["covariates"]], columns)
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
            raise_problems(
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
    length = int(config["privacy"]["hash_length"])
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
