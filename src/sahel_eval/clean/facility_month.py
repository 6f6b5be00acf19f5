"""Build the canonical ``facility_month`` table from the interim DHIS2 tables.

The steps, each in its own module: org units matched to the master list
(:mod:`~sahel_eval.clean.orgunits`), duplicates resolved
(:mod:`~sahel_eval.clean.duplicates`), rows summed into indicators
(:mod:`~sahel_eval.clean.indicators`), the grid of expected facility-months with
reporting status and keyed zeros (:mod:`~sahel_eval.clean.completeness`), outliers
flagged and treated (:mod:`~sahel_eval.clean.outliers`).

``facility_month`` (DESIGN §4), one row per expected facility-month × indicator,
sorted by facility, period, indicator:

========================  ============================================================
facility_id               org-unit UID (text)
period                    month ``YYYYMM`` or quarter ``YYYYQn`` (text)
period_type               ``month`` or ``quarter`` (one per indicator)
indicator                 indicator name (``dhis2.indicators``)
value                     as reported, after duplicate resolution (NaN: no value)
reported                  a complete-data-set registration exists (bool)
value_clean               value for analysis: NaN for keyed zeros and values set
                          missing, the bound for winsorised values
keyed_zero                zero keyed for an unregistered month, read as missing
duplicate_resolved        the value came from conflicting duplicate rows
outlier                   flagged by the configured rule (``dq.outliers.rule``)
set_missing               outlier made missing (treatment ``set_missing``)
winsorised                outlier replaced by its bound (treatment ``winsorise``)
========================  ============================================================

Values for months when a facility is not expected (before its opening month, from
its closing month) are left out of the table and listed in the DQ table
``values_outside_open_period``.

A quarterly data element (DESIGN §4) is kept quarterly, never split into months: one
row per facility-quarter in the export, ``reported`` true (its value was sent),
``value_clean`` the value after duplicate resolution, and none of the monthly rules
(completeness grid, keyed zeros, outliers), which have no quarterly meaning here.
Naming it in ``dq.outliers.seasonal_indicators`` is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean import completeness as comp
from sahel_eval.clean.duplicates import resolve_duplicates
from sahel_eval.clean.indicators import map_indicators
from sahel_eval.clean.orgunits import apply_orgunit_matches, match_orgunits, read_orgunit_mapping
from sahel_eval.clean.outliers import (
    DEFAULT_SEASONAL,
    flag_outliers,
    outliers_summary,
    treat_outliers,
)
from sahel_eval.clean.outliers_count import CountRule
from sahel_eval.clean.periods import check_periods, period_range
from sahel_eval.errors import InputError, rows_problem
from sahel_eval.ingest.period_types import check_monthly_uses, period_type

__all__ = [
    "FACILITY_MONTH_COLUMNS",
    "CleanSettings",
    "FacilityClean",
    "clean_facility_data",
]

FACILITY_MONTH_COLUMNS = (
    "facility_id",
    "period",
    "period_type",
    "indicator",
    "value",
    "reported",
    "value_clean",
    "keyed_zero",
    "duplicate_resolved",
    "outlier",
    "set_missing",
    "winsorised",
)


@dataclass(frozen=True)
class CleanSettings:
    """Settings of the facility cleaning stage (config ``dhis2.indicators`` and ``dq``).

    Attributes
    ----------
    indicators
        ``dhis2.indicators``: indicator -> list of ``{data_element,
        category_option_combo}``.
    rule, count, threshold, sides, seasonal_indicators, seasonal_adjustment
        ``dq.outliers.*`` (see :func:`sahel_eval.clean.outliers.flag_outliers`).
    treatment
        ``dq.treatment``: ``flag``, ``set_missing`` or ``winsorise``.
    deadline_day
        ``dq.timeliness_deadline_day``.
    completeness_target, timeliness_target, inactive_months, consistency_bounds
        ``dq.*``.
    first_period, last_period
        ``YYYYMM`` range of the data; ``None``: the range of the export.
    """

    indicators: Mapping[str, Sequence[Mapping[str, str]]]
    rule: str = "modified_z"
    count: CountRule | None = None
    threshold: float = 3.5
    sides: str = "one"
    seasonal_indicators: tuple[str, ...] = DEFAULT_SEASONAL
    seasonal_adjustment: bool = True
    treatment: str = "flag"
    deadline_day: int = 15
    completeness_target: float = 0.9
    timeliness_target: float = 0.75
    inactive_months: int = 6
    consistency_bounds: tuple[float, float] = (1.0, 1.5)
    first_period: str | None = None
    last_period: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CleanSettings:
        """Settings from a validated config (the schema fills the ``dq`` defaults)."""
        dq = config["dq"]
        out = dq["outliers"]
        return cls(
            indicators=config["dhis2"]["indicators"],
            rule=str(out["rule"]),
            count=CountRule(
                fdr_q=float(out["count"]["fdr_q"]),
                min_dispersion=float(out["count"]["min_dispersion"]),
                window_months=int(out["count"]["window_months"]),
                min_values=int(out["count"]["min_values"]),
                m_above=out["count"]["m_above"],
            ),
            threshold=float(out["threshold"]),
            sides=str(out["sides"]),
            seasonal_indicators=tuple(out["seasonal_indicators"]),
            seasonal_adjustment=bool(out["seasonal_adjustment"]),
            treatment=str(dq["treatment"]),
            deadline_day=int(dq["timeliness_deadline_day"]),
            completeness_target=float(dq["completeness_target"]),
            timeliness_target=float(dq["timeliness_target"]),
            inactive_months=int(dq["inactive_months"]),
            consistency_bounds=tuple(dq["consistency_bounds"]),  # type: ignore[arg-type]
            first_period=dq["first_period"],
            last_period=dq["last_period"],
        )


@dataclass
class FacilityClean:
    """Result of :func:`clean_facility_data`: the canonical table and DQ by-products.

    Attributes
    ----------
    facility_month
        The canonical table (see the module docstring).
    status
        One row per expected facility-month: ``facility_id, district, period,
        completed_on, reported, timely``.
    outliers
        Flagged values with ``outlier_score, outlier_method, outlier_level,
        outlier_low, outlier_high`` and the treatment applied.
    outliers_summary
        Per district × indicator: values scored, flagged by the configured rule and
        by each rule (:func:`sahel_eval.clean.outliers.outliers_summary`).
    orgunit_matches
        Per source file and distinct org-unit text: ``source, name_in_export,
        method, orgunit_uid, n_rows``.
    exact_duplicates, conflicting_duplicates
        See :class:`sahel_eval.clean.duplicates.Deduplicated`.
    keyed_zeros
        Facility-months whose values were keyed zeros: ``facility_id, district,
        period, n_values``.
    unregistered_values
        Values kept from facility-months without registration.
    values_outside_open_period
        Values for months a facility was not open (left out).
    """

    facility_month: pd.DataFrame
    status: pd.DataFrame
    outliers: pd.DataFrame
    outliers_summary: pd.DataFrame
    orgunit_matches: pd.DataFrame
    exact_duplicates: pd.DataFrame
    conflicting_duplicates: pd.DataFrame
    keyed_zeros: pd.DataFrame
    unregistered_values: pd.DataFrame
    values_outside_open_period: pd.DataFrame
    settings: CleanSettings | None = field(default=None, repr=False)


def _check_values(datavalues: pd.DataFrame, source: str) -> None:
    monthly = period_type(datavalues["period"]) == "month"
    check_periods(datavalues.loc[monthly, "period"], source=source)
    if not pd.api.types.is_numeric_dtype(datavalues["value"]):
        parsed = pd.to_numeric(datavalues["value"], errors="coerce")
        bad = parsed.isna() & datavalues["value"].notna()
        raise InputError(
            source,
            [rows_problem("value", "numeric", "the value is not a number", datavalues, bad)],
            hint="a mapped data element must hold a number: correct the value in DHIS2.",
            row_label="line",
        )


def _with_quarters(monthly: pd.DataFrame, quarters: pd.DataFrame) -> pd.DataFrame:
    """``facility_month``: the monthly grid and the quarterly values as reported."""
    if quarters.empty:
        return monthly.reset_index(drop=True)
    q = quarters.assign(
        period_type="quarter",
        reported=True,
        value_clean=quarters["value"],
        duplicate_resolved=quarters["duplicate_resolved"].fillna(False).astype(bool),
        **{flag: False for flag in ("keyed_zero", "outlier", "set_missing", "winsorised")},
    )[list(FACILITY_MONTH_COLUMNS)]
    both = pd.concat([monthly, q], ignore_index=True)
    return both.sort_values(["facility_id", "period", "indicator"], kind="mergesort").reset_index(
        drop=True
    )


def _indicator_values(
    datavalues: pd.DataFrame, indicators: Mapping[str, Sequence[Mapping[str, str]]]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Indicator values from matched data values; the exact and conflicting duplicates.

    A function of its own so that the deduplicated rows (~160 MB nationally) are freed
    once summed, not held through the grid and the outlier scores.
    """
    dedup = resolve_duplicates(datavalues)
    return map_indicators(dedup.values, indicators), dedup.exact, dedup.conflicts


def clean_facility_data(
    datavalues: pd.DataFrame,
    registrations: pd.DataFrame,
    facilities: pd.DataFrame,
    settings: CleanSettings,
    *,
    orgunit_mapping: str | Path | pd.DataFrame | None = None,
    datavalues_source: str = "DHIS2 data values",
    registrations_source: str = "DHIS2 completeness",
) -> FacilityClean:
    """Clean the DHIS2 facility data into ``facility_month``.

    Parameters
    ----------
    datavalues
        Interim data values (:func:`sahel_eval.ingest.ingest_dhis2_datavalues`).
    registrations
        Interim registrations (:func:`sahel_eval.ingest.ingest_dhis2_completeness`).
    facilities
        Interim master list (:func:`sahel_eval.ingest.ingest_facilities`).
    settings
        :class:`CleanSettings`.
    orgunit_mapping
        The explicit org-unit mapping: a CSV path (``inputs.orgunit_mapping``), a
        table, or ``None``.
    datavalues_source, registrations_source
        File names for error messages.

    Returns
    -------
    FacilityClean

    Raises
    ------
    InputError
        Unknown or ambiguous org units, periods not ``YYYYMM``, non-numeric values.
    """
    _check_values(datavalues, datavalues_source)
    check_monthly_uses(
        {"dhis2": {"indicators": settings.indicators}},
        {name: ["dq.outliers.seasonal_indicators"] for name in settings.seasonal_indicators},
        datavalues,
        datavalues_source,
        rule="clean_facility_data",
    )
    check_periods(registrations["period"], source=registrations_source)
    facilities = facilities.reset_index(drop=True)
    if isinstance(orgunit_mapping, (str, Path)):
        orgunit_mapping = read_orgunit_mapping(orgunit_mapping, facilities["orgunit_uid"])

    # 1. org units
    m_dv = match_orgunits(
        datavalues["orgunit"], facilities, orgunit_mapping, source=datavalues_source
    )
    m_reg = match_orgunits(
        registrations["orgunit"], facilities, orgunit_mapping, source=registrations_source
    )
    matches = pd.concat(
        [m_dv.assign(source="datavalues"), m_reg.assign(source="completeness")], ignore_index=True
    )[["source", "name_in_export", "method", "orgunit_uid", "n_rows"]]
    reg = apply_orgunit_matches(registrations, m_reg)

    # 2. duplicates, 3. indicators (quarterly ones set aside: no monthly rule applies)
    values, exact, conflicts = _indicator_values(
        apply_orgunit_matches(datavalues, m_dv), settings.indicators
    )
    quarterly = period_type(values["period"]) == "quarter"
    quarter_values, values = values[quarterly], values[~quarterly]

    # 4. grid of expected facility-months × indicators, with reporting status
    # Unique first: iterating a whole Arrow string column goes through Python objects.
    dv_periods = datavalues["period"]
    months = dv_periods[period_type(dv_periods) == "month"].unique()
    periods = sorted(set(months) | set(reg["period"].unique()))
    first = settings.first_period or periods[0]
    last = settings.last_period or periods[-1]
    expected = comp.expected_months(facilities, period_range(first, last))
    status = comp.reporting_status(expected, reg, deadline_day=settings.deadline_day)
    indicators = sorted(set(settings.indicators) - set(quarter_values["indicator"]))
    k = len(indicators)
    grid = pd.DataFrame(
        {
            "facility_id": np.repeat(status["facility_id"].to_numpy(), k),
            "period": np.repeat(status["period"].to_numpy(), k),
            "district": np.repeat(status["district"].to_numpy(), k),
            "indicator": np.tile(np.array(indicators, dtype=object), len(status)),
            "reported": np.repeat(status["reported"].to_numpy(dtype=bool), k),
        }
    )
    for col in ("facility_id", "period", "district", "indicator"):
        grid[col] = grid[col].astype("str")
    grid = grid.merge(
        values, on=["facility_id", "period", "indicator"], how="left", indicator="_m", sort=False
    )
    outside = values.merge(
        grid.loc[grid["_m"] == "both", ["facility_id", "period", "indicator"]],
        on=["facility_id", "period", "indicator"],
        how="left",
        indicator="_m",
    )
    outside = outside[outside["_m"] == "left_only"].drop(columns=["_m", "duplicate_resolved"])
    grid = grid.drop(columns="_m")
    # Merged into the grid: not kept through the outlier scores (~80 MB nationally).
    del values
    grid["duplicate_resolved"] = grid["duplicate_resolved"].fillna(False).astype(bool)

    # 5. keyed zeros
    grid = comp.flag_keyed_zeros(grid)
    grid["value_clean"] = grid["value"].where(~grid["keyed_zero"])

    # 6. outliers
    grid = flag_outliers(
        grid,
        rule=settings.rule,
        count=settings.count,
        threshold=settings.threshold,
        sides=settings.sides,
        seasonal_indicators=settings.seasonal_indicators,
        seasonal_adjustment=settings.seasonal_adjustment,
    )
    grid = treat_outliers(grid, settings.treatment)

    flagged = grid[grid["outlier"]]
    outliers = flagged[
        [
            "facility_id",
            "district",
            "period",
            "indicator",
            "value",
            "value_clean",
            "outlier_score",
            "outlier_method",
            "outlier_level",
            "outlier_low",
            "outlier_high",
            "set_missing",
            "winsorised",
        ]
    ].reset_index(drop=True)
    kz = grid[grid["keyed_zero"]]
    keyed = (
        kz.groupby(["facility_id", "district", "period"], sort=True)
        .size()
        .rename("n_values")
        .reset_index()
    )
    unregistered = grid.loc[
        grid["unregistered"], ["facility_id", "district", "period", "indicator", "value"]
    ].reset_index(drop=True)

    grid["period_type"] = "month"
    fm = _with_quarters(grid[list(FACILITY_MONTH_COLUMNS)], quarter_values)
    return FacilityClean(
        facility_month=fm,
        status=status,
        outliers=outliers,
        outliers_summary=outliers_summary(grid),
        orgunit_matches=matches,
        exact_duplicates=exact,
        conflicting_duplicates=conflicts,
        keyed_zeros=keyed,
        unregistered_values=unregistered,
        values_outside_open_period=outside.sort_values(
            ["facility_id", "period", "indicator"], kind="mergesort"
        ).reset_index(drop=True),
        settings=settings,
    )
