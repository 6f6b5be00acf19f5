"""Internal consistency, consistency over time and attrition by programme arm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sahel_eval.clean.attrition import attrition_by_arm, programme_arms
from sahel_eval.clean.completeness import expected_months, reporting_status
from sahel_eval.clean.consistency import consistency_over_time, internal_consistency
from sahel_eval.clean.periods import period_range


def long(facility: str, district: str, periods, **values) -> pd.DataFrame:
    frames = []
    for ind, vals in values.items():
        frames.append(
            pd.DataFrame(
                {
                    "facility_id": facility,
                    "district": district,
                    "period": periods,
                    "indicator": ind,
                    "value_clean": np.asarray(vals, dtype="float64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_internal_consistency_ratios_and_bounds() -> None:
    p = ["202001", "202002", "202003"]
    fm = pd.concat(
        [
            # ANC1/Penta1 = 60/50 = 1.2 ok; Penta1/Penta3 = 50/25 = 2 too high; ANC4 40 ≤ 60.
            long(
                "F1",
                "A",
                p,
                anc1=[20, 20, 20],
                penta1=[20, 15, 15],
                penta3=[10, 5, 10],
                anc4=[10, 20, 10],
            ),
            # The month with ANC1 missing is left out of both sums of anc1_penta1.
            long(
                "F2",
                "A",
                p,
                anc1=[10, np.nan, 10],
                penta1=[12, 1000, 8],
                penta3=[12, 10, 8],
                anc4=[20, 0, 5],
            ),
        ],
        ignore_index=True,
    )
    out = internal_consistency(fm, bounds=(1.0, 1.5))
    fac = out[out["level"] == "facility"].set_index(["unit", "check"])
    assert fac.loc[("F1", "anc1_penta1"), "ratio"] == pytest.approx(1.2)
    assert fac.loc[("F1", "anc1_penta1"), "consistent"]
    assert fac.loc[("F1", "penta1_penta3"), "ratio"] == pytest.approx(2.0)
    assert not fac.loc[("F1", "penta1_penta3"), "consistent"]
    assert fac.loc[("F2", "anc1_penta1"), "ratio"] == pytest.approx(1.0)
    assert fac.loc[("F2", "anc1_penta1"), "months"] == 2
    assert not fac.loc[("F2", "anc4_anc1"), "consistent"]  # 25 ANC4 > 20 ANC1
    dist = out[out["level"] == "district"].set_index("check")
    assert dist.loc["anc1_penta1", "ratio"] == pytest.approx(80 / 70)


def test_internal_consistency_undefined_ratio_is_na() -> None:
    fm = long("F1", "A", ["202001"], anc1=[5], penta1=[0], penta3=[0], anc4=[1])
    out = internal_consistency(fm)
    row = out[(out["level"] == "facility") & (out["check"] == "anc1_penta1")].iloc[0]
    assert np.isnan(row["ratio"]) and pd.isna(row["consistent"])


def test_consistency_over_time_uses_two_previous_years() -> None:
    periods = period_range("201801", "202012")
    vals = [10.0] * 12 + [20.0] * 12 + [30.0] * 11 + [np.nan]
    out = consistency_over_time(long("F1", "A", periods, anc1=vals))
    fac = out[out["level"] == "facility"].set_index("year")
    assert np.isnan(fac.loc[2019, "ratio"])  # one previous year only
    assert fac.loc[2020, "ratio"] == pytest.approx(30 / 15)
    assert fac.loc[2020, "months"] == 11


FAC = pd.DataFrame(
    {
        "orgunit_uid": ["T1", "T2", "C1", "C2", "B1", "B2"],
        "region": ["Mopti"] * 4 + ["Bamako"] * 2,
        "district": ["Bandiagara", "Bandiagara", "Koro", "Koro", "Commune III", "Commune I"],
        "commune": ["Sangha", "Dourou", "Koro", "Dinangourou", "Commune III", "Commune I"],
        "opened": pd.to_datetime(["2000-01-01"] * 6),
        "closed": pd.to_datetime([None, None, "2021-03-10", None, None, None]),
    }
)
PROG = pd.DataFrame(
    {
        "programme": ["I3S", "Djantoli"],
        "unit_level": ["facility", "commune"],
        "unit_id": ["T1", "Commune III"],
        "start": pd.to_datetime(["2016-01-01", "2017-11-01"]),
        "end": pd.to_datetime(["2021-12-31", "2019-10-31"]),
    }
)


def test_arms_follow_the_district_of_assignment() -> None:
    arms = programme_arms(FAC, PROG).set_index(["programme", "facility_id"])["arm"]
    # T2 is in a treated cercle although it has no I3S row of its own.
    assert arms[("I3S", "T2")] == "treated" and arms[("I3S", "C1")] == "comparison"
    assert ("I3S", "B1") not in arms.index
    assert arms[("Djantoli", "B1")] == "treated" and arms[("Djantoli", "B2")] == "comparison"


def test_attrition_counts_closures_and_gaps() -> None:
    status = reporting_status(
        expected_months(FAC, period_range("202001", "202112")),
        pd.DataFrame(
            {
                "orgunit_uid": ["T1"] * 24,
                "period": period_range("202001", "202112"),
                "date": pd.Timestamp("2022-01-01"),
            }
        ),
    )
    out = attrition_by_arm(status, FAC, PROG)
    row = out.query(
        "programme == 'I3S' and arm == 'comparison' and district == 'all' and year == 2021"
    )
    assert row["closures"].item() == 1
    assert row["expected"].item() == 2 + 12  # C1 Jan-Feb, C2 all year
    assert row["facilities_inactive"].item() == 2
    treated = out.query("programme == 'I3S' and arm == 'treated' and district == 'all'")
    assert treated["unreported_share"].tolist() == [0.5, 0.5]
