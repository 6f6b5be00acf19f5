"""Plain tables: facility list, population, displacement sites, roll-out, events, registers.

Columns keep the names of the raw formats in data/raw/README.md, except the mutual
registers, whose French headers vary by scheme and are mapped to canonical names by
``mutuals.columns`` in the config.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from sahel_eval.errors import InputError, Problem, display_path
from sahel_eval.io.columns import (
    Coercer,
    missing_file,
    normalise_header,
    read_text_table,
    require_columns,
    require_rows,
    require_unique_headers,
    unreadable_file,
)

FACILITY_COLUMNS = (
    "orgunit_uid",
    "orgunit_name",
    "region",
    "district",
    "commune",
    "aire_de_sante",
    "type",
    "opened",
    "closed",
)
POPULATION_COLUMNS = ("orgunit_uid", "year", "population")
DISTRICT_POPULATION_COLUMNS = ("district", "year", "population")
PROGRAMME_COLUMNS = ("programme", "unit_level", "unit_id", "start", "end")
EVENT_COLUMNS = (
    "event_id_cnty",
    "event_date",
    "year",
    "event_type",
    "sub_event_type",
    "actor1",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "fatalities",
    "notes",
)
EVENT_REQUIRED = ("event_id_cnty", "event_date", "event_type", "admin1", "admin2", "fatalities")
DISPLACEMENT_COLUMNS = (
    "site",
    "district",
    "aire_de_sante",
    "origin_district",
    "origin_aire_de_sante",
    "month",
    "persons",
)
REGISTER_COLUMNS = (
    "mutual",
    "scheme",
    "year",
    "target_population",
    "members",
    "beneficiaries",
    "renewals_due",
    "renewed",
    "contribution_per_beneficiary",
    "contributions_due",
    "contributions_collected",
    "claims_paid",
    "admin_costs",
    "subsidies",
)
REGISTER_AMOUNTS = REGISTER_COLUMNS[3:]
#: Register columns that count people (or renewals): whole numbers, unlike the amounts.
REGISTER_COUNTS = ("target_population", "members", "beneficiaries", "renewals_due", "renewed")
LOG = logging.getLogger(__name__)
HINT = "fix the listed rows in the file (dates as YYYY-MM-DD, numbers without units)."


def _select(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    for col in columns:
        if col not in frame.columns:
            frame[col] = pd.Series(pd.NA, index=frame.index, dtype="str")
    return frame[list(columns)].copy()


def _coercer(
    path: str | Path,
    what: str,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    *,
    rows_needed: bool = True,
) -> Coercer:
    """A :class:`Coercer` over ``columns`` of the text table at ``path``.

    Checks first that the file has rows (unless ``rows_needed`` is False) and the
    ``required`` columns, so that a wrong file fails before any value is typed.
    """
    frame = read_text_table(path, what)
    if rows_needed:
        require_rows(frame, path, what)
    require_columns(frame, required, path)
    return Coercer(_select(frame, columns), path)


def read_facilities(path: str | Path) -> pd.DataFrame:
    """Read the master facility list.

    Returns
    -------
    pandas.DataFrame
        Text ``orgunit_uid, orgunit_name, region, district, commune, aire_de_sante,
        type``; ``opened``, ``closed`` datetime64[ns] (``closed`` missing while open).

    Raises
    ------
    InputError
        Missing/unreadable file, missing column, bad date.
    """
    typer = _coercer(path, "master facility list", FACILITY_COLUMNS, FACILITY_COLUMNS[:-1])
    for col in ("orgunit_uid", "orgunit_name", "region", "district", "type"):
        typer.text(col, required=True)
    for col in ("commune", "aire_de_sante"):
        typer.text(col)
    typer.date("opened", required=True)
    typer.date("closed")
    typer.raise_if_any(HINT)
    return typer.frame


def read_population(path: str | Path) -> pd.DataFrame:
    """Read catchment population per facility and year.

    Returns
    -------
    pandas.DataFrame
        ``orgunit_uid`` text, ``year`` and ``population`` Int64.
    """
    return _read_yearly_population(path, POPULATION_COLUMNS, "catchment population")


def read_district_population(path: str | Path) -> pd.DataFrame:
    """Read census-based population projections per district and year.

    Returns
    -------
    pandas.DataFrame
        ``district`` text, ``year`` and ``population`` Int64.
    """
    return _read_yearly_population(path, DISTRICT_POPULATION_COLUMNS, "district population")


def _read_yearly_population(path: str | Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    # Unit (facility or district), year, population: the two population tables' shape.
    typer = _coercer(path, what, columns, columns)
    typer.text(columns[0], required=True)
    typer.integer("year", required=True)
    typer.integer("population", required=True)
    typer.raise_if_any(HINT)
    return typer.frame


def read_programmes(path: str | Path) -> pd.DataFrame:
    """Read programme roll-out.

    Returns
    -------
    pandas.DataFrame
        Text ``programme, unit_level, unit_id``; ``start``, ``end`` datetime64[ns]
        (``end`` missing while the programme runs).
    """
    typer = _coercer(path, "programme roll-out", PROGRAMME_COLUMNS, PROGRAMME_COLUMNS[:-1])
    for col in ("programme", "unit_level", "unit_id"):
        typer.text(col, required=True)
    typer.date("start", required=True)
    typer.date("end")
    typer.raise_if_any(HINT)
    return typer.frame


def read_events(path: str | Path) -> pd.DataFrame:
    """Read ACLED-style security events.

    Returns
    -------
    pandas.DataFrame
        ``event_date`` datetime64[ns] (not after the run date), ``year`` and
        ``fatalities`` Int64, ``latitude``/``longitude`` float64, the rest text.
    """
    typer = _coercer(path, "security events", EVENT_COLUMNS, EVENT_REQUIRED, rows_needed=False)
    for col in ("event_id_cnty", "event_type", "admin1", "admin2"):
        typer.text(col, required=True)
    for col in ("sub_event_type", "actor1", "admin3", "location", "notes"):
        typer.text(col)
    typer.date("event_date", required=True)
    typer.not_future("event_date")
    typer.integer("year")
    typer.integer("fatalities", required=True)
    typer.number("latitude")
    typer.number("longitude")
    typer.raise_if_any(HINT)
    return typer.frame


def read_displacement_sites(path: str | Path) -> pd.DataFrame:
    """Read displaced people per site and month (with the aire they fled).

    Returns
    -------
    pandas.DataFrame
        Text ``site, district, aire_de_sante, origin_district, origin_aire_de_sante``;
        ``month`` as ``YYYYMM`` (``2019-01``, ``201901`` and ``Janvier 2019`` accepted);
        ``persons`` Int64.
    """
    typer = _coercer(path, "displacement sites", DISPLACEMENT_COLUMNS, DISPLACEMENT_COLUMNS)
    for col in DISPLACEMENT_COLUMNS[:5]:
        typer.text(col, required=True)
    typer.period("month")
    typer.integer("persons", required=True)
    typer.raise_if_any(HINT)
    return typer.frame


def _header_row(cells: pd.DataFrame, wanted: set[str], path: Path) -> int:
    """Position of the first row naming at least half of the wanted headers."""
    for pos in range(min(len(cells), 30)):
        found = {normalise_header(v) for v in cells.iloc[pos] if not pd.isna(v)}
        if len(found & wanted) * 2 >= len(wanted):
            if pos:
                LOG.info("%s: header found on row %d", display_path(path), pos + 1)
            return pos
    raise InputError(
        display_path(path),
        [
            Problem(
                None,
                "header_row",
                "no row among the first 30 holds the register's headers (mutuals.columns)",
            )
        ],
        hint="set mutuals.header_row to the row of the header in the sheet, or map the "
        "headers under mutuals.columns in config/config.yaml.",
    )


def _require_header_on_row(
    cells: pd.DataFrame, wanted: set[str], header_row: int, path: Path
) -> None:
    """The configured ``mutuals.header_row`` holds at least one mapped header.

    One value serves every XLSX register, so a workbook laid out differently (no title
    block above its header, say) would otherwise be refused with every column missing.
    """
    row = cells.iloc[header_row - 1] if header_row <= len(cells) else pd.Series(dtype=object)
    if {normalise_header(v) for v in row if not pd.isna(v)} & wanted:
        return
    try:
        found = f"; its headers are on row {_header_row(cells, wanted, path) + 1}"
    except InputError:
        found = ""
    raise InputError(
        display_path(path),
        [
            Problem(
                "mutuals.header_row",
                "header_row",
                f"row {header_row} of the sheet holds none of the register's headers "
                f"(mutuals.columns){found}",
                (str(header_row),),
                ("",),
                n_failed=1,
            )
        ],
        hint="mutuals.header_row applies to every XLSX register: set it to null in "
        "config/config.yaml so that each register's header row is found, or lay the "
        "registers out alike.",
        row_label="row",
        column_label="key",
    )


def read_register(
    path: str | Path,
    columns: Mapping[str, str],
    *,
    sheet: int | str = 0,
    header_row: int | None = None,
) -> pd.DataFrame:
    """Read one mutual-insurance register (CSV or XLSX) and map its headers.

    Parameters
    ----------
    path
        ``.csv`` or ``.xlsx``.
    columns
        Header in the file -> canonical name (``mutuals.columns``); matched
        accent- and case-insensitively.
    sheet
        Sheet of an XLSX workbook (index or name).
    header_row
        Row of the header in the sheet (1 = first), below any title block; ``None``
        finds it: the first row holding most of the mapped headers.

    Returns
    -------
    pandas.DataFrame
        ``mutual`` text, ``year`` Int64 (not after the current year), amounts and
        counts float64, ``source_file``
        (the file name, no directory). Counts (:data:`REGISTER_COUNTS`) must be whole
        numbers: ``12,5`` members is refused, neither 12 nor 125; amounts may be
        decimal (``1 500,50``).

    Raises
    ------
    InputError
        Missing/unreadable file, a header missing (named as in the file), a non-number,
        a fractional count.
    """
    path = Path(path)
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        if not path.is_file():
            raise missing_file(path, "mutual register")
        try:
            cells = pd.read_excel(
                path, sheet_name=sheet, dtype=object, engine="openpyxl", header=None
            )
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise unreadable_file(path, "mutual register", exc) from None
        wanted = {normalise_header(raw) for raw in columns}
        top = _header_row(cells, wanted, path) if header_row is None else header_row - 1
        if header_row is not None:
            _require_header_on_row(cells, wanted, header_row, path)
        frame = cells.iloc[top + 1 :].reset_index(drop=True)
        # An empty header cell (a blank column) is named by its position, like pandas.
        frame.columns = [
            f"unnamed_{i}" if pd.isna(c) else normalise_header(c)
            for i, c in enumerate(cells.iloc[top])
        ]
        require_unique_headers(frame, path)
        frame = frame.dropna(how="all").reset_index(drop=True)
        # Excel gives numbers as numbers; text them so one typing path serves both.
        frame = frame.map(lambda v: None if pd.isna(v) else str(v)).astype("str")
    elif path.suffix.lower() in {".csv", ".gz"}:
        frame = read_text_table(path, "mutual register")
    else:
        raise InputError(
            display_path(path),
            [Problem(None, "file_format", f"'{path.suffix}' is not .csv or .xlsx")],
            hint="save the register as CSV (UTF-8) or XLSX.",
        )
    lookup = {normalise_header(raw): canon for raw, canon in columns.items()}
    inverse = {canon: raw for raw, canon in columns.items()}
    # A missing column is named by its header in the file, which the user can fix.
    require_columns(
        frame,
        [normalise_header(inverse.get(c, c)) for c in REGISTER_COLUMNS],
        path,
        hint="rename the header in the register, or map it under mutuals.columns in "
        "config/config.yaml.",
    )
    frame = frame.rename(columns={c: lookup[c] for c in frame.columns if c in lookup})
    frame = frame[list(REGISTER_COLUMNS)].copy()
    typer = Coercer(frame, path)
    typer.text("mutual", required=True)
    typer.text("scheme", required=True)
    typer.integer("year", required=True)
    typer.not_future("year")
    for col in REGISTER_AMOUNTS:
        if col in REGISTER_COUNTS:
            typer.count(col)
        else:
            typer.number(col)
    if typer.problems:
        # Report under the register's own header names.
        typer.problems = [
            Problem(
                inverse.get(p.column or "", p.column),
                p.rule,
                p.detail,
                p.rows,
                p.values,
                p.n_failed,
            )
            for p in typer.problems
        ]
    typer.raise_if_any(
        "fix the listed rows in the register: counts of people and renewals as whole "
        "numbers, amounts as numbers without units (1 500,50 or 1500.50)."
    )
    frame = typer.frame
    frame["source_file"] = path.name
    return frame
