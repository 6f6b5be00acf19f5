"""Expected-volume model: batched IRLS against statsmodels, recovery, statuses."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from sahel_eval.resilience.design import design_matrix, pre_shock_mask
from sahel_eval.resilience.expected import fit_expected

T_FIT = 60
H = 12
T = np.arange(1, T_FIT + 1)
MOY = (T + 6 - 1) % 12 + 1  # data start in July
T_H = np.arange(T_FIT + 1, T_FIT + H + 1)
MOY_H = (T_H + 6 - 1) % 12 + 1


def _true_beta(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.column_stack(
        [rng.uniform(2.0, 5.0, n), rng.normal(0.0, 0.1, n), rng.normal(0.0, 0.3, (n, 4))]
    )


def _fit(y, use, **kw):
    return fit_expected(y, use, T, MOY, horizon_t=T_H, horizon_month_of_year=MOY_H, n_boot=0, **kw)


@pytest.mark.parametrize("with_programme", [False, True])
def test_batched_poisson_equals_statsmodels(with_programme: bool) -> None:
    rng = np.random.default_rng(7)
    n = 30
    beta = _true_beta(rng, n)
    mu = np.exp(design_matrix(T, MOY) @ beta.T).T
    y = rng.negative_binomial(mu / 1.5, 1 / 2.5).astype(float)  # over-dispersed
    use = rng.random((n, T_FIT)) < 0.85
    prog = (T > 35).astype(float) if with_programme else None
    fit = fit_expected(
        y,
        use,
        T,
        MOY,
        prog,
        horizon_t=T_H,
        horizon_month_of_year=MOY_H,
        horizon_programme=None if prog is None else np.ones(H),
        n_boot=0,
    )
    x = design_matrix(T, MOY, prog)
    x_h = design_matrix(T_H, MOY_H, None if prog is None else np.ones(H))
    assert (fit.status == "ok").all()
    for i in range(n):
        u = use[i]
        ref = sm.GLM(y[i, u], x[u], family=sm.families.Poisson()).fit(scale="X2")
        np.testing.assert_allclose(fit.params[i], ref.params, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(fit.bse[i], ref.bse, rtol=1e-6)
        np.testing.assert_allclose(fit.dispersion[i], ref.scale, rtol=1e-6)
        np.testing.assert_allclose(fit.expected[i], ref.predict(x_h), rtol=1e-6)


def test_negbin_matches_statsmodels_at_fitted_alpha() -> None:
    rng = np.random.default_rng(8)
    n = 10
    beta = _true_beta(rng, n)
    mu = np.exp(design_matrix(T, MOY) @ beta.T).T
    y = rng.negative_binomial(1 / 0.2, 1 / (1 + 0.2 * mu)).astype(float)
    use = np.ones((n, T_FIT), dtype=bool)
    fit = _fit(y, use, family="negbin")
    x = design_matrix(T, MOY)
    assert (fit.alpha > 0).all()
    for i in range(n):
        fam = sm.families.NegativeBinomial(alpha=fit.alpha[i])
        # statsmodels stops at a deviance change of 1e-8 by default, too loose here.
        ref = sm.GLM(y[i], x, family=fam).fit(tol=1e-13, maxiter=500)
        np.testing.assert_allclose(fit.params[i], ref.params, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(fit.bse[i], ref.bse, rtol=1e-6)
        # alpha solves the Pearson moment equation.
        np.testing.assert_allclose(ref.pearson_chi2 / ref.df_resid, 1.0, rtol=1e-6)


def test_recovers_noise_free_series() -> None:
    rng = np.random.default_rng(9)
    beta = _true_beta(rng, 5)
    y = np.exp(design_matrix(T, MOY) @ beta.T).T
    truth_h = np.exp(design_matrix(T_H, MOY_H) @ beta.T).T
    fit = _fit(y, np.ones_like(y, dtype=bool))
    np.testing.assert_allclose(fit.params, beta, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fit.expected, truth_h, rtol=1e-6)
    assert np.all(fit.dispersion < 1e-12)


def test_recovers_poisson_series_within_few_percent() -> None:
    rng = np.random.default_rng(10)
    beta = _true_beta(rng, 200)
    beta[:, 0] = 5.0  # ~150 visits a month
    y = rng.poisson(np.exp(design_matrix(T, MOY) @ beta.T).T).astype(float)
    truth_h = np.exp(design_matrix(T_H, MOY_H) @ beta.T).T
    fit = _fit(y, np.ones_like(y, dtype=bool))
    rel = np.abs(fit.expected / truth_h - 1)
    assert np.median(rel) < 0.03
    assert np.quantile(rel, 0.95) < 0.10
    assert abs(np.median(fit.dispersion) - 1) < 0.1


def test_not_assessable_reasons() -> None:
    rng = np.random.default_rng(11)
    y = rng.poisson(20.0, size=(6, T_FIT)).astype(float)
    use = np.ones_like(y, dtype=bool)
    use[0] = False  # all missing
    use[1, 23:] = False  # 23 usable months
    use[2, 24:] = False  # 24: enough
    y[3] = 0.0  # no volume
    use[4, 30:] = False
    y[5, ~use[5]] = np.nan
    y[0] = np.nan
    fit = _fit(y, use)
    assert fit.reason.tolist() == [
        "all_missing",
        "short_history",
        "",
        "no_volume",
        "",
        "",
    ]
    assert fit.status.tolist()[:2] == ["not_assessable", "not_assessable"]
    assert np.isnan(fit.expected[0]).all() and np.isfinite(fit.expected[2]).all()
    summary = fit.summary_frame()
    assert summary.loc[1, "reason"] == "short_history" and summary.loc[2, "n_used"] == 24


def test_degenerate_design() -> None:
    # 12 years of data but usable only in January and July: the second harmonic's
    # sine is 0 in both months, so seasonality is not identified.
    t = np.arange(1, 145)
    moy = (t - 1) % 12 + 1
    rng = np.random.default_rng(15)
    y = rng.poisson(20.0, size=(1, t.size)).astype(float)
    use = np.isin(moy, (1, 7))[None, :]
    fit = fit_expected(y, use, t, moy, horizon_t=[145], horizon_month_of_year=[1], n_boot=0)
    assert fit.reason.tolist() == ["degenerate_design"] and fit.n_used[0] == 24


def test_bad_input_named() -> None:
    y = np.ones((2, T_FIT))
    y[1, 3] = -1
    with pytest.raises(ValueError, match=r"\(1, 3\)"):
        _fit(y, np.ones_like(y, dtype=bool))


def test_programme_constant_in_history_is_dropped() -> None:
    rng = np.random.default_rng(12)
    y = rng.poisson(30.0, size=(2, T_FIT)).astype(float)
    prog = np.zeros((2, T_FIT))
    prog[1, 30:] = 1
    fit = fit_expected(
        y,
        np.ones_like(y, dtype=bool),
        T,
        MOY,
        prog,
        horizon_t=T_H,
        horizon_month_of_year=MOY_H,
        horizon_programme=np.ones(H),
        n_boot=50,
    )
    assert fit.n_params.tolist() == [6, 7]
    assert fit.params[0, -1] == 0.0 and fit.params[1, -1] != 0.0
    assert np.isfinite(fit.lower).all()


def test_interval_deterministic_batch_independent_and_covers() -> None:
    rng = np.random.default_rng(13)
    n = 40
    beta = _true_beta(rng, n)
    beta[:, 1] = 0.0
    mu = np.exp(design_matrix(T, MOY) @ beta.T).T
    mu_h = np.exp(design_matrix(T_H, MOY_H) @ beta.T).T
    y = rng.poisson(mu).astype(float)
    y_h = rng.poisson(mu_h)
    use = np.ones_like(y, dtype=bool)
    kw = dict(horizon_t=T_H, horizon_month_of_year=MOY_H, n_boot=400, seed=3)
    a = fit_expected(y, use, T, MOY, **kw)
    b = fit_expected(y, use, T, MOY, **kw)
    sub = fit_expected(y[5:9], use[5:9], T, MOY, **{**kw, "seed": 3})
    np.testing.assert_array_equal(a.lower, b.lower)
    np.testing.assert_array_equal(a.params[5:9], sub.params)
    # Same stream only if the series keeps its index: the seed is keyed on it.
    assert not np.array_equal(a.lower[5:9], sub.lower)
    assert (a.lower <= a.expected).all() and (a.expected <= a.upper).all()
    coverage = np.mean((y_h >= a.lower) & (y_h <= a.upper))
    assert 0.88 < coverage <= 1.0
    long = a.to_frame()
    assert len(long) == n * H and list(long.columns[:2]) == ["series", "h"]


def test_overdispersed_interval_is_wider() -> None:
    rng = np.random.default_rng(14)
    base = np.exp(design_matrix(T, MOY) @ np.array([4.0, 0, 0.3, 0, 0, 0]))
    y = np.vstack([rng.poisson(base), rng.negative_binomial(base / 3, 1 / 4)]).astype(float)
    fit = (
        _fit(y, np.ones_like(y, dtype=bool))
        if False
        else fit_expected(
            y, np.ones_like(y, dtype=bool), T, MOY, horizon_t=T_H, horizon_month_of_year=MOY_H
        )
    )
    assert fit.dispersion[1] > 2 > fit.dispersion[0]
    width = (fit.upper - fit.lower) / fit.expected
    assert (width[1] > width[0]).all()


def test_pre_shock_mask() -> None:
    rep = np.ones((2, 10), dtype=bool)
    rep[0, 1] = False
    t = np.arange(1, 11)
    got = pre_shock_mask(
        rep, t, [8, 10], other_onsets_t=[[3, np.nan], [np.nan, np.nan]], window_length=2
    )
    assert got[0].tolist() == [bool(v) for v in [1, 0, 0, 0, 1, 1, 1, 0, 0, 0]]
    assert got[1].tolist() == [True] * 9 + [False]


def test_chunk_size_changes_nothing() -> None:
    rng = np.random.default_rng(16)
    beta = _true_beta(rng, 25)
    y = rng.poisson(np.exp(design_matrix(T, MOY) @ beta.T).T).astype(float)
    use = rng.random(y.shape) < 0.9
    kw = dict(horizon_t=T_H, horizon_month_of_year=MOY_H, n_boot=100, seed=5)
    a = fit_expected(y, use, T, MOY, **kw)
    b = fit_expected(y, use, T, MOY, chunk_size=7, **kw)
    for name in ("params", "cov_unscaled", "dispersion", "expected", "lower", "upper"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
