"""Pandera schemas of the interim tables, and one way to run them.

:func:`check_frame` runs a schema lazily (every failure, not the first) and turns
pandera's ``SchemaErrors`` into one :class:`~sahel_eval.errors.InputError` naming the
file, the column, the rule and a few rows, identifier values masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from sahel_eval.errors import InputError, Problem, display_path, problem
from sahel_eval.io.tables import REGISTER_AMOUNTS, REGISTER_COUNTS

UID_PATTERN = r"^[A-Za-z][A-Za-z0-9]{10}$"
UNIT_LEVELS = ("facility", "commune", "district", "region")

# Rule name -> the sentence shown with it. Built-in pandera names are mapped too.
RULES: dict[str, str] = {
    "not_missing": "the value is empty",
    "unique_key": "the key appears more than once",
    "type": "the column has the wrong type",
    "required_column": "the column is missing",
    "uid_format": "not a DHIS2 UID (11 letters/digits, a letter first)",
    "known_region": "region not in `geography` of the config",
    "known_district": "district not in `geography` of the config",
    "district_in_region": "district does not belong to the row's region in `geography`",
    "closed_after_opened": "closing date before opening date",
    "non_negative": "negative value, which is impossible here",
    "positive": "zero or negative population, impossible for a district",
    "plausible_year": "year outside 1990-2100",
    "known_programme": "programme not under `programmes` in the config",
    "known_unit_level": f"unit level not one of {', '.join(UNIT_LEVELS)}",
    "end_after_start": "end date before start date",
    "latitude_range": "latitude outside -90..90",
    "longitude_range": "longitude outside -180..180",
    "weight_positive": "sampling weight is zero or negative",
    "psu_present": "primary sampling unit (PSU) is missing",
    "design_present": "survey design variable is missing",
    "whole_number": "a count must be a whole number (a decimal comma or fraction is not one)",
}
_PANDERA_RULES = {
    "field_uniqueness": "unique_key",
    "multiple_fields_uniqueness": "unique_key",
    "not_nullable": "not_missing",
    "column_in_dataframe": "required_column",
    "column_in_schema": "unexpected_column",
}
# Frame-wide checks report every column of a failing row; show only the one that matters.
_WIDE_COLUMN = {
    "closed_after_opened": "closed",
    "end_after_start": "end",
    "district_in_region": "district",
}


def _check(fn: object, rule: str, **kwargs: object) -> pa.Check:
    # The rule name travels as pandera's `error`, which is what failure_cases reports.
    return pa.Check(fn, error=rule, name=rule, **kwargs)


def _text(**kwargs: object) -> pa.Column:
    return pa.Column("str", **kwargs)


def _year() -> pa.Column:
    return pa.Column("Int64", _check(lambda s: s.between(1990, 2100), "plausible_year"))


def _count() -> pa.Column:
    return pa.Column("Int64", _check(lambda s: s >= 0, "non_negative"))


def _non_negative_or_missing() -> pa.Column:
    return pa.Column(
        "float64", _check(lambda s: s >= 0, "non_negative", ignore_na=True), nullable=True
    )


def _whole_non_negative_or_missing() -> pa.Column:
    """A count held as float64 (missing allowed): ≥ 0 and whole."""
    return pa.Column(
        "float64",
        [
            _check(lambda s: s >= 0, "non_negative", ignore_na=True),
            _check(lambda s: s == s.round(), "whole_number", ignore_na=True),
        ],
        nullable=True,
    )


def _keyed(
    columns: dict[str, pa.Column], key: list[str], name: str, **kwargs: object
) -> pa.DataFrameSchema:
    """A strict schema whose ``key`` columns identify a row; every repeated row reported."""
    return pa.DataFrameSchema(
        columns, unique=key, report_duplicates="all", strict=True, name=name, **kwargs
    )


def facilities_schema(geography: Mapping[str, Sequence[str]] | None = None) -> pa.DataFrameSchema:
    """Master facility list (raw names); region/district checked when ``geography`` is given."""
    region_checks: list[pa.Check] = []
    district_checks: list[pa.Check] = []
    wide: list[pa.Check] = [
        _check(lambda d: d["closed"].isna() | (d["closed"] >= d["opened"]), "closed_after_opened"),
    ]
    if geography:
        regions = sorted(geography)
        districts = sorted({d for ds in geography.values() for d in ds})
        pairs = {(r, d) for r, ds in geography.items() for d in ds}
        region_checks.append(_check(lambda s: s.isin(regions), "known_region"))
        district_checks.append(_check(lambda s: s.isin(districts), "known_district"))
        wide.append(
            _check(
                lambda d: pd.Series(
                    [(r, x) in pairs for r, x in zip(d["region"], d["district"], strict=True)],
                    index=d.index,
                ),
                "district_in_region",
            )
        )
    return pa.DataFrameSchema(
        {
            "orgunit_uid": _text(
                checks=_check(lambda s: s.str.match(UID_PATTERN), "uid_format"), unique=True
            ),
            "orgunit_name": _text(),
            "region": _text(checks=region_checks),
            "district": _text(checks=district_checks),
            "commune": _text(nullable=True),
            "aire_de_sante": _text(nullable=True),
            "type": _text(),
            "opened": pa.Column("datetime64[ns]"),
            "closed": pa.Column("datetime64[ns]", nullable=True),
        },
        checks=wide,
        strict=True,
        name="facilities",
    )


def population_schema() -> pa.DataFrameSchema:
    """Catchment population per facility and year."""
    return _keyed(
        {"orgunit_uid": _text(), "year": _year(), "population": _count()},
        ["orgunit_uid", "year"],
        "population",
    )


def district_population_schema() -> pa.DataFrameSchema:
    """Census-based population projection per district and year (WHO DQR domain 4)."""
    return _keyed(
        {
            "district": _text(),
            "year": _year(),
            "population": pa.Column("Int64", _check(lambda s: s > 0, "positive")),
        },
        ["district", "year"],
        "district_population",
    )


def displacement_schema(districts: Sequence[str] = ()) -> pa.DataFrameSchema:
    """Displaced people per site and month; districts checked when ``districts`` is given."""
    known = [_check(lambda s: s.isin(list(districts)), "known_district")] if districts else []
    return _keyed(
        {
            "site": _text(),
            "district": _text(checks=known),
            "aire_de_sante": _text(),
            "origin_district": _text(checks=known),
            "origin_aire_de_sante": _text(),
            "month": _text(),
            "persons": _count(),
        },
        ["site", "month"],
        "displacement_sites",
    )


def datavalues_schema() -> pa.DataFrameSchema:
    """DHIS2 data values after ingest (identifiers dropped, ``value`` numeric)."""
    return pa.DataFrameSchema(
        {
            "dataelement": _text(),
            "period": _text(),
            "period_type": pa.Column(
                "str", _check(lambda s: s.isin(["month", "quarter"]), "period_type")
            ),
            "orgunit": _text(),
            "categoryoptioncombo": _text(),
            "attributeoptioncombo": _text(nullable=True),
            "value": _non_negative_or_missing(),
            # Analytics and pivot exports carry no timestamp (nor duplicates).
            "lastupdated": pa.Column("datetime64[ns]", nullable=True),
            "followup": pa.Column("boolean", nullable=True),
        },
        strict=True,
        name="dhis2_datavalues",
    )


def completeness_schema() -> pa.DataFrameSchema:
    """DHIS2 complete data-set registrations after ingest."""
    return pa.DataFrameSchema(
        {
            "dataset": _text(nullable=True),
            "period": _text(),
            "orgunit": _text(),
            "attributeoptioncombo": _text(nullable=True),
            "date": pa.Column("datetime64[ns]"),
            "completed": pa.Column("boolean"),
        },
        strict=True,
        name="dhis2_completeness",
    )


def programmes_schema(names: Iterable[str] | None = None) -> pa.DataFrameSchema:
    """Programme roll-out; programme names checked against the config when given."""
    known = sorted(names) if names is not None else None
    programme_checks = [_check(lambda s: s.isin(known), "known_programme")] if known else []
    return _keyed(
        {
            "programme": _text(checks=programme_checks),
            "unit_level": _text(checks=_check(lambda s: s.isin(UNIT_LEVELS), "known_unit_level")),
            "unit_id": _text(),
            "start": pa.Column("datetime64[ns]"),
            "end": pa.Column("datetime64[ns]", nullable=True),
        },
        ["programme", "unit_level", "unit_id"],
        "programmes",
        checks=[_check(lambda d: d["end"].isna() | (d["end"] >= d["start"]), "end_after_start")],
    )


def events_schema() -> pa.DataFrameSchema:
    """ACLED-style events."""
    return pa.DataFrameSchema(
        {
            "event_id_cnty": _text(unique=True),
            "event_date": pa.Column("datetime64[ns]"),
            "year": pa.Column("Int64", nullable=True),
            "event_type": _text(),
            "sub_event_type": _text(nullable=True),
            "actor1": _text(nullable=True),
            "admin1": _text(),
            "admin2": _text(),
            "admin3": _text(nullable=True),
            "location": _text(nullable=True),
            "latitude": pa.Column(
                "float64",
                _check(lambda s: s.between(-90, 90), "latitude_range", ignore_na=True),
                nullable=True,
            ),
            "longitude": pa.Column(
                "float64",
                _check(lambda s: s.between(-180, 180), "longitude_range", ignore_na=True),
                nullable=True,
            ),
            "fatalities": _count(),
            "notes": _text(nullable=True),
        },
        strict=True,
        name="events",
    )


def mutuals_schema() -> pa.DataFrameSchema:
    """Mutual-insurance registers, canonical names, all files stacked."""
    amounts = REGISTER_AMOUNTS
    columns: dict[str, pa.Column] = {
        "mutual": _text(),
        "scheme": _text(),
        "year": _year(),
    }
    for name in amounts:
        columns[name] = (
            _whole_non_negative_or_missing()
            if name in REGISTER_COUNTS
            else _non_negative_or_missing()
        )
    columns["source_file"] = _text()
    return _keyed(columns, ["mutual", "scheme", "year"], "mutuals")


def survey_schema(variables: Mapping[str, object]) -> pa.DataFrameSchema:
    """Design checks of one survey file, from ``survey.variables.<unit>`` of the config.

    Only the design variables are constrained (weight > 0; PSU, cluster, strata
    present); other columns pass through (``strict=False``).
    """
    weight, psu = str(variables["weight"]), str(variables["psu"])
    columns = {
        weight: pa.Column("float64", _check(lambda s: s > 0, "weight_positive"), nullable=False),
        psu: pa.Column(
            "float64", _check(lambda s: s.notna(), "psu_present", ignore_na=False), nullable=True
        ),
    }
    for key in ("cluster", "strata"):
        columns[str(variables[key])] = pa.Column(
            "float64", _check(lambda s: s.notna(), "design_present", ignore_na=False), nullable=True
        )
    return pa.DataFrameSchema(columns, strict=False, coerce=False, name="survey")


def check_frame(
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    path: str | Path,
    *,
    row_offset: int = 2,
    row_label: str = "line",
    masked: Iterable[str] = (),
    column_names: Mapping[str, str] | None = None,
    hint: str = "fix the listed rows in the file, or the config if the file is right.",
) -> pd.DataFrame:
    """Validate ``frame`` lazily; raise one :class:`InputError` on failure.

    Parameters
    ----------
    frame
        Data with a default RangeIndex (position 0 = first data row).
    schema
        A pandera schema.
    path
        The file the data came from, for the message.
    row_offset
        Position -> user's row number (2 for a CSV with a header line).
    row_label
        How rows are called ("line", "observation", "row").
    masked
        Columns whose values must not appear in the message.
    column_names
        Frame column -> name the user knows (e.g. canonical -> French header).
    hint
        What to do.

    Returns
    -------
    pandas.DataFrame
        The validated frame.

    Raises
    ------
    InputError
        Grouping failures by (rule, column), at most five examples each.
    """
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise schema_errors_to_input_error(
            exc,
            path,
            row_offset=row_offset,
            row_label=row_label,
            masked=masked,
            column_names=column_names,
            hint=hint,
        ) from None


def schema_errors_to_input_error(
    exc: pa.errors.SchemaErrors,
    path: str | Path,
    *,
    row_offset: int = 2,
    row_label: str = "line",
    masked: Iterable[str] = (),
    column_names: Mapping[str, str] | None = None,
    hint: str = "",
) -> InputError:
    """Convert pandera's lazy ``SchemaErrors`` into one :class:`InputError`."""
    masked = set(masked)
    names = dict(column_names or {})
    cases = exc.failure_cases.copy()
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for record in cases.itertuples(index=False):
        check = str(record.check)
        rule = _PANDERA_RULES.get(check, check)
        if rule.startswith("dtype("):
            rule = "type"
        column = None if pd.isna(record.column) else str(record.column)
        if rule in _WIDE_COLUMN and column != _WIDE_COLUMN[rule]:
            continue
        if (rule, str(column)) in seen:
            continue
        seen.add((rule, str(column)))
        sub = cases[
            (cases["check"] == record.check) & (cases["column"].astype("str") == str(record.column))
        ]
        sub = sub[sub["index"].notna()] if "index" in sub else sub
        rows = sub["index"].tolist() if "index" in sub else []
        values = sub["failure_case"].tolist()
        detail = RULES.get(rule, check)
        if rule == "type":
            detail = f"expected {check}, got {record.failure_case}"
            rows, values = [], []
        problems.append(
            problem(
                names.get(column or "", column),
                rule,
                detail,
                rows,
                values,
                masked=column in masked,
                row_offset=row_offset,
            )
        )
    return InputError(display_path(path), problems, hint=hint, row_label=row_label)
