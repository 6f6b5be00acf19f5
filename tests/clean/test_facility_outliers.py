"""Modified z-score: formula, MAD = 0, missing data, sides, seasonality, treatments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sahel_eval.clean.outliers import flag_outliers, modified_zscore, treat_outliers
from sahel_eval.clean.periods import period_range


def series(values, indicator: str = "anc1", facility: str = "F1", start: str = "201601"):
    periods = period_range(start, "209912")[: len(values)]
    return pd.DataFrame(
        {
            "facility_id": facility,
            "period": periods,
            "indicator": indicator,
            "value_clean": np.asarray(values, dtype="float64"),
        }
    )


def test_formula_matches_hand_computation() -> None:
    x = pd.Series([10.0, 12, 11, 13, 9, 40])
    z = modified_zscore(x, [pd.Series(["g"] * 6)])
    med = np.median(x)
    mad = np.median(np.abs(x - med))
    assert z["m"].iloc[-1] == pytest.approx(0.6745 * (40 - med) / mad, rel=1e-4)


def test_mad_zero_uses_mean_absolute_deviation() -> None:
    x = pd.Series([5.0] * 8 + [6.0, 30.0])
    z = modified_zscore(x, [pd.Series(["g"] * 10)])
    mean_ad = np.mean(np.abs(x - 5.0))
    assert z["m"].iloc[-1] == pytest.approx(25 / (1.253314 * mean_ad))
    flagged = flag_outliers(series(x), seasonal_indicators=())
    assert flagged["outlier"].tolist() == [False] * 9 + [True]


def test_constant_series_and_all_missing() -> None:
    const = flag_outliers(series([7.0] * 12), seasonal_indicators=())
    assert not const["outlier"].any() and (const["outlier_score"] == 0).all()
    empty = flag_outliers(series([np.nan] * 12), seasonal_indicators=())
    assert not empty["outlier"].any() and empty["outlier_score"].isna().all()


def test_single_facility_single_value() -> None:
    out = flag_outliers(series([100.0]))
    assert not out["outlier"].any()


def test_groups_are_facility_by_indicator() -> None:
    a = series([10, 11, 9, 10, 12, 10, 11, 100], facility="F1")
    b = series([100, 110, 90, 100, 120, 100, 110, 100], facility="F2")
    out = flag_outliers(pd.concat([a, b], ignore_index=True), seasonal_indicators=())
    assert out.loc[out["facility_id"] == "F1", "outlier"].sum() == 1
    assert out.loc[out["facility_id"] == "F2", "outlier"].sum() == 0


def test_one_sided_keeps_drops_two_sided_flags_them() -> None:
    values = [100, 104, 98, 101, 99, 103, 97, 102, 100, 20, 101, 400]
    one = flag_outliers(series(values), seasonal_indicators=())
    assert one["outlier"].tolist() == [False] * 11 + [True]
    two = flag_outliers(series(values), seasonal_indicators=(), sides="two")
    assert two["outlier"].tolist() == [False] * 9 + [True, False, True]
    with pytest.raises(ValueError):
        flag_outliers(series(values), sides="both")


def seasonal_series(years: int = 6, peak: float = 3.0) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    months = np.tile(np.arange(1, 13), years)
    mean = 100 * np.where(np.isin(months, [8, 9, 10, 11]), peak, 1.0)
    return series(rng.poisson(mean), indicator="malaria_confirmed")


def test_seasonal_adjustment_spares_the_rainy_season() -> None:
    data = seasonal_series()
    plain = flag_outliers(data, seasonal_adjustment=False)
    adjusted = flag_outliers(data)
    assert plain["outlier"].mean() > 0.2  # every peak month looks like an outlier
    assert adjusted["outlier"].sum() == 0
    assert set(adjusted["outlier_method"]) == {"seasonal"}
    # A typing error (×10) in a peak month is still caught on the adjusted scale.
    data.loc[8, "value_clean"] *= 10
    caught = flag_outliers(data)
    assert caught["outlier"].tolist() == [i == 8 for i in range(len(data))]
    assert caught.loc[8, "outlier_high"] < data.loc[8, "value_clean"]


def test_seasonal_falls_back_to_overall_median_with_few_years() -> None:
    data = series([100, 95, 105, 98, 102, 1000], indicator="malaria_confirmed")
    out = flag_outliers(data)  # each calendar month seen once: overall median used
    assert out["outlier"].tolist() == [False] * 5 + [True]


def test_treatments() -> None:
    data = series([10, 11, 9, 10, 12, 10, 11, 100])
    flagged = flag_outliers(data, seasonal_indicators=())
    kept = treat_outliers(flagged, "flag")
    assert kept["value_clean"].iloc[-1] == 100 and not kept["set_missing"].any()
    missing = treat_outliers(flagged, "set_missing")
    assert np.isnan(missing["value_clean"].iloc[-1]) and missing["set_missing"].iloc[-1]
    assert missing["value_clean"].iloc[:-1].notna().all()
    wins = treat_outliers(flagged, "winsorise")
    bound = flagged["outlier_high"].iloc[-1]
    assert wins["value_clean"].iloc[-1] == pytest.approx(bound) and wins["winsorised"].iloc[-1]
    assert 12 < bound < 100
    assert wins["value_clean"].iloc[:-1].tolist() == data["value_clean"].iloc[:-1].tolist()
    with pytest.raises(ValueError):
        treat_outliers(flagged, "drop")
