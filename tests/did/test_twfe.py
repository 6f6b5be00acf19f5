"""Static TWFE and event study on mpdta against the published regression-side values.

Reference numbers: /work/shared/reference/did_mpdta.md, section "Regression side"
(fixest/pyfixest CRV1 convention), cited next to each value below.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels.panel import PanelOLS
from scipy import stats

from sahel_eval.did import event_study, twfe
from sahel_eval.did.inference.wild import wild_cluster_bootstrap
from sahel_eval.stats.linear import LinearDesign

MPDTA = Path(__file__).parents[1] / "data" / "mpdta.csv"


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    df = pd.read_csv(MPDTA)
    df["post"] = ((df["first.treat"] > 0) & (df["year"] >= df["first.treat"])).astype(int)
    # No state column in mpdta; the reference defines state = countyreal // 1000.
    df["state"] = df["countyreal"] // 1000
    return df


def test_static_twfe_county_clusters(mpdta: pd.DataFrame) -> None:
    res = twfe(mpdta, "lemp", "countyreal", "year", "post")
    row = res.table.iloc[0]
    # did_mpdta.md "Regression side": static TWFE −0.036549, county CRV1 SE 0.013265.
    assert row["estimate"] == pytest.approx(-0.036549, abs=5e-7)
    assert row["se"] == pytest.approx(0.013265, abs=5e-7)
    assert res.info["k"] == 6  # DESIGN §6: K = post + 5 year effects
    assert res.info["clusters"] == 500
    assert res.info["treated_clusters"] == 191
    assert res.info["n"] == 2500 and res.info["n_dropped"] == 0
    assert res.warnings == []


def test_static_twfe_state_clusters(mpdta: pd.DataFrame) -> None:
    res = twfe(mpdta, "lemp", "countyreal", "year", "post", cluster="state")
    row = res.table.iloc[0]
    # did_mpdta.md "Regression side": state CRV1 SE 0.022663, p = 0.118 with t(28).
    assert row["se"] == pytest.approx(0.022663, abs=5e-7)
    assert row["p"] == pytest.approx(0.118, abs=5e-4)
    assert row["df"] == 28
    assert res.info["clusters"] == 29
    assert res.info["treated_clusters"] == 13


def test_point_estimate_equals_panelols(mpdta: pd.DataFrame) -> None:
    # Unbalanced on purpose: the within + time-dummy design is exact there too.
    sub = mpdta.drop(mpdta.sample(frac=0.1, random_state=3).index)
    res = twfe(sub, "lemp", "countyreal", "year", "post")
    panel = sub.set_index(["countyreal", "year"])
    lm = PanelOLS(panel["lemp"], panel[["post"]], entity_effects=True, time_effects=True).fit()
    assert res.params["post"] == pytest.approx(lm.params["post"], abs=1e-10)


def test_weighted_twfe_equals_panelols(mpdta: pd.DataFrame) -> None:
    res = twfe(mpdta, "lemp", "countyreal", "year", "post", weights="lpop")
    panel = mpdta.set_index(["countyreal", "year"])
    lm = PanelOLS(
        panel["lemp"],
        panel[["post"]],
        weights=panel["lpop"],
        entity_effects=True,
        time_effects=True,
    ).fit()
    assert res.params["post"] == pytest.approx(lm.params["post"], abs=1e-10)


def test_missing_outcome_dropped_and_counted(mpdta: pd.DataFrame) -> None:
    df = mpdta.copy()
    df.loc[[0, 7, 11], "lemp"] = np.nan
    res = twfe(df, "lemp", "countyreal", "year", "post")
    assert res.info["n"] == 2497 and res.info["n_dropped"] == 3


def test_wild_bootstrap_state_rademacher(mpdta: pd.DataFrame) -> None:
    res = twfe(
        mpdta,
        "lemp",
        "countyreal",
        "year",
        "post",
        cluster="state",
        inference="wild",
        wild_weights="rademacher",
        seed=0,
        bootstrap=9999,
    )
    row = res.table.iloc[0]
    # did_mpdta.md "Regression side": WCR by state, 9,999 Rademacher draws, p ≈ 0.127
    # (tolerance ±0.01 from the brief).  Measured: 0.1307 with seed 0; with 400,000
    # draws the exact WCR p is 0.1342 (see the next test for where 0.127 comes from).
    assert row["p"] == pytest.approx(0.127, abs=0.01)
    assert row["se"] == pytest.approx(0.022663, abs=5e-7)
    assert row["ci_low"] < row["estimate"] < row["ci_high"] and row["ci_high"] > 0
    assert res.info["seed"] == 0
    assert res.info["bootstrap"] == {
        "weights": "rademacher",
        "draws": 9999,
        "enumerated": False,
        "null_imposed": True,
    }
    assert res.info["p_min"] == pytest.approx(1 / 10000)


def test_reference_wild_p_is_the_two_way_demeaned_shortcut(mpdta: pd.DataFrame) -> None:
    """0.127 is what one gets when *both* effects are demeaned before bootstrapping.

    Year effects are not nested in states, so partialling them out before the
    bootstrap is not the WCR of the TWFE model (Roodman et al. 2019, §3): our
    estimator keeps them in the bootstrap regression and its limiting p is 0.134.
    """

    def two_way(v: pd.Series) -> np.ndarray:
        v = v - v.groupby(mpdta["countyreal"]).transform("mean")
        return (v - v.groupby(mpdta["year"]).transform("mean")).to_numpy(dtype=float)

    shortcut = LinearDesign(
        two_way(mpdta["lemp"]),
        two_way(mpdta["post"])[:, None],
        ["post"],
        None,
        [mpdta["countyreal"].to_numpy()],
    )
    fit = wild_cluster_bootstrap(
        shortcut, "post", mpdta["state"], weights="rademacher", draws=100_000, seed=1, k=6
    )
    # did_mpdta.md "Regression side": p ≈ 0.127; MC SE with 100,000 draws ≈ 0.001.
    assert fit.p == pytest.approx(0.127, abs=0.004)


def test_few_and_single_treated_cluster_warnings(mpdta: pd.DataFrame) -> None:
    # Keep the one state treated in 2004 and the never-treated states.
    keep = mpdta.groupby("state")["first.treat"].transform("max").isin([0, 2004])
    res = twfe(mpdta[keep], "lemp", "countyreal", "year", "post", cluster="state")
    codes = [w.code for w in res.warnings]
    assert codes == ["few_treated_clusters", "single_treated_cluster", "not_informative"]
    assert res.warnings[0].params == {"g": 17, "treated": 1}
    assert not res.table["informative"].iloc[0]
    # CRV1's CI stays (conditional on no district shocks); the flag says so.
    assert np.isfinite(res.table["ci_low"].iloc[0])


def test_event_study_matches_panelols_dummies(mpdta: pd.DataFrame) -> None:
    res = event_study(mpdta, "lemp", "countyreal", "year", "first.treat", leads=3, lags=2)
    df = mpdta.copy()
    e = (df["year"] - df["first.treat"]).where(df["first.treat"] > 0)
    binned = e.clip(-3, 2)
    names = []
    for b in (-3, -2, 0, 1, 2):
        name = f"d{b}"
        df[name] = (binned == b).astype(float)
        names.append(name)
    panel = df.set_index(["countyreal", "year"])
    lm = PanelOLS(panel["lemp"], panel[names], entity_effects=True, time_effects=True).fit()
    np.testing.assert_allclose(res.params.to_numpy(), lm.params.to_numpy(), atol=1e-10)
    assert res.table["event_time"].tolist() == [-3, -2, 0, 1, 2]
    assert res.table["pooled"].tolist() == [True, False, False, False, True]


def test_event_study_pretest_against_statsmodels_lsdv(mpdta: pd.DataFrame) -> None:
    res = event_study(
        mpdta, "lemp", "countyreal", "year", "first.treat", leads=3, lags=3, cluster="state"
    )
    # Independent: LSDV in statsmodels (all county and year dummies), clustered by
    # state; its factor G/(G−1)·(N−1)/(N−K_all) is converted to fixest's K (event
    # terms + 5 year effects; county effects are nested in states).
    df = mpdta.copy()
    e = (df["year"] - df["first.treat"]).where(df["first.treat"] > 0).clip(-3, 3)
    terms = [-3, -2, 0, 1, 2, 3]
    x = pd.concat(
        [
            pd.DataFrame({f"d{b}": (e == b).astype(float) for b in terms}),
            pd.get_dummies(df["countyreal"], dtype=float),
            pd.get_dummies(df["year"], drop_first=True, dtype=float),
        ],
        axis=1,
    )
    fit = sm.OLS(df["lemp"].to_numpy(), x.to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": df["state"].to_numpy()}
    )
    n, k_all, k_fixest = len(df), x.shape[1], len(terms) + 5
    vcov = fit.cov_params()[:6, :6] * (n - k_all) / (n - k_fixest)
    np.testing.assert_allclose(res.std_errors.to_numpy(), np.sqrt(np.diag(vcov)), rtol=1e-8)
    b = fit.params[:2]
    wald = float(b @ np.linalg.solve(vcov[:2, :2], b))
    pre = res.info["pretest"]
    assert pre["terms"] == ["e=-3", "e=-2"]
    assert pre["test"] == "F" and pre["df1"] == 2 and pre["df2"] == 28
    assert pre["chi2"] == pytest.approx(wald, rel=1e-8)
    assert pre["stat"] == pytest.approx(wald / 2, rel=1e-8)
    assert pre["p"] == pytest.approx(stats.f.sf(wald / 2, 2, 28), rel=1e-8)
    assert res.info["k"] == k_fixest


def test_event_study_wild_and_ri_run(mpdta: pd.DataFrame) -> None:
    wild = event_study(
        mpdta,
        "lemp",
        "countyreal",
        "year",
        "first.treat",
        leads=2,
        lags=1,
        cluster="state",
        inference="wild",
        seed=5,
        bootstrap=999,
    )
    assert (wild.table["inference"] == "wild").all()
    assert wild.info["bootstrap"]["weights"] == "webb"
    ri = event_study(
        mpdta,
        "lemp",
        "countyreal",
        "year",
        "first.treat",
        leads=2,
        lags=1,
        cluster="state",
        inference="randomization",
        seed=5,
        bootstrap=199,
    )
    assert ri.info["randomization"] == {"permutations": 199, "enumerated": False}
    assert ri.table["ci_low"].isna().all()
    assert ri.info["p_min"] == pytest.approx(1 / 200)


def _dummy_fit(
    y: np.ndarray, x: np.ndarray, u: np.ndarray, t: np.ndarray, w: np.ndarray, cl: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reference: WLS on explicit unit and period dummies, CRV1 by hand (fixest nested K)."""
    units, periods = np.unique(u), np.unique(t)
    dummies = np.column_stack(
        [x] + [(u == i).astype(float) for i in units] + [(t == s) * 1.0 for s in periods[1:]]
    )
    sw = np.sqrt(w)
    beta = np.linalg.lstsq(dummies * sw[:, None], y * sw, rcond=None)[0]
    resid = y - dummies @ beta
    bread = np.linalg.inv(dummies.T @ (dummies * w[:, None]))
    scores = np.stack([(dummies * (w * resid)[:, None])[cl == g].sum(0) for g in np.unique(cl)])
    n, g = len(y), len(np.unique(cl))
    # Units nested in the clusters: their effects count as one parameter in K.
    k = dummies.shape[1] - (len(units) - 1)
    vcov = g / (g - 1) * (n - 1) / (n - k) * bread @ scores.T @ scores @ bread
    p = x.shape[1]
    return beta[:p], np.sqrt(np.diag(vcov)[:p])


@pytest.mark.parametrize("weighted", [False, True])
def test_absorbed_fit_equals_explicit_dummies(weighted: bool) -> None:
    """Unit + period effects absorbed = least squares on dummies, unbalanced panel."""
    rng = np.random.default_rng(13)
    u, t = (a.ravel() for a in np.meshgrid(np.arange(40), np.arange(1, 13), indexing="ij"))
    start = np.where(u % 3 == 0, 0, 4 + u % 6)
    df = pd.DataFrame({"u": u, "t": t, "g": start, "d": u // 5, "w": rng.uniform(0.5, 2, u.size)})
    df["treat"] = ((df["g"] > 0) & (df["t"] >= df["g"])).astype(float)
    df["y"] = rng.normal(size=len(df)) + 0.1 * u + np.sin(t) + 0.7 * df["treat"]
    df = df[rng.random(len(df)) > 0.25].reset_index(drop=True)  # missing cells
    df.loc[rng.choice(len(df), 15, replace=False), "y"] = np.nan  # dropped rows
    ok = df[df["y"].notna()]
    w = ok["w"].to_numpy() if weighted else np.ones(len(ok))
    weights = "w" if weighted else None
    cols = ok["u"].to_numpy(), ok["t"].to_numpy(), w, ok["d"].to_numpy()

    res = twfe(df, "y", "u", "t", "treat", cluster="d", weights=weights)
    want_b, want_se = _dummy_fit(ok["y"].to_numpy(), ok[["treat"]].to_numpy(), *cols)
    np.testing.assert_allclose(res.table["estimate"], want_b, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.table["se"], want_se, rtol=0, atol=1e-8)
    # The wild path keeps the period dummies as columns: same point estimate.
    wild = twfe(df, "y", "u", "t", "treat", cluster="d", weights=weights, inference="wild")
    assert wild.table["estimate"].iloc[0] == pytest.approx(want_b[0], abs=1e-8)

    es = event_study(df, "y", "u", "t", "g", leads=2, lags=3, cluster="d", weights=weights)
    x = np.column_stack(
        [(ok["g"] > 0) & (np.clip(ok["t"] - ok["g"], -2, 3) == e) for e in es.table["event_time"]]
    ).astype(float)
    want_b, want_se = _dummy_fit(ok["y"].to_numpy(), x, *cols)
    np.testing.assert_allclose(es.table["estimate"], want_b, rtol=0, atol=1e-8)
    np.testing.assert_allclose(es.table["se"], want_se, rtol=0, atol=1e-8)


def test_regressor_absorbed_by_the_effects_is_named(mpdta: pd.DataFrame) -> None:
    ever = mpdta.assign(ever=(mpdta["first.treat"] > 0).astype(int))
    with pytest.raises(ValueError, match=r"\['ever'\] are absorbed by the 'countyreal'"):
        twfe(ever, "lemp", "countyreal", "year", "ever")


def test_event_study_collinear_after_the_effects_is_refused() -> None:
    # Two cohorts, no never-treated unit and no pooled end bin: relative time is a
    # combination of unit and period effects, so the bins are not identified.
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        [
            {"u": i, "t": t, "g": 4 if i < 4 else 6, "y": rng.normal()}
            for i in range(8)
            for t in range(1, 9)
        ]
    )
    with pytest.raises(ValueError, match=r"are collinear after absorbing .* \(rank 7 of 9\)"):
        event_study(df, "y", "u", "t", "g", leads=5, lags=4)
