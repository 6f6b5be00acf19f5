"""Outlier rules: the modified z-score (formula, MAD = 0, missing data, sides, seasonality,
treatments) and the count rule (small counts, typing errors, steps, BH, m_above)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sahel_eval.clean.outliers import flag_outliers, modified_zscore, treat_outliers
from sahel_eval.clean.outliers_count import CountRule
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


# --- the count rule (DESIGN §5) -------------------------------------------------------

RULE = CountRule(fdr_q=0.001, min_dispersion=0.01, window_months=13, min_values=5, m_above=None)


def count_flags(data: pd.DataFrame, **kw) -> pd.DataFrame:
    return flag_outliers(data, rule="count", count=RULE, seasonal_indicators=(), **kw)


def test_small_count_noise_is_not_flagged_but_the_z_score_flags_it() -> None:
    # A CSCOM with about 3 deliveries a month: 9 is Poisson noise (P(X ≥ 9 | 3) ≈ 0.004
    # in one of 60 months), yet its modified z-score is far above 3.5.
    rng = np.random.default_rng(1)
    x = rng.poisson(3, 60).astype(float)
    x[30] = 9
    out = count_flags(series(x, "deliveries"))
    assert not out["outlier"].any()
    assert out.loc[30, "outlier_by_z"]
    assert out.loc[30, "outlier_method"] == "count"


def test_typing_error_times_ten_is_flagged_with_its_usual_level() -> None:
    rng = np.random.default_rng(2)
    x = rng.poisson(40, 60).astype(float)
    x[25] = x[25] * 10
    out = count_flags(series(x))
    assert out["outlier"].tolist() == [i == 25 for i in range(60)]
    assert 30 < out.loc[25, "outlier_level"] < 50
    # The winsorising bound is the largest count not flagged that month: well below the
    # error, above the usual level.
    assert out.loc[25, "outlier_level"] < out.loc[25, "outlier_high"] < x[25]
    assert out.loc[25, "outlier_score"] > 10  # −log10 of the adjusted p


def test_a_real_step_up_is_followed_not_flagged() -> None:
    # A mutual opens: consultations of its members go from 0 to about 60 and stay.
    rng = np.random.default_rng(3)
    x = np.r_[np.zeros(30), rng.poisson(60, 30)].astype(float)
    out = count_flags(series(x, "consultations_mutual"))
    assert not out["outlier"].any()
    # The level follows the step: zero before, about 60 from the first month after.
    assert (out.loc[:29, "outlier_level"] == 0).all()
    assert out.loc[30:, "outlier_level"].between(40, 75).all()


def test_short_series_are_not_scored_and_missing_values_are_skipped() -> None:
    out = count_flags(series([5.0, 6.0, 500.0, 4.0]))
    assert not out["outlier"].any()
    assert out["outlier_score"].isna().all()
    x = np.full(30, 20.0)
    x[[3, 7]] = np.nan
    x[10] = 400.0
    out = count_flags(series(x))
    assert out["outlier"].sum() == 1 and out.loc[10, "outlier"]
    assert out.loc[[3, 7], "outlier_score"].isna().all()


def test_two_sided_count_rule_flags_an_impossible_drop() -> None:
    x = np.full(40, 200.0) + np.tile([0.0, 5.0, -5.0, 3.0], 10)
    x[20] = 2.0
    assert not count_flags(series(x))["outlier"].any()
    assert count_flags(series(x), sides="two")["outlier"].tolist() == [i == 20 for i in range(40)]


def test_benjamini_hochberg_adjusts_within_a_series() -> None:
    # One value with raw p about 1e-4 among 60 months: not flagged at q = 0.001 once
    # adjusted (60 × 1e-4 > 0.001), flagged alone if the series had one month.
    rng = np.random.default_rng(4)
    x = rng.poisson(50, 60).astype(float)
    out = count_flags(series(x))
    worst = out["outlier_score"].idxmax()
    assert not out["outlier"].any()
    assert out.loc[worst, "outlier_score"] < 3  # adjusted p above q


def test_m_above_hands_large_series_to_the_modified_z_score() -> None:
    rng = np.random.default_rng(5)
    small = series(rng.poisson(5, 40).astype(float), facility="S")
    large = series(rng.poisson(2000, 40).astype(float), facility="L")
    data = pd.concat([small, large], ignore_index=True)
    rule = CountRule(fdr_q=0.001, min_dispersion=0.01, window_months=13, min_values=5, m_above=500)
    out = flag_outliers(data, rule="count", count=rule, seasonal_indicators=())
    method = out.groupby("facility_id")["outlier_method"].unique()
    assert method["S"].tolist() == ["count"] and method["L"].tolist() == ["plain"]
    pd.testing.assert_series_equal(
        out.loc[out["facility_id"] == "L", "outlier"],
        out.loc[out["facility_id"] == "L", "outlier_by_z"],
        check_names=False,
    )


def test_count_rule_needs_its_thresholds() -> None:
    with pytest.raises(ValueError, match="count=CountRule"):
        flag_outliers(series([1.0] * 10), rule="count")
    with pytest.raises(ValueError, match="rule must be one of"):
        flag_outliers(series([1.0] * 10), rule="zscore")


def test_modified_z_level_is_the_facility_median() -> None:
    x = [10.0, 12.0, 11.0, 13.0, 9.0, 100.0, 11.0]
    out = flag_outliers(series(x), seasonal_indicators=())
    assert (out["outlier_level"] == 11.0).all()
