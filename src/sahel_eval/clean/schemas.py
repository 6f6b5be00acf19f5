"""Pandera schemas of the facility tables made by the cleaning stage (DESIGN §4).

``facility_month`` and ``panel_{area}``. The interim tables' schemas live in
:mod:`sahel_eval.schemas`; :func:`sahel_eval.schemas.check_frame` runs these too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandera.pandas as pa

from sahel_eval.clean.panels import quality_column_names

__all__ = ["facility_month_schema", "panel_schema"]

_PERIOD = r"^\d{4}(0[1-9]|1[0-2])$"
_QUARTER = r"^\d{4}Q[1-4]$"
_UID = r"^[A-Za-z][A-Za-z0-9]{10}$"
_FLAGS = ("keyed_zero", "duplicate_resolved", "outlier", "set_missing", "winsorised")


def _check(fn: object, rule: str, **kwargs: object) -> pa.Check:
    return pa.Check(fn, error=rule, name=rule, **kwargs)


def facility_month_schema(indicators: Sequence[str] | None = None) -> pa.DataFrameSchema:
    """``facility_month``: one row per expected facility-month × indicator.

    Parameters
    ----------
    indicators
        Allowed indicator names (``dhis2.indicators``); any when ``None``.
    """
    ind_checks = (
        [_check(lambda s: s.isin(list(indicators)), "known_indicator")] if indicators else []
    )
    columns = {
        "facility_id": pa.Column("str", _check(lambda s: s.str.match(_UID), "uid_format")),
        "period": pa.Column(
            "str", _check(lambda s: s.str.match(_PERIOD) | s.str.match(_QUARTER), "period_format")
        ),
        "period_type": pa.Column(
            "str", _check(lambda s: s.isin(["month", "quarter"]), "period_type")
        ),
        "indicator": pa.Column("str", ind_checks),
        "value": pa.Column(
            "float64", _check(lambda s: s >= 0, "non_negative", ignore_na=True), nullable=True
        ),
        "reported": pa.Column("bool"),
        "value_clean": pa.Column(
            "float64", _check(lambda s: s >= 0, "non_negative", ignore_na=True), nullable=True
        ),
    }
    for flag in _FLAGS:
        columns[flag] = pa.Column("bool")
    return pa.DataFrameSchema(
        columns,
        checks=[
            _check(lambda d: ~d["keyed_zero"] | d["value_clean"].isna(), "keyed_zero_missing"),
            _check(lambda d: ~d["set_missing"] | d["value_clean"].isna(), "set_missing_missing"),
            _check(
                lambda d: ~(d["set_missing"] | d["winsorised"]) | d["outlier"], "treated_outlier"
            ),
            _check(
                lambda d: (d["period_type"] == "quarter") == d["period"].str.match(_QUARTER),
                "period_type_matches_period",
            ),
        ],
        unique=["facility_id", "period", "indicator"],
        report_duplicates="all",
        strict=True,
        ordered=True,
        name="facility_month",
    )


def panel_schema(
    indicators: Sequence[str],
    *,
    unadjusted: bool = False,
    quality: Mapping[str, Any] | None = None,
) -> pa.DataFrameSchema:
    """``panel_{area}``: one row per expected facility-month of the area.

    Parameters
    ----------
    indicators
        Indicator names in column order.
    unadjusted
        The population is adjusted for displacement: the unadjusted population and
        rates are kept beside it.
    quality
        The config's ``quality_of_care``: expected births (non-negative) and the ratios
        (any sign: a drop-out is negative when Penta3 outnumbers Penta1), or ``None``.
    """
    suffixes = ["", *(["_unadjusted"] * unadjusted)]
    names = [
        *(f"population{s}" for s in suffixes),
        *indicators,
        *(f"{ind}_per_1000{s}" for s in suffixes for ind in indicators),
    ]
    columns: dict[str, pa.Column] = {
        "facility_id": pa.Column("str", _check(lambda s: s.str.match(_UID), "uid_format")),
        "district": pa.Column("str"),
        # Residence from the facility list's type (did.facility_residence); empty for a
        # type in neither list.
        "facility_urban": pa.Column("boolean", nullable=True),
        "t": pa.Column("int64", _check(lambda s: s >= 1, "t_positive")),
        "month": pa.Column("str", _check(lambda s: s.str.match(_PERIOD), "period_format")),
    }
    for name in names:
        columns[name] = pa.Column(
            "float64", _check(lambda s: s >= 0, "non_negative", ignore_na=True), nullable=True
        )
    if quality is not None:
        for name in quality_column_names(quality, suffixes):
            births = name.startswith("expected_births")
            checks = [_check(lambda s: s >= 0, "non_negative", ignore_na=True)] if births else []
            columns[name] = pa.Column("float64", checks, nullable=True)
    columns["group"] = pa.Column("int64", _check(lambda s: s >= 0, "non_negative"))
    columns["end_t"] = pa.Column("int64", _check(lambda s: s >= 0, "non_negative"))
    columns["reported"] = pa.Column("bool")
    return pa.DataFrameSchema(
        columns,
        checks=[
            _check(lambda d: (d["end_t"] == 0) | (d["end_t"] >= d["group"]), "end_after_group")
        ],
        unique=["facility_id", "t"],
        report_duplicates="all",
        strict=True,
        ordered=True,
        name="panel",
    )
