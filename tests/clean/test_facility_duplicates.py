"""Duplicates (exact, conflicting, tied timestamps) and the indicator sums."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sahel_eval.clean.duplicates import resolve_duplicates
from sahel_eval.clean.indicators import indicator_table, map_indicators
from sahel_eval.errors import InputError

AOC = "HllvX50cXC0"


def rows(*records: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(
        records,
        columns=["orgunit_uid", "period", "dataelement", "categoryoptioncombo", "value", "ts"],
    )
    frame["attributeoptioncombo"] = AOC
    frame["lastupdated"] = pd.to_datetime(frame.pop("ts"))
    frame["value"] = frame["value"].astype("float64")
    return frame


def test_exact_duplicates_dropped_and_counted() -> None:
    dv = rows(
        ("F1", "202001", "DE1", "C1", 5, "2020-02-01"),
        ("F1", "202001", "DE1", "C1", 5, "2020-02-01"),
        ("F1", "202001", "DE2", "C1", 7, "2020-02-01"),
        ("F1", "202001", "DE2", "C1", 7, "2020-03-01"),  # re-export, new stamp
    )
    out = resolve_duplicates(dv)
    assert len(out.values) == 2
    assert not out.values["duplicate_resolved"].any()
    assert out.exact.to_dict("records") == [
        {"orgunit_uid": "F1", "period": "202001", "n_rows_dropped": 2}
    ]
    assert out.conflicts.empty


def test_conflict_resolved_by_latest_update() -> None:
    dv = rows(
        ("F1", "202001", "DE1", "C1", 50, "2020-02-20"),
        ("F1", "202001", "DE1", "C1", 30, "2020-02-01"),  # stale, earlier
        ("F1", "202001", "DE1", "C1", 30, "2020-02-01"),  # and exported twice
        ("F2", "202001", "DE1", "C1", 8, "2020-02-01"),
    )
    out = resolve_duplicates(dv)
    f1 = out.values[out.values["orgunit_uid"] == "F1"]
    assert f1["value"].tolist() == [50.0] and f1["duplicate_resolved"].all()
    c = out.conflicts.iloc[0]
    assert c["values"] == "30 | 50" and c["chosen_value"] == 50 and c["rule"] == "latest"
    assert c["lastupdated"] == "2020-02-01T00:00:00 | 2020-02-20T00:00:00"
    assert out.exact["n_rows_dropped"].sum() == 1


def test_conflict_with_equal_timestamps_takes_last_row_in_file() -> None:
    # Documented rule: DHIS2 applies an import file in row order, so the later row wins.
    dv = rows(
        ("F1", "202001", "DE1", "C1", 12, "2020-02-01"),
        ("F1", "202001", "DE1", "C1", 21, "2020-02-01"),
    )
    out = resolve_duplicates(dv)
    assert out.values["value"].tolist() == [21.0]
    assert out.conflicts["rule"].tolist() == ["tie_file_order"]
    flipped = resolve_duplicates(dv.iloc[::-1])
    assert flipped.values["value"].tolist() == [12.0]


def test_missing_attribute_combo_still_groups() -> None:
    dv = rows(
        ("F1", "202001", "DE1", "C1", 5, "2020-02-01"),
        ("F1", "202001", "DE1", "C1", 6, "2020-02-02"),
    )
    dv["attributeoptioncombo"] = pd.Series([pd.NA, pd.NA], dtype="str")
    out = resolve_duplicates(dv)
    assert out.values["value"].tolist() == [6.0]


MAPPING = {
    "consultations_all": [
        {"data_element": "DE1", "category_option_combo": "U5"},
        {"data_element": "DE1", "category_option_combo": "5P"},
    ],
    "consultations_u5": [{"data_element": "DE1", "category_option_combo": "U5"}],
    "anc1": [{"data_element": "DE2", "category_option_combo": "D"}],
}


def test_indicators_summed_and_shared_rows() -> None:
    dv = rows(
        ("F1", "202001", "DE1", "U5", 10, "2020-02-01"),
        ("F1", "202001", "DE1", "5P", 15, "2020-02-01"),
        ("F1", "202002", "DE1", "5P", 4, "2020-03-01"),  # no under-5 row this month
        ("F1", "202002", "DE2", "D", np.nan, "2020-03-01"),
        ("F1", "202002", "DEX", "D", 99, "2020-03-01"),  # unmapped: ignored
    )
    out = map_indicators(dv, MAPPING).set_index(["period", "indicator"])["value"]
    assert out[("202001", "consultations_all")] == 25
    assert out[("202001", "consultations_u5")] == 10
    assert out[("202002", "consultations_all")] == 4
    assert ("202002", "consultations_u5") not in out.index
    assert np.isnan(out[("202002", "anc1")])


def test_indicator_pair_listed_twice_is_an_error() -> None:
    bad = {"anc1": [{"data_element": "DE2", "category_option_combo": "D"}] * 2}
    with pytest.raises(InputError) as exc:
        indicator_table(bad)
    assert exc.value.rule == "unique_source"
