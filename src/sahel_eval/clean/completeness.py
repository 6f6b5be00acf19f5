"""Reporting completeness, timeliness, inactive facilities and keyed zeros (DESIGN §5).

Definitions (WHO Data Quality Review, the defaults of the config):

* expected: the facility is open that month — opened month ≤ month < closed month;
* reported: a complete-data-set registration exists for the facility-month
  (registrations marked ``completed = false`` do not count);
* timely: reported and completed on or before ``deadline_day`` of the next month;
* completeness = reported ÷ expected, timeliness = timely ÷ expected (targets 90 %
  and 75 %);
* inactive facility: ≥ ``inactive_months`` consecutive expected months unreported;
* keyed zero: a facility-month without registration whose values are all zero is
  missing, not zero. A facility-month without registration that holds a non-zero
  value keeps its values (they are counts someone entered) but stays
  ``reported = False`` — completeness is about the report — and is listed in the
  ``unregistered_values`` DQ table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sahel_eval.clean.periods import date_month_number, month_number, to_period

__all__ = [
    "completeness_summary",
    "expected_months",
    "flag_keyed_zeros",
    "gap_runs",
    "inactive_facilities",
    "reporting_status",
]


def expected_months(facilities: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """Facility-months expected to report: opened month ≤ month < closed month.

    Parameters
    ----------
    facilities
        Master list: ``orgunit_uid, district, opened, closed`` (``closed`` NaT while
        open).
    periods
        The months of the data (``YYYYMM``), in order.

    Returns
    -------
    pandas.DataFrame
        ``facility_id, district, period``, sorted by facility and period.
    """
    months = month_number(np.array(periods, dtype=object))
    opened = date_month_number(facilities["opened"])
    closed = date_month_number(facilities["closed"])
    closed = np.where(closed < 0, np.iinfo(np.int64).max, closed)
    open_ = (months[None, :] >= opened[:, None]) & (months[None, :] < closed[:, None])
    fi, ti = np.nonzero(open_)
    out = pd.DataFrame(
        {
            "facility_id": facilities["orgunit_uid"].to_numpy()[fi],
            "district": facilities["district"].to_numpy()[fi],
            "period": np.asarray(periods, dtype=object)[ti],
        }
    )
    out["facility_id"] = out["facility_id"].astype("str")
    out["district"] = out["district"].astype("str")
    out["period"] = out["period"].astype("str")
    return out.sort_values(["facility_id", "period"], kind="mergesort").reset_index(drop=True)


def reporting_status(
    expected: pd.DataFrame, registrations: pd.DataFrame, *, deadline_day: int = 15
) -> pd.DataFrame:
    """Reported and timely flags per expected facility-month.

    Parameters
    ----------
    expected
        Output of :func:`expected_months`.
    registrations
        Complete data-set registrations with matched org units: ``orgunit_uid,
        period, date`` and optionally ``completed`` (bool).
    deadline_day
        A report is timely when completed on or before this day of the next month.

    Returns
    -------
    pandas.DataFrame
        ``expected`` plus ``reported``, ``timely`` (bool) and ``completed_on``
        (earliest completion date, NaT when unreported).
    """
    reg = registrations
    if "completed" in reg:
        reg = reg[reg["completed"].fillna(True).astype(bool)]
    first = (
        reg.groupby(["orgunit_uid", "period"], sort=False)["date"]
        .min()
        .rename("completed_on")
        .reset_index()
        .rename(columns={"orgunit_uid": "facility_id"})
    )
    first["facility_id"] = first["facility_id"].astype("str")
    first["period"] = first["period"].astype("str")
    out = expected.merge(first, on=["facility_id", "period"], how="left")
    out["reported"] = out["completed_on"].notna()
    deadline = _deadline(out["period"], deadline_day)
    out["timely"] = out["reported"] & (out["completed_on"] < deadline).to_numpy()
    return out


def _deadline(periods: pd.Series, day: int) -> pd.Series:
    # Completed "on or before day D" = before midnight starting day D + 1.
    nxt = to_period(month_number(periods.to_numpy()) + 1)
    start = pd.to_datetime(pd.Series(nxt, index=periods.index), format="%Y%m")
    return start + pd.Timedelta(days=day)


def completeness_summary(
    status: pd.DataFrame,
    by: list[str],
    *,
    completeness_target: float = 0.9,
    timeliness_target: float = 0.75,
) -> pd.DataFrame:
    """Completeness and timeliness grouped by ``by``.

    Parameters
    ----------
    status
        Output of :func:`reporting_status` (any subset of its rows).
    by
        Grouping columns, e.g. ``["district", "period"]``; ``[]`` for one total row.
    completeness_target, timeliness_target
        Targets; the output says whether each group meets them.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``expected, reported, timely, completeness, timeliness,
        completeness_ok, timeliness_ok``, sorted by ``by``.
    """
    counts = status.assign(
        expected=1, reported=status["reported"].astype(int), timely=status["timely"].astype(int)
    )
    if by:
        out = counts.groupby(by, sort=True)[["expected", "reported", "timely"]].sum().reset_index()
    else:
        out = counts[["expected", "reported", "timely"]].sum().to_frame().T
    out[["expected", "reported", "timely"]] = out[["expected", "reported", "timely"]].astype(
        "int64"
    )
    exp = out["expected"].where(out["expected"] > 0)
    out["completeness"] = out["reported"] / exp
    out["timeliness"] = out["timely"] / exp
    out["completeness_ok"] = out["completeness"] >= completeness_target
    out["timeliness_ok"] = out["timeliness"] >= timeliness_target
    return out.reset_index(drop=True)


def gap_runs(status: pd.DataFrame) -> pd.DataFrame:
    """Runs of consecutive unreported expected months.

    Parameters
    ----------
    status
        Output of :func:`reporting_status`.

    Returns
    -------
    pandas.DataFrame
        One row per unreported facility-month: ``facility_id, district, period,
        run`` (a run id) and ``run_length`` (months in its run); sorted.
    """
    s = status.sort_values(["facility_id", "period"], kind="mergesort").reset_index(drop=True)
    miss = ~s["reported"].to_numpy(dtype=bool)
    fac = s["facility_id"].to_numpy()
    new_fac = np.r_[True, fac[1:] != fac[:-1]]
    # A run starts at a missed month that follows a report or opens a new facility.
    start = miss & (new_fac | np.r_[True, ~miss[:-1]])
    runs = s.loc[miss, ["facility_id", "district", "period"]].copy()
    runs["run"] = np.cumsum(start)[miss]
    runs["run_length"] = runs.groupby("run")["period"].transform("size").astype("int64")
    return runs.reset_index(drop=True)


def inactive_facilities(status: pd.DataFrame, *, months: int = 6) -> pd.DataFrame:
    """Longest run of unreported expected months per facility.

    Runs are counted over the facility's expected months in order; a month when the
    facility is closed (not expected) neither extends nor breaks a run because it is
    not in ``status``.

    Parameters
    ----------
    status
        Output of :func:`reporting_status`.
    months
        A facility is inactive when a run reaches this length.

    Returns
    -------
    pandas.DataFrame
        ``facility_id, district, expected, reported, longest_gap, gap_start,
        gap_end`` (first and last month of the longest run, earliest run on ties;
        empty when none), ``n_inactive_spells`` and ``inactive`` (bool).
    """
    s = status
    runs = gap_runs(status)
    per_run = runs.groupby("run", sort=True).agg(
        facility_id=("facility_id", "first"),
        length=("period", "size"),
        gap_start=("period", "first"),
        gap_end=("period", "last"),
    )
    longest = per_run.sort_values(
        ["facility_id", "length", "gap_start"], ascending=[True, False, True], kind="mergesort"
    ).drop_duplicates("facility_id")
    spells = per_run[per_run["length"] >= months].groupby("facility_id").size().rename("n_spells")
    base = (
        s.groupby(["facility_id", "district"], sort=True)
        .agg(expected=("period", "size"), reported=("reported", "sum"))
        .reset_index()
    )
    out = base.merge(
        longest[["facility_id", "length", "gap_start", "gap_end"]], on="facility_id", how="left"
    )
    out["longest_gap"] = out["length"].fillna(0).astype("int64")
    out["n_inactive_spells"] = out["facility_id"].map(spells).fillna(0).astype("int64").to_numpy()
    out["inactive"] = out["longest_gap"] >= months
    out["reported"] = out["reported"].astype("int64")
    out["gap_start"] = out["gap_start"].astype("str")
    out["gap_end"] = out["gap_end"].astype("str")
    return out[
        [
            "facility_id",
            "district",
            "expected",
            "reported",
            "longest_gap",
            "gap_start",
            "gap_end",
            "n_inactive_spells",
            "inactive",
        ]
    ]


def flag_keyed_zeros(grid: pd.DataFrame) -> pd.DataFrame:
    """Mark keyed zeros: values of an unregistered facility-month that are all zero.

    Parameters
    ----------
    grid
        One row per facility-month × indicator with ``facility_id, period, value,
        reported``.

    Returns
    -------
    pandas.DataFrame
        ``grid`` plus ``keyed_zero`` (bool: the value is a keyed zero, to be read as
        missing) and ``unregistered`` (bool: a value present in an unregistered
        facility-month that is not all zeros; kept).
    """
    out = grid.copy(deep=False)  # copy-on-write: the new columns never reach grid
    has = out["value"].notna()
    nonzero = has & (out["value"] != 0)
    key = [out["facility_id"], out["period"]]
    any_value = has.groupby(key, sort=False).transform("any")
    any_nonzero = nonzero.groupby(key, sort=False).transform("any")
    unreported = ~out["reported"].astype(bool)
    out["keyed_zero"] = (unreported & has & any_value & ~any_nonzero).to_numpy()
    out["unregistered"] = (unreported & has & any_nonzero).to_numpy()
    return out
