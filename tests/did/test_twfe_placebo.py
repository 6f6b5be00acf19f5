"""Placebo refits from weight sums against least squares on the explicit columns.

The reference is the former per-draw fit: indicator columns built row by row, two-way
within transformed, √w-scaled and solved by ``lstsq``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sahel_eval.did.twfe_placebo import PlaceboRefit, event_time_codes, treated_codes
from sahel_eval.stats.linear import TwoWayWithin

MPDTA = Path(__file__).parents[1] / "data" / "mpdta.csv"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    df = pd.read_csv(MPDTA)
    df["state"] = df["countyreal"] // 1000
    df["w"] = np.exp(df["lpop"] / 4)
    # Unbalanced: the sums must follow the observed cells.
    return df.drop(df.sample(frac=0.15, random_state=7).index).reset_index(drop=True)


def _within(df: pd.DataFrame, w: np.ndarray | None) -> TwoWayWithin:
    unit = pd.factorize(df["countyreal"], sort=True)[0]
    return TwoWayWithin(unit, pd.factorize(df["year"], sort=True)[0], w)


def _lstsq(df: pd.DataFrame, x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    within = _within(df, w)
    sw = np.ones(len(df)) if w is None else np.sqrt(w)
    xt = within.residuals(x) * sw[:, None]
    return np.linalg.lstsq(xt, within.residuals(df["lemp"].to_numpy()) * sw, rcond=None)[0]


def _assignments(df: pd.DataFrame, n: int, seed: int) -> list[pd.Series]:
    """The actual state start dates, then ``n`` random rearrangements of them."""
    starts = df.loc[df["first.treat"] > 0].groupby("state")["first.treat"].first()
    actual = starts.reindex(sorted(df["state"].unique())).astype(float)
    rng = np.random.default_rng(seed)
    perms = [pd.Series(rng.permutation(actual.to_numpy()), index=actual.index) for _ in range(n)]
    return [actual, *perms]


def _refit(
    df: pd.DataFrame, w: np.ndarray | None, codes: Callable[..., np.ndarray], k: int
) -> PlaceboRefit:
    return PlaceboRefit(
        _within(df, w),
        df["lemp"].to_numpy(),
        w,
        time=df["year"].to_numpy(float),
        clusters=df["state"].to_numpy(),
        codes=codes,
        k=k,
    )


def _count_reference(refit: PlaceboRefit) -> list[int]:
    """Record the calls of ``refit``'s reference path (one entry per call)."""
    calls: list[int] = []
    reference = refit.reference

    def spy(codes: np.ndarray) -> np.ndarray:
        calls.append(1)
        return reference(codes)

    refit.reference = spy  # type: ignore[method-assign]
    return calls


def _event_columns(
    df: pd.DataFrame, start: np.ndarray, bins: list[int], leads: int, lags: int
) -> np.ndarray:
    grp = np.nan_to_num(start)
    e = np.clip(df["year"].to_numpy(float) - grp, -leads, lags)
    return np.column_stack([((grp > 0) & (e == b)).astype(float) for b in bins])


@pytest.mark.parametrize("weighted", [False, True])
def test_event_study_refit_equals_lstsq(panel: pd.DataFrame, weighted: bool) -> None:
    leads, lags, ref = 3, 2, -1
    bins = [b for b in range(-leads, lags + 1) if b != ref]
    w = panel["w"].to_numpy() if weighted else None
    refit = _refit(panel, w, event_time_codes(leads, lags, ref), len(bins))
    calls = _count_reference(refit)
    for assign in _assignments(panel, 12, seed=4):
        start = panel["state"].map(assign).to_numpy(float)
        expected = _lstsq(panel, _event_columns(panel, start, bins, leads, lags), w)
        got = refit(assign)
        assert np.max(np.abs(got - expected)) <= 1e-10 * np.max(np.abs(expected))
    assert not calls  # every assignment took the fast path


@pytest.mark.parametrize("weighted", [False, True])
def test_static_refit_equals_lstsq(panel: pd.DataFrame, weighted: bool) -> None:
    w = panel["w"].to_numpy() if weighted else None
    refit = _refit(panel, w, treated_codes, 1)
    calls = _count_reference(refit)
    for assign in _assignments(panel, 12, seed=5):
        start = panel["state"].map(assign).to_numpy(float)
        d = (panel["year"].to_numpy(float) >= start).astype(float)[:, None]
        expected = _lstsq(panel, d, w)
        assert refit(assign) == pytest.approx(expected, rel=1e-10, abs=0)
    assert not calls


def test_empty_placebo_bin_takes_the_reference_path(panel: pd.DataFrame) -> None:
    # Only states starting in 2004 are treated and lags reach 2: bin e=+2 holds
    # 2006–2007 rows, bin −3 none (years start in 2003), so one column is empty and
    # the Gram singular: minimum-norm least squares, zero for the empty term.
    leads, lags, ref = 3, 2, -1
    bins = [b for b in range(-leads, lags + 1) if b != ref]
    refit = _refit(panel, None, event_time_codes(leads, lags, ref), len(bins))
    calls = _count_reference(refit)
    states = sorted(panel["state"].unique())
    assign = pd.Series(np.where(np.arange(len(states)) < 5, 2004.0, np.nan), index=states)
    start = panel["state"].map(assign).to_numpy(float)
    x = _event_columns(panel, start, bins, leads, lags)
    assert not x[:, 0].any()
    got = refit(assign)
    np.testing.assert_allclose(got, _lstsq(panel, x, None), rtol=1e-10, atol=1e-12)
    assert got[0] == 0.0
    assert calls == [1]


@pytest.mark.parametrize("weighted", [False, True])
def test_indicator_gram_equals_explicit_product(panel: pd.DataFrame, weighted: bool) -> None:
    w = panel["w"].to_numpy() if weighted else None
    within = _within(panel, w)
    rng = np.random.default_rng(6)
    codes = rng.integers(-1, 4, size=len(panel))
    x = within.residuals((codes[:, None] == np.arange(4)).astype(float))
    ww = np.ones(len(panel)) if w is None else w
    expected = x.T @ (x * ww[:, None])
    got = within.indicator_gram(codes, 4)
    assert np.max(np.abs(got - expected)) <= 1e-10 * np.max(np.abs(expected))
