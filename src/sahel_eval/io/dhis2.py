"""DHIS2 exports: data values (``dataValueSets`` CSV, optionally gzip) and registrations.

Columns keep their DHIS2 names; ``value`` stays text here (DHIS2 stores every value as
text, and only mapped data elements must be numeric: see :mod:`sahel_eval.ingest`).
Analytics and pivot exports of the same data values are turned into the data-value
shape first (:mod:`sahel_eval.io.dhis2_shapes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from sahel_eval.io.columns import Coercer, read_text_table, require_columns, require_rows
from sahel_eval.io.dhis2_shapes import detect_shape, to_datavalues

DATAVALUE_COLUMNS = (
    "dataelement",
    "period",
    "orgunit",
    "categoryoptioncombo",
    "attributeoptioncombo",
    "value",
    "storedby",
    "lastupdated",
    "comment",
    "followup",
)
DATAVALUE_REQUIRED = (
    "dataelement",
    "period",
    "orgunit",
    "categoryoptioncombo",
    "value",
    "lastupdated",
)
COMPLETENESS_COLUMNS = (
    "dataset",
    "period",
    "orgunit",
    "attributeoptioncombo",
    "date",
    "storedby",
    "completed",
)
COMPLETENESS_REQUIRED = ("period", "orgunit", "date")
HINT = (
    "export again from DHIS2 (Import/Export > Data export, CSV, IDs as UIDs) or fix the "
    "listed rows; periods are months (YYYYMM, YYYY-MM or 'Janvier 2018') or, for quarterly "
    "data elements, quarters (YYYYQn), not in the future."
)


def _export_coercer(
    path: str | Path,
    what: str,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    *,
    masked: tuple[str, ...],
    frame: pd.DataFrame | None = None,
) -> Coercer:
    """A DHIS2 CSV export as text, in ``columns`` order, ready to be typed.

    Exports from different DHIS2 versions and settings leave out optional columns;
    they are added empty so that every reader returns the same columns.
    """
    if frame is None:
        frame = read_text_table(path, what)
    require_rows(frame, path, what)
    require_columns(frame, required, path)
    for col in columns:
        if col not in frame.columns:
            frame[col] = pd.Series(pd.NA, index=frame.index, dtype="str")
    return Coercer(frame[list(columns)].copy(), path, masked=masked)


def read_datavalues(
    path: str | Path,
    *,
    shape: str = "auto",
    names: Mapping[str, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Read a DHIS2 export of data values, in any of its shapes.

    Parameters
    ----------
    path
        ``.csv`` or ``.csv.gz``.
    shape
        ``datavalues``, ``analytics``, ``pivot`` or ``auto`` (detected from the
        headers and logged); ``dhis2.format`` in the config.
    names
        Data item names of a name-based export -> (data element, combo).

    Returns
    -------
    pandas.DataFrame
        Text columns ``dataelement, period, orgunit, categoryoptioncombo,
        attributeoptioncombo, value, storedby, comment``; ``lastupdated``
        datetime64[ns] (UTC, naive; missing in analytics and pivot exports, which
        have no duplicates to resolve); ``followup`` boolean. Optional columns absent
        from the file are added empty.

    Raises
    ------
    InputError
        Missing/unreadable file, unknown shape, missing column, a period that is not a
        month or a quarter (kept as ``YYYYQn``) or is in the future, bad timestamp.
    """
    what = "DHIS2 data-value"
    frame = read_text_table(path, what)
    require_rows(frame, path, what)
    found = detect_shape(frame, path) if shape == "auto" else shape
    required = DATAVALUE_REQUIRED
    if found != "datavalues":
        frame = to_datavalues(frame, path, found, names or {})
        required = tuple(c for c in DATAVALUE_REQUIRED if c != "lastupdated")
    typer = _export_coercer(
        path,
        what,
        DATAVALUE_COLUMNS,
        required,
        masked=("storedby", "comment"),
        frame=frame,
    )
    for col in ("dataelement", "orgunit", "categoryoptioncombo"):
        typer.text(col, required=True)
    for col in ("attributeoptioncombo", "value", "storedby", "comment"):
        typer.text(col)
    typer.period("period", quarters=True)
    typer.date("lastupdated", with_time=True, required=found == "datavalues")
    typer.boolean("followup")
    typer.raise_if_any(HINT)
    return typer.frame


def read_completeness(path: str | Path) -> pd.DataFrame:
    """Read DHIS2 complete data-set registrations.

    Parameters
    ----------
    path
        ``.csv`` or ``.csv.gz``.

    Returns
    -------
    pandas.DataFrame
        Text ``dataset, period, orgunit, attributeoptioncombo, storedby``; ``date``
        datetime64[ns] (the completion time); ``completed`` boolean (missing read as
        true: a registration is a completion unless marked otherwise).

    Raises
    ------
    InputError
        Missing/unreadable file, missing column, period not YYYYMM, bad date.
    """
    typer = _export_coercer(
        path,
        "DHIS2 completeness",
        COMPLETENESS_COLUMNS,
        COMPLETENESS_REQUIRED,
        masked=("storedby",),
    )
    typer.text("orgunit", required=True)
    for col in ("dataset", "attributeoptioncombo", "storedby"):
        typer.text(col)
    typer.period("period")
    typer.date("date", with_time=True, required=True)
    typer.boolean("completed")
    typer.raise_if_any(HINT)
    frame = typer.frame
    frame["completed"] = frame["completed"].fillna(True)
    return frame
