"""The data inventory: one row per input file, the first report the pipeline renders.

The ingest stage reads the raw files and hands over DataFrames with a few facts about
them; this module only counts, takes ranges and hashes the files. It never parses raw
formats itself, so the inventory describes exactly what ingest read.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sahel_eval.report.provenance import Provenance, relative_path, sha256_file
from sahel_eval.report.render import render_report

TEMPLATE = "data_inventory.html.j2"

INPUT_KINDS: tuple[str, ...] = (
    "dhis2_data_values",
    "dhis2_completeness",
    "facility_list",
    "population",
    "district_population",
    "displacement_sites",
    "survey_households",
    "survey_women",
    "survey_births",
    "survey_children",
    "programmes",
    "events",
    "mutuals",
)
"""Kinds of input (DESIGN §3); each has a ``kind.*`` entry in the catalogue."""

_REQUIRED = ("name", "path", "kind", "frame")
_OPTIONAL = ("facility_col", "period_col", "round_col", "period_unit")
PERIOD_UNITS = ("day", "month", "year")

# Text forms of periods, tried in this order; every non-missing value must match one
# and the same form. DHIS2 monthly periods are YYYYMM.
_TEXT_PERIODS: tuple[tuple[str, str, str], ...] = (
    (r"\d{4}", "%Y", "year"),
    (r"\d{6}", "%Y%m", "month"),
    (r"\d{4}-\d{2}", "%Y-%m", "month"),
    (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d", "day"),
)


@dataclass(frozen=True)
class InventoryRow:
    """What the inventory says about one input.

    ``period_unit`` is ``"day"``, ``"month"`` or ``"year"`` and says how the period is
    written; period, facility and round fields are ``None`` / empty when the input has
    no such column.
    """

    name: str
    path: str
    kind: str
    n_rows: int
    n_columns: int
    period_start: _dt.date | None
    period_end: _dt.date | None
    period_unit: str | None
    n_facilities: int | None
    rounds: tuple[str, ...]
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for templates and JSON (dates stay ``date`` objects)."""
        return asdict(self)


def _column(frame: pd.DataFrame, col: str, name: str, role: str) -> pd.Series:
    if col not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:20]))
        raise KeyError(
            f"input {name!r}: {role} column {col!r} is not in the data (columns: {shown}); "
            f"fix the {role}_col given to inventory_rows"
        )
    return frame[col]


def _period_range(
    series: pd.Series, unit: str | None, name: str
) -> tuple[_dt.date | None, _dt.date | None, str | None]:
    values = series.dropna()
    if values.empty:
        return None, None, None
    if isinstance(values.dtype, pd.PeriodDtype):
        stamps = values.dt.to_timestamp()
        inferred = {"M": "month", "Y": "year", "A": "year"}.get(values.dt.freqstr[:1], "day")
    elif pd.api.types.is_datetime64_any_dtype(values):
        stamps = values
        inferred = "month" if bool((stamps.dt.day == 1).all()) else "day"
    else:
        if pd.api.types.is_float_dtype(values) and bool((values % 1 == 0).all()):
            # Stata and SPSS store years and YYYYMM codes as floats (2019.0).
            values = values.astype("int64")
        text = values.astype(str).str.strip()
        for regex, form, text_unit in _TEXT_PERIODS:
            if bool(text.str.fullmatch(regex).all()):
                stamps = pd.to_datetime(text, format=form, errors="coerce")
                inferred = text_unit
                break
        else:
            bad = text[~text.str.fullmatch("|".join(r for r, _, _ in _TEXT_PERIODS))]
            raise ValueError(
                f"input {name!r}, column {series.name!r}: period {bad.iloc[0]!r} (row "
                f"{bad.index[0]}) is not YYYY, YYYYMM, YYYY-MM or YYYY-MM-DD, and all "
                "values must use the same form"
            )
        if stamps.isna().any():
            pos = stamps.isna().to_numpy().nonzero()[0][0]
            raise ValueError(
                f"input {name!r}, column {series.name!r}: period {text.iloc[pos]!r} (row "
                f"{text.index[pos]}) is not a valid date"
            )
    unit = unit or inferred
    if unit not in PERIOD_UNITS:
        raise ValueError(f"input {name!r}: period_unit must be one of {PERIOD_UNITS}, got {unit!r}")
    return stamps.min().date(), stamps.max().date(), unit


def _round_label(value: Any) -> str:
    # Stata and SPSS store round numbers as floats: show 2, not 2.0.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rounds(series: pd.Series) -> tuple[str, ...]:
    values = series.dropna().unique().tolist()
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    ordered = sorted(values) if numeric else sorted(values, key=str)
    return tuple(_round_label(v) for v in ordered)


def inventory_rows(
    inputs: Iterable[Mapping[str, Any]],
    *,
    root: str | os.PathLike[str],
) -> list[InventoryRow]:
    """One :class:`InventoryRow` per input, in the order given.

    Parameters
    ----------
    inputs
        Descriptors with ``name`` (shown to readers), ``path`` (file or directory,
        absolute or relative to ``root``), ``kind`` (one of :data:`INPUT_KINDS`) and
        ``frame`` (the DataFrame ingest read), plus optional ``facility_col``,
        ``period_col``, ``round_col`` and ``period_unit`` (``"day"``, ``"month"``,
        ``"year"``; inferred when absent).
    root
        Project root; paths are shown relative to it.

    Raises
    ------
    ValueError, KeyError, FileNotFoundError
        Naming the input (and column) at fault.
    """
    rows = []
    for i, desc in enumerate(inputs):
        missing = [k for k in _REQUIRED if k not in desc]
        name = str(desc.get("name", f"#{i}"))
        if missing:
            raise ValueError(f"input {name!r}: descriptor lacks {missing}")
        unknown = sorted(set(desc) - set(_REQUIRED) - set(_OPTIONAL))
        if unknown:
            raise ValueError(
                f"input {name!r}: unknown descriptor keys {unknown}; allowed optional keys "
                f"are {list(_OPTIONAL)}"
            )
        if desc["kind"] not in INPUT_KINDS:
            raise ValueError(
                f"input {name!r}: kind {desc['kind']!r} is not one of {list(INPUT_KINDS)}"
            )
        frame = desc["frame"]
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"input {name!r}: frame must be a pandas DataFrame")
        path = Path(desc["path"])
        full = path if path.is_absolute() else Path(root) / path
        rel = relative_path(full, root)
        if not full.exists():
            raise FileNotFoundError(f"input {name!r}: file {rel} does not exist")

        start = end = unit = None
        if desc.get("period_col") is not None:
            series = _column(frame, desc["period_col"], name, "period")
            start, end, unit = _period_range(series, desc.get("period_unit"), name)
        n_facilities = None
        if desc.get("facility_col") is not None:
            n_facilities = int(_column(frame, desc["facility_col"], name, "facility").nunique())
        rounds: tuple[str, ...] = ()
        if desc.get("round_col") is not None:
            rounds = _rounds(_column(frame, desc["round_col"], name, "round"))

        rows.append(
            InventoryRow(
                name=name,
                path=rel,
                kind=desc["kind"],
                n_rows=int(frame.shape[0]),
                n_columns=int(frame.shape[1]),
                period_start=start,
                period_end=end,
                period_unit=unit,
                n_facilities=n_facilities,
                rounds=rounds,
                sha256=sha256_file(full),
            )
        )
    return rows


def render_inventory(
    rows: Sequence[InventoryRow | Mapping[str, Any]],
    provenance: Provenance | Mapping[str, Any],
    lang: str,
    out_path: str | os.PathLike[str],
    *,
    synthetic: bool,
) -> Path:
    """Write ``data_inventory_{lang}.html`` (atomically) and return its path."""
    context = {
        "rows": [r.to_dict() if isinstance(r, InventoryRow) else dict(r) for r in rows],
        "provenance": provenance.to_dict() if isinstance(provenance, Provenance) else provenance,
        "synthetic": bool(synthetic),
    }
    return render_report(TEMPLATE, context, lang, out_path)


def interim_descriptors(
    config: Mapping[str, Any], interim: Mapping[str, str | os.PathLike[str]]
) -> list[dict[str, Any]]:
    """Inventory descriptors of the ingested inputs, in the order of the config.

    Parameters
    ----------
    config
        The validated config (raw paths come from ``inputs``).
    interim
        Interim parquet per input name: ``facilities``, ``population``,
        ``district_population`` and ``displacement_sites`` (when configured),
        ``dhis2_datavalues``,
        ``dhis2_completeness``, ``programmes``, ``events``, ``mutuals`` and
        ``survey_<unit>_<year>``.
    """
    inp = config["inputs"]
    # name, kind, raw path, facility column, period column
    single = (
        ("dhis2_datavalues", "dhis2_data_values", inp["dhis2_datavalues"], "orgunit", "period"),
        (
            "dhis2_completeness",
            "dhis2_completeness",
            inp["dhis2_completeness"],
            "orgunit",
            "period",
        ),
        ("facilities", "facility_list", inp["facilities"], "orgunit_uid", None),
        ("population", "population", inp["population"], "orgunit_uid", "year"),
        ("programmes", "programmes", inp["programmes"], None, "start"),
        ("events", "events", inp["events"], None, "event_date"),
    )
    if inp["district_population"]:
        dp = inp["district_population"]
        single += (("district_population", "district_population", dp, None, "year"),)
    if inp["displacement_sites"]:
        ds = inp["displacement_sites"]
        # Facility: the host catchment's CSCOM (the fled aire's is a column beside it).
        single += (("displacement_sites", "displacement_sites", ds, "orgunit_uid", "month"),)
    out: list[dict[str, Any]] = []
    for name, kind, raw, fac_col, per_col in single:
        out.append(
            {
                "name": name,
                "path": raw,
                "kind": kind,
                "frame": pd.read_parquet(interim[name]),
                "facility_col": fac_col,
                "period_col": per_col,
            }
        )
    for rnd in inp["surveys"]:
        for entry in rnd["files"]:
            key = f"survey_{entry['unit']}_{rnd['year']}"
            out.append(
                {
                    "name": key,
                    "path": entry["path"],
                    "kind": f"survey_{entry['unit']}",
                    "frame": pd.read_parquet(interim[key]),
                    "round_col": "round_year",
                }
            )
    mut = pd.read_parquet(interim["mutuals"])
    out.append(
        {
            "name": "mutuals",
            "path": str(Path(inp["mutuals"][0]).parent),
            "kind": "mutuals",
            "frame": mut,
            "period_col": "year",
            "period_unit": "year",
        }
    )
    return out
