"""Shock table: national config entries and chaining of local events."""

from __future__ import annotations

import pandas as pd
import pytest

from sahel_eval.resilience.shocks import (
    SHOCK_COLUMNS,
    local_shocks,
    national_shocks,
    shock_table,
)


def _events(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["event_date", "district", "fatalities"])


@pytest.mark.parametrize(
    ("second", "days", "n_shocks"),
    [("2019-04-10", 89, 1), ("2019-04-11", 90, 2), ("2019-04-12", 91, 2)],
)
def test_gap_boundary_is_strict(second: str, days: int, n_shocks: int) -> None:
    assert (pd.Timestamp(second) - pd.Timestamp("2019-01-11")).days == days
    ev = _events([("2019-01-11", "Bandiagara", 3), (second, "Bandiagara", 4)])
    got = local_shocks(ev, min_fatalities=1)
    assert len(got) == n_shocks
    assert got["onset"].iloc[0] == pd.Timestamp("2019-01-01")
    if n_shocks == 1:
        assert got["last_event"].iloc[0] == pd.Timestamp(second)
        assert got["n_events"].iloc[0] == 2 and got["fatalities"].iloc[0] == 7
    else:
        assert got["onset"].iloc[1] == pd.Timestamp(second).to_period("M").to_timestamp()


def test_chain_runs_from_previous_event_and_filters_fatalities() -> None:
    ev = _events(
        [
            ("2019-01-05", "Bandiagara", 2),
            ("2019-03-01", "Bandiagara", 0),  # below threshold: ignored, no chaining
            ("2019-03-20", "Bandiagara", 5),  # 74 days after Jan 5: chains
            ("2019-06-10", "Bandiagara", 1),  # 82 days after Mar 20: chains
            ("2019-09-10", "Bandiagara", 1),  # 92 days: new shock
            ("2019-02-15", "Mopti", 10),
        ]
    )
    got = local_shocks(ev, min_fatalities=1)
    assert list(got.columns) == list(SHOCK_COLUMNS)
    assert got["shock_id"].tolist() == [
        "local-Bandiagara-201901",
        "local-Bandiagara-201909",
        "local-Mopti-201902",
    ]
    assert got["n_events"].tolist() == [3, 1, 1]
    assert got["fatalities"].tolist() == [8, 1, 10]
    assert got["last_event"].iloc[0] == pd.Timestamp("2019-06-10")
    assert (got["kind"] == "local").all()
    # A threshold of 2 drops the Jun and Sep events.
    high = local_shocks(ev, min_fatalities=2)
    assert high["n_events"].tolist() == [2, 1]


def test_unsorted_input_and_same_month_ids() -> None:
    ev = _events([("2019-01-20", "Mopti", 1), ("2019-01-02", "Mopti", 1)])
    got = local_shocks(ev, min_fatalities=1, gap_days=10)
    assert got["shock_id"].tolist() == ["local-Mopti-201901", "local-Mopti-201901-2"]


def test_bad_events_are_named() -> None:
    ev = _events([("2019-01-20", "Mopti", 1), ("not a date", "Mopti", 1)])
    with pytest.raises(ValueError, match=r"event_date.*\[1\]"):
        local_shocks(ev, min_fatalities=1)
    with pytest.raises(ValueError, match="lacks column"):
        local_shocks(ev.drop(columns="district"), min_fatalities=1)


def test_national_and_table() -> None:
    nat = national_shocks(
        [{"id": "covid19", "onset": "2020-03-17"}, {"id": "strike_a", "onset": "2018-07"}]
    )
    assert nat["onset"].tolist() == [pd.Timestamp("2020-03-01"), pd.Timestamp("2018-07-01")]
    assert nat["district"].isna().all() and nat["n_events"].isna().all()
    table = shock_table(events=_events([("2019-01-20", "Mopti", 1)]))
    assert table["shock_id"].tolist() == ["covid19", "local-Mopti-201901"]
    assert table["kind"].tolist() == ["national", "local"]
    assert table["district"].iloc[0] is None
    with pytest.raises(ValueError, match="unique"):
        national_shocks([{"id": "a", "onset": "2020-01"}, {"id": "a", "onset": "2020-02"}])
    assert local_shocks(_events([("2019-01-20", "Mopti", 0)]), min_fatalities=1).empty
