"""The data-quality tables of ``results/dq/`` (DESIGN §5), from one cleaning run.

:func:`dq_tables` returns name -> table, names sorted, each table sorted by its
keys, so writing them as ``results/dq/<name>.csv`` is deterministic. Shares are
fractions (0–1), not percentages; the report formats them.
"""

from __future__ import annotations

import pandas as pd

from sahel_eval.clean.attrition import attrition_by_arm
from sahel_eval.clean.completeness import completeness_summary, inactive_facilities
from sahel_eval.clean.consistency import consistency_over_time, internal_consistency
from sahel_eval.clean.facility_month import CleanSettings, FacilityClean
from sahel_eval.products import DQ_TABLES

__all__ = ["DQ_TABLES", "dq_tables"]


def _indicator_completeness(fm: pd.DataFrame) -> pd.DataFrame:
    # Per district × indicator: how many expected facility-months hold a usable value.
    g = fm.assign(
        with_value=fm["value_clean"].notna(),
        zero=fm["value_clean"].eq(0),
        keyed_zero=fm["keyed_zero"],
    ).groupby(["district", "indicator"], sort=True)
    out = g.agg(
        expected=("period", "size"),
        with_value=("with_value", "sum"),
        zeros=("zero", "sum"),
        keyed_zeros=("keyed_zero", "sum"),
    ).reset_index()
    for col in ("expected", "with_value", "zeros", "keyed_zeros"):
        out[col] = out[col].astype("int64")
    out["share_with_value"] = out["with_value"] / out["expected"]
    return out


def dq_tables(
    clean: FacilityClean,
    facilities: pd.DataFrame,
    programmes: pd.DataFrame,
    settings: CleanSettings | None = None,
) -> dict[str, pd.DataFrame]:
    """All DQ tables of a cleaning run.

    Parameters
    ----------
    clean
        Output of :func:`sahel_eval.clean.facility_month.clean_facility_data`.
    facilities
        Interim master list.
    programmes
        Interim roll-out table.
    settings
        Targets, bounds and the inactivity length; default ``clean.settings``.

    Returns
    -------
    dict
        Table name (see :data:`DQ_TABLES`) -> DataFrame, keys sorted.
    """
    s = settings or clean.settings or CleanSettings(indicators={})
    st = clean.status
    district = facilities.set_index("orgunit_uid")["district"]
    # The DQ measures are monthly (a quarter's total is not a month's value): quarterly
    # indicators are left out of them, as of the completeness grid.
    monthly = clean.facility_month[clean.facility_month["period_type"] == "month"]
    fm = monthly.assign(district=monthly["facility_id"].map(district).astype("str"))
    targets = {
        "completeness_target": s.completeness_target,
        "timeliness_target": s.timeliness_target,
    }
    per_fac = completeness_summary(st, ["facility_id", "district"], **targets)
    inactive = inactive_facilities(st, months=s.inactive_months)
    per_fac = per_fac.merge(
        inactive[
            ["facility_id", "longest_gap", "gap_start", "gap_end", "n_inactive_spells", "inactive"]
        ],
        on="facility_id",
        how="left",
    )
    tables = {
        "attrition_by_arm": attrition_by_arm(
            st, facilities, programmes, inactive_months=s.inactive_months
        ),
        "completeness_district": completeness_summary(st, ["district"], **targets),
        "completeness_district_month": completeness_summary(st, ["district", "period"], **targets),
        "completeness_facility": per_fac,
        "completeness_month": completeness_summary(st, ["period"], **targets),
        "consistency_internal": internal_consistency(fm, bounds=s.consistency_bounds),
        "consistency_over_time": consistency_over_time(fm),
        "duplicates_conflicting": clean.conflicting_duplicates,
        "duplicates_exact": clean.exact_duplicates,
        "indicator_completeness": _indicator_completeness(fm),
        "keyed_zeros": clean.keyed_zeros,
        "orgunit_matches": clean.orgunit_matches,
        "outliers": clean.outliers,
        "outliers_summary": clean.outliers_summary,
        # Facility × month status: the completeness heat map of the DQ report.
        "reporting_status": st,
        "unregistered_values": clean.unregistered_values,
        "values_outside_open_period": clean.values_outside_open_period,
    }
    return {name: tables[name].reset_index(drop=True) for name in sorted(tables)}
