"""sahel_eval.stats.distributions gives scipy.stats' numbers, bit for bit, without
importing it (which the pipeline's jobs no longer do)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sahel_eval.stats import distributions as d

X = np.array([-np.inf, -8.0, -1.5, -0.0, 0.0, 1e-9, 0.3, 1.96, 7.0, 40.0, np.inf, np.nan])
Q = np.array([0.0, 1e-12, 0.025, 0.5, 0.75, 0.975, 1 - 1e-12, 1.0, np.nan])
DF = [0.0, -1.0, 0.5, 1.0, 2.0, 3.7, 27.0, 1e6, np.inf, np.nan]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return bool(np.array_equal(a, b, equal_nan=True))


def test_normal() -> None:
    assert _same(d.norm_sf(X), stats.norm.sf(X))
    assert _same(d.norm_ppf(Q), stats.norm.ppf(Q))


@pytest.mark.parametrize("df", DF)
def test_t_and_chi2(df: float) -> None:
    assert _same(d.t_sf(X, df), stats.t.sf(X, df)), df
    assert _same(d.t_ppf(Q, df), stats.t.ppf(Q, df)), df
    assert _same(d.chi2_sf(X, df), stats.chi2.sf(X, df)), df


@pytest.mark.parametrize(("dfn", "dfd"), [(1, 3), (2.5, 40), (7, 1e5), (0, 5), (3, -1)])
def test_f(dfn: float, dfd: float) -> None:
    assert _same(d.f_sf(X, dfn, dfd), stats.f.sf(X, dfn, dfd))


def test_beta_quantile() -> None:
    rng = np.random.default_rng(7)
    for a, b, q in zip(
        rng.uniform(0.05, 400, 500),
        rng.uniform(0.05, 400, 500),
        rng.uniform(0, 1, 500),
        strict=True,
    ):
        assert d.beta_ppf(q, a, b) == stats.beta.ppf(q, a, b), (a, b, q)
    for q in (0.0, 0.025, 1.0):
        assert d.beta_ppf(q, 3.5, 2.0) == stats.beta.ppf(q, 3.5, 2.0)
    assert np.isnan(d.beta_ppf(0.5, 0.0, 2.0)) and np.isnan(stats.beta.ppf(0.5, 0.0, 2.0))
