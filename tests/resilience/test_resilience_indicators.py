"""Hand-computed checks of the resilience indicators (DESIGN §7)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sahel_eval.resilience.indicators import (
    FIELDS,
    WindowIndicators,
    classify,
    interruption,
    substitution,
    window_indicators,
    window_indicators_many,
)

T, F = True, False


def test_hand_computed_window() -> None:
    # E = 10 every month; O drops to 4, comes back in month 2 and holds.
    obs = [4, 8, 9, 10, 12, 9]
    exp = [10] * 6
    rep = [T] * 6
    got = window_indicators(obs, exp, rep)
    assert got.absorption == 1 - 0.4
    assert got.tau == 2  # months 2, 3, 4: 0.9, 1.0, 1.2
    assert got.censored is False
    assert got.loss == 6 + 2 + 1 + 0 + 0 + 1
    assert got.loss_share == 10 / 60
    assert got.resilience_index == 52 / 60
    assert got.bounce_back == (1.0 + 1.2 + 0.9) / 3
    assert got.continuity == 1.0
    assert got.n_reported == 6


def test_recovery_in_onset_month_is_resilient() -> None:
    got = window_indicators([9, 9, 9, 1], [10, 10, 10, 10], [T] * 4)
    assert got.tau == 0 and not got.censored
    assert classify(assessable=True, interrupted=False, tau=got.tau) == "resilient"


def test_never_recovering_is_censored() -> None:
    got = window_indicators([1, 2, 3, 8, 8, 8], [10] * 6, [T] * 6)
    assert got.tau is None and got.censored
    assert got.absorption == 0.9
    assert classify(assessable=True, interrupted=False, tau=None) == "not_recovered"


def test_unreported_month_breaks_run() -> None:
    # Months 1-2 and 4-5 are at level but month 3 is unreported: the first full run
    # is 4, 5, 6.
    obs = [1, 10, 10, np.nan, 10, 10, 10, 10]
    rep = [T, T, T, F, T, T, T, T]
    got = window_indicators(obs, [10] * 8, rep)
    assert got.tau == 4
    assert got.n_reported == 7
    assert got.continuity == 7 / 8
    # Unreported month counts neither in the loss nor in the expected total.
    assert got.loss == 9
    assert got.loss_share == 9 / 70
    assert got.resilience_index == 61 / 70


def test_run_past_window_end_is_not_recovery() -> None:
    got = window_indicators([1, 1, 1, 1, 10, 10], [10] * 6, [T] * 6)
    assert got.tau is None and got.censored
    # ... while one more month would have made it.
    assert window_indicators([1, 1, 1, 10, 10, 10], [10] * 6, [T] * 6).tau == 3


def test_threshold_is_inclusive() -> None:
    got = window_indicators([9, 9, 9], [10, 10, 10], [T] * 3)
    assert got.tau == 0
    assert window_indicators([8.99, 9, 9], [10, 10, 10], [T] * 3).tau is None


def test_all_unreported_window() -> None:
    got = window_indicators([np.nan] * 12, [10] * 12, [F] * 12)
    assert got.tau is None and got.censored
    assert got.continuity == 0.0 and got.n_reported == 0
    for name in ("absorption", "loss", "loss_share", "resilience_index", "bounce_back"):
        assert math.isnan(getattr(got, name)), name


def test_zero_expected() -> None:
    # Month 1 has E = 0: no ratio (out of absorption / bounce-back), no shortfall
    # (counts as at level for the run), adds O to the index numerator only.
    got = window_indicators([5, 3, 10, 10], [10, 0, 10, 10], [T] * 4)
    assert got.absorption == 0.5
    assert got.tau == 1
    assert got.loss == 5
    assert got.loss_share == 5 / 30
    assert got.resilience_index == 28 / 30
    assert got.bounce_back == 1.0  # last three: undefined, 1.0, 1.0
    all_zero = window_indicators([0, 2], [0, 0], [T, T], run_length=2)
    assert math.isnan(all_zero.absorption) and math.isnan(all_zero.bounce_back)
    assert math.isnan(all_zero.loss_share) and math.isnan(all_zero.resilience_index)
    assert all_zero.loss == 0 and all_zero.tau == 0


def test_bounce_back_uses_reported_tail_only() -> None:
    got = window_indicators([5, 5, 5, 6, np.nan, 8], [10] * 6, [T, T, T, T, F, T])
    assert got.bounce_back == (0.6 + 0.8) / 2
    tail_missing = window_indicators([5, 5, 5, 1, 1, 1], [10] * 6, [T, T, T, F, F, F])
    assert math.isnan(tail_missing.bounce_back)
    short = window_indicators([5, 10], [10, 10], [T, T])
    assert short.bounce_back == 0.75


def test_observed_above_expected_gives_negative_absorption() -> None:
    got = window_indicators([12, 11], [10, 10], [T, T], run_length=2)
    assert got.absorption == pytest.approx(-0.1, abs=1e-15)
    assert got.loss == 0


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="observed volume"):
        window_indicators([np.nan, 1], [1, 1], [T, T])
    with pytest.raises(ValueError, match="expected volume"):
        window_indicators([1, 1], [-1, 1], [T, T])
    with pytest.raises(TypeError):
        window_indicators([1, 1], [1, 1], [1, 1])
    with pytest.raises(ValueError, match="shape"):
        window_indicators([1, 1], [1, 1, 1], [T, T])


def test_interruption() -> None:
    # Two services, H = 6. Months 2-4: nothing reported at all.
    sr = np.array([[T, F], [F, T], [F, F], [F, F], [F, F], [T, T]])
    assert interruption(sr)
    assert not interruption(sr, min_months=4)
    # Two empty months then one with a single service: not interrupted.
    sr2 = np.array([[F, F], [F, F], [F, T], [F, F], [F, F], [T, F]])
    assert not interruption(sr2)
    assert interruption(np.zeros((3, 4), dtype=bool))
    assert not interruption(np.zeros((2, 4), dtype=bool))
    assert interruption(np.array([T, F, F, F]))


def test_substitution() -> None:
    got = substitution([10, 20], [100, 100], 30, 300)
    assert got == 30 / 200 - 30 / 300
    assert math.isnan(substitution(1, 0, 1, 2))
    with pytest.raises(ValueError, match="facility_before"):
        substitution(1, 2, [np.nan], 2)


def test_classify_order() -> None:
    assert classify(assessable=False, interrupted=True, tau=0) == "not_assessable"
    assert classify(assessable=True, interrupted=True, tau=0) == "interrupted"
    assert classify(assessable=True, interrupted=False, tau=0) == "resilient"
    assert classify(assessable=True, interrupted=False, tau=5) == "recovered"
    assert classify(assessable=True, interrupted=False, tau=None) == "not_recovered"


def test_many_equals_scalar_exactly() -> None:
    rng = np.random.default_rng(20240611)
    n, h = 2000, 12
    exp = rng.gamma(2.0, 20.0, size=(n, h))
    exp[rng.random((n, h)) < 0.03] = 0.0
    obs = np.round(exp * rng.uniform(0.2, 1.4, size=(n, h)))
    rep = rng.random((n, h)) < 0.85
    rep[:50] = False  # all-unreported windows
    rep[50:100] = True
    obs[~rep] = np.nan
    idx = pd.RangeIndex(n, name="window")
    many = window_indicators_many(obs, exp, rep, index=idx)
    assert list(many.columns) == list(FIELDS)
    assert str(many["tau"].dtype) == "Int64"
    for i in range(n):
        one = window_indicators(obs[i], exp[i], rep[i])
        row = many.iloc[i]
        for name in FIELDS:
            a, b = getattr(one, name), row[name]
            if name == "tau":
                assert (a is None and b is pd.NA) or a == b, (i, name)
            elif isinstance(a, float) and math.isnan(a):
                assert math.isnan(b), (i, name)
            else:
                assert a == b, (i, name, a, b)


def test_many_other_settings_and_short_window() -> None:
    obs = np.array([[8.0, 9.0], [5.0, 5.0]])
    exp = np.full((2, 2), 10.0)
    rep = np.ones((2, 2), dtype=bool)
    got = window_indicators_many(obs, exp, rep, recovery_threshold=0.8, run_length=2)
    assert got["tau"].tolist() == [0, pd.NA]
    # Window shorter than the run: never a recovery.
    short = window_indicators_many(obs, exp, rep, run_length=3)
    assert short["censored"].all()


def test_dataclass_is_frozen() -> None:
    got = window_indicators([1], [1], [T], run_length=1)
    assert isinstance(got, WindowIndicators)
    with pytest.raises(AttributeError):
        got.tau = 3  # type: ignore[misc]
    assert got.to_dict()["tau"] == 0
