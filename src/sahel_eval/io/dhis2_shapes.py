"""The shapes a DHIS2 export of data values comes in, turned into the data-value-set shape.

- ``datavalues``: Import/Export > Data export (``dataelement, period, orgunit,
  categoryoptioncombo, …, value``), the demo's shape.
- ``analytics``: Data Visualizer / ``/api/analytics`` downloads, one row per cell:
  ``dx, pe, ou, value`` with UIDs, or ``Data, Period, Organisation unit, Value`` with
  names; ``dx`` is ``dataElement.categoryOptionCombo`` or a data element alone (its
  total over category option combos).
- ``pivot``: a pivot table with the periods as columns (``201801``, ``2018-01`` or
  ``Janvier 2018``) and the data and organisation unit as row headers.

Everything stays text here; :mod:`sahel_eval.io.dhis2` types it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from sahel_eval.errors import InputError, Problem, display_path, problem, rows_problem
from sahel_eval.io.values import parse_period

LOG = logging.getLogger(__name__)
SHAPES = ("datavalues", "analytics", "pivot")
# A pivot header "Janvier - Mars 2018" once normalised (accents and dashes folded).
_MONTH_RANGE_HEADER = re.compile(r"^([a-z]+)_([a-z]+)_(\d{4})$")
DEFAULT_COMBO = "HllvX50cXC0"
_UID = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")
# Normalised headers of each role in the analytics shape (UIDs or names).
DATA_HEADERS = ("dx", "data", "donnees", "data_element", "element_de_donnees")
PERIOD_HEADERS = ("pe", "period", "periode")
ORGUNIT_HEADERS = ("ou", "organisation_unit", "organisation_unit_name", "unite_d_organisation")
VALUE_HEADERS = ("value", "valeur")


def _role(columns: list[str], names: tuple[str, ...]) -> str | None:
    return next((c for c in columns if c in names), None)


def header_period(header: str) -> str:
    """A normalised pivot header as period text: ``2018_01`` -> ``2018 01``; a quarter
    named by its months (``janvier_mars_2018``, normalised from ``Janvier - Mars 2018``)
    gets its dash back, as :func:`parse_period` reads DHIS2's quarter names."""
    hit = _MONTH_RANGE_HEADER.match(header)
    if hit:
        return f"{hit.group(1)} - {hit.group(2)} {hit.group(3)}"
    return header.replace("_", " ")


def period_columns(columns: list[str]) -> list[str]:
    """Headers that are periods (normalised headers: ``2018_01``, ``janvier_2018``,
    ``2018q1``, ``janvier_mars_2018``)."""
    return [c for c in columns if parse_period(header_period(c)) is not None]


def detect_shape(frame: pd.DataFrame, path: str | Path) -> str:
    """The shape of a DHIS2 export from its headers (logged), or an error naming them."""
    columns = [str(c) for c in frame.columns]
    # A data-value set names its data element column; a missing column of it is then
    # reported by name rather than as an unknown shape.
    if "dataelement" in columns:
        return "datavalues"
    roles = [_role(columns, h) for h in (DATA_HEADERS, PERIOD_HEADERS, ORGUNIT_HEADERS)]
    if all(roles) and _role(columns, VALUE_HEADERS):
        shape = "analytics"
    elif roles[0] and roles[2] and period_columns(columns):
        shape = "pivot"
    else:
        raise InputError(
            display_path(path),
            [
                Problem(
                    None,
                    "known_shape",
                    "the headers match no DHIS2 export shape (data-value set, analytics "
                    "or pivot table); found: " + ", ".join(columns[:12]),
                )
            ],
            hint="export as a data-value set (dataelement, period, orgunit, "
            "categoryoptioncombo, value), an analytics table (dx, pe, ou, value) or a "
            "pivot table with periods as columns, and set dhis2.format in the config.",
        )
    LOG.info("%s: detected DHIS2 %s export", display_path(path), shape)
    return shape


def to_datavalues(
    frame: pd.DataFrame,
    path: str | Path,
    shape: str,
    names: Mapping[str, tuple[str, str]],
) -> pd.DataFrame:
    """An analytics or pivot export as a data-value set (text columns).

    Parameters
    ----------
    frame
        The export as read (text, normalised headers).
    shape
        ``analytics`` or ``pivot``.
    names
        Name of a data item as the export writes it (folded case) -> (data element,
        category option combo), from ``dhis2.indicators[].name`` in the config.

    Raises
    ------
    InputError
        A data item that is neither a UID (``de`` or ``de.coc``) nor a configured
        name; a repeated cell (two exports stacked).
    """
    columns = [str(c) for c in frame.columns]
    data = _role(columns, DATA_HEADERS)
    orgunit = _role(columns, ORGUNIT_HEADERS)
    if shape == "pivot":
        periods = period_columns(columns)
        long = frame.melt(
            id_vars=[data, orgunit], value_vars=periods, var_name="period", value_name="value"
        )
        # A pivot table has a cell for every period: an empty one is not a report.
        long = long[long["value"].notna()].reset_index(drop=True)
        long["period"] = long["period"].map(header_period)
        long = long.rename(columns={data: "dx", orgunit: "orgunit"})
    else:
        period = _role(columns, PERIOD_HEADERS)
        value = _role(columns, VALUE_HEADERS)
        long = frame.rename(
            columns={data: "dx", period: "period", orgunit: "orgunit", value: "value"}
        )[["dx", "period", "orgunit", "value"]]
    long = _split_dx(long, path, names)
    cell = ["dataelement", "categoryoptioncombo", "period", "orgunit"]
    repeated = long.duplicated(cell, keep=False)
    if repeated.any():
        raise InputError(
            display_path(path),
            [
                rows_problem(
                    "period",
                    "unique_cell",
                    f"the same data item, period and org unit appear twice in a {shape} export",
                    long,
                    repeated,
                )
            ],
            hint="an analytics or pivot export holds one value per cell: export once, "
            "without stacking two downloads.",
            row_label="row",
        )
    return long.drop(columns="dx")


def _split_dx(long: pd.DataFrame, path: str | Path, names: Mapping[str, tuple[str, str]]):
    dx = long["dx"].astype("str").str.strip()
    parts = dx.str.split(".", n=1, expand=True).reindex(columns=[0, 1]).astype("str")
    is_uid = parts[0].str.match(_UID) & (parts[1].isna() | parts[1].str.match(_UID))
    lookup = {k.casefold(): v for k, v in names.items()}
    named_de = dx.str.casefold().map({k: v[0] for k, v in lookup.items()})
    named_coc = dx.str.casefold().map({k: v[1] for k, v in lookup.items()})
    is_uid = is_uid.fillna(False).astype(bool)
    unknown = ~is_uid & named_de.isna()
    if unknown.any():
        raise InputError(
            display_path(path),
            [
                problem(
                    "dx",
                    "known_data_item",
                    "the data item is neither a UID (dataElement or "
                    "dataElement.categoryOptionCombo) nor a name under dhis2.indicators",
                    long.index[unknown.to_numpy()].tolist(),
                    dx[unknown].tolist(),
                    row_offset=2,
                )
            ],
            hint="export with IDs as UIDs, or give each source under dhis2.indicators "
            "its `name` as the export writes it.",
            row_label="row",
        )
    long = long.copy()
    long["dataelement"] = parts[0].where(is_uid, named_de)
    # A data element alone is its total: the config must map it with the default combo.
    coc = parts[1].where(parts[1].notna(), DEFAULT_COMBO)
    long["categoryoptioncombo"] = coc.where(is_uid, named_coc)
    return long
