"""Expected months, completeness, timeliness, inactive facilities and keyed zeros."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sahel_eval.clean.completeness import (
    completeness_summary,
    expected_months,
    flag_keyed_zeros,
    inactive_facilities,
    reporting_status,
)
from sahel_eval.clean.periods import period_range

FAC = pd.DataFrame(
    {
        "orgunit_uid": ["F1", "F2", "F3"],
        "district": ["A", "A", "B"],
        "opened": pd.to_datetime(["2010-01-01", "2020-03-20", "2010-01-01"]),
        "closed": pd.to_datetime([None, None, "2020-05-02"]),
    }
)
PERIODS = period_range("202001", "202012")


def test_expected_months_open_rule() -> None:
    exp = expected_months(FAC, PERIODS)
    by = exp.groupby("facility_id")["period"].agg(["first", "last", "size"])
    assert tuple(by.loc["F1"]) == ("202001", "202012", 12)
    # Opened on 20 March: March is expected (opened month ≤ month).
    assert tuple(by.loc["F2"]) == ("202003", "202012", 10)
    # Closed on 2 May: May is not expected (month < closed month).
    assert tuple(by.loc["F3"]) == ("202001", "202004", 4)


def reg(*records: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=["orgunit_uid", "period", "date", "completed"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def test_timeliness_deadline_and_incomplete_registrations() -> None:
    exp = expected_months(FAC.iloc[[0]], ["202001", "202002", "202003", "202004"])
    registrations = reg(
        ("F1", "202001", "2020-02-15 23:59:59", True),  # on the 15th: timely
        ("F1", "202002", "2020-03-16 00:00:00", True),  # the 16th: late
        ("F1", "202002", "2020-03-20 00:00:00", True),  # second registration: earliest counts
        ("F1", "202003", "2020-04-01 00:00:00", False),  # not completed: not a report
    )
    st = reporting_status(exp, registrations).set_index("period")
    assert st["reported"].tolist() == [True, True, False, False]
    assert st["timely"].tolist() == [True, False, False, False]
    assert st.loc["202002", "completed_on"] == pd.Timestamp("2020-03-16")
    st10 = reporting_status(exp, registrations, deadline_day=20).set_index("period")
    assert st10["timely"].tolist() == [True, True, False, False]
    s = completeness_summary(st.reset_index(), [])
    assert s.loc[0, "completeness"] == 0.5 and s.loc[0, "timeliness"] == 0.25
    assert not s.loc[0, "completeness_ok"]


def test_summary_by_district_and_month() -> None:
    exp = expected_months(FAC, PERIODS)
    registrations = reg(*[("F1", p, "2020-12-31", True) for p in PERIODS])
    st = reporting_status(exp, registrations)
    d = completeness_summary(st, ["district"]).set_index("district")
    assert d.loc["A", "expected"] == 22 and d.loc["A", "reported"] == 12
    assert d.loc["B", "completeness"] == 0.0
    dm = completeness_summary(st, ["district", "period"])
    assert len(dm) == 12 + 4


def test_inactive_runs() -> None:
    exp = expected_months(FAC.iloc[[0, 1]], PERIODS)
    # F1 reports every month but Feb-Jul (6 months); F2 misses Apr-Aug (5 months).
    rep = [("F1", p, "2021-01-01", True) for p in PERIODS if not "202002" <= p <= "202007"]
    rep += [("F2", p, "2021-01-01", True) for p in PERIODS[2:] if not "202004" <= p <= "202008"]
    st = reporting_status(exp, reg(*rep))
    ina = inactive_facilities(st, months=6).set_index("facility_id")
    assert ina.loc["F1", "longest_gap"] == 6 and ina.loc["F1", "inactive"]
    assert (ina.loc["F1", "gap_start"], ina.loc["F1", "gap_end"]) == ("202002", "202007")
    assert ina.loc["F2", "longest_gap"] == 5 and not ina.loc["F2", "inactive"]
    # A facility that never reports is one long gap.
    st_none = reporting_status(exp, reg(("F9", "202001", "2020-02-01", True)))
    none = inactive_facilities(st_none).set_index("facility_id")
    assert none.loc["F1", "longest_gap"] == 12 and none.loc["F2", "longest_gap"] == 10


def test_keyed_zeros_and_unregistered_values() -> None:
    grid = pd.DataFrame(
        {
            "facility_id": ["F1"] * 6 + ["F2"] * 2,
            "period": ["202001"] * 2 + ["202002"] * 2 + ["202003"] * 2 + ["202001"] * 2,
            "indicator": ["a", "b"] * 4,
            "value": [0, np.nan, 0, 3, 0, 0, np.nan, np.nan],
            "reported": [False, False, False, False, True, True, False, False],
        }
    )
    out = flag_keyed_zeros(grid)
    # Unregistered month with only zeros: keyed zeros (the missing one is just missing).
    assert out["keyed_zero"].tolist() == [True, False, False, False, False, False, False, False]
    # Unregistered month with a non-zero value: kept and listed, zero included.
    assert out["unregistered"].tolist() == [False, False, True, True, False, False, False, False]
