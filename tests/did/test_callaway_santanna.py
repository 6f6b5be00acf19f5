"""Callaway & Sant'Anna estimator: published mpdta values, csdid cross-checks, invariants.

Sources of the reference numbers (transcribed in shared/reference/did_mpdta.md):

* [R-did]   R ``did`` README and "did-basics" vignette, no covariates, printed to 4 dp
            (values here are the 5-dp transcription agreed by four Python ports);
* [csdid-S] Stata ``csdid lemp lpop, ivar(countyreal) time(year) gvar(first_treat)
            method(dripw)`` published output (analytic SEs);
* [csdid-py] tests/data/csdid_reference.json, produced by
            tests/data/make_csdid_reference.py with csdid 0.4.3 (PyPI).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sahel_eval.did import att_gt
from sahel_eval.did.cs.aggregate import AggregateResult
from sahel_eval.did.cs.model import AttGtResult
from sahel_eval.did.fieller import fieller_ratio
from sahel_eval.did.results import EstimateResult

DATA = Path(__file__).resolve().parents[1] / "data"
TOL = 1e-4  # published values are rounded to 5 (dynamic per-e: 4) decimals

# (g, t): (ATT, SE) without covariates [R-did] and with lpop, doubly robust [csdid-S].
PUBLISHED_ATT_GT = {
    (2004, 2004): ((-0.01050, 0.02325), (-0.01453, 0.02213)),
    (2004, 2005): ((-0.07042, 0.03098), (-0.07642, 0.02867)),
    (2004, 2006): ((-0.13726, 0.03644), (-0.14045, 0.03538)),
    (2004, 2007): ((-0.10081, 0.03436), (-0.10690, 0.03289)),
    (2006, 2004): ((0.00652, 0.02333), (-0.00047, 0.02222)),
    (2006, 2005): ((-0.00275, 0.01956), (-0.00620, 0.01850)),
    (2006, 2006): ((-0.00459, 0.01776), (0.00096, 0.01940)),
    (2006, 2007): ((-0.04122, 0.02023), (-0.04129, 0.01972)),
    (2007, 2004): ((0.03051, 0.01503), (0.02673, 0.01407)),
    (2007, 2005): ((-0.00273, 0.01640), (-0.00458, 0.01572)),
    (2007, 2006): ((-0.03109, 0.01788), (-0.02845, 0.01818)),
    (2007, 2007): ((-0.02605, 0.01666), (-0.02878, 0.01624)),
}


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(DATA / "mpdta.csv")


@pytest.fixture(scope="module")
def fit_nocov(mpdta: pd.DataFrame) -> AttGtResult:
    return att_gt(mpdta, "lemp", "countyreal", "year", "first.treat")


@pytest.fixture(scope="module")
def fit_lpop(mpdta: pd.DataFrame) -> AttGtResult:
    return att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", covariates=["lpop"])


def _cell(res: AttGtResult, g: int, t: int) -> pd.Series:
    tab = res.table
    return tab[(tab["group"] == g) & (tab["time"] == t)].iloc[0]


def _row(agg: AggregateResult, term: str) -> pd.Series:
    return agg.table.set_index("term").loc[term]


# ------------------------------------------------------------------ published values


@pytest.mark.parametrize("cov", [0, 1], ids=["nocov_R-did", "lpop_dr_csdid-Stata"])
def test_att_gt_matches_published(fit_nocov, fit_lpop, cov):
    res = (fit_nocov, fit_lpop)[cov]
    assert len(res.table) == 12
    for (g, t), vals in PUBLISHED_ATT_GT.items():
        att, se = vals[cov]
        row = _cell(res, g, t)
        assert row["estimate"] == pytest.approx(att, abs=TOL), (g, t)
        assert row["se"] == pytest.approx(se, abs=TOL), (g, t)


def test_pretest_matches_published(fit_nocov, fit_lpop):
    # [R-did]: "P-value for pre-test of parallel trends assumption: 0.16812"
    assert fit_nocov.info["pretest"]["p"] == pytest.approx(0.16812, abs=1e-5)
    assert fit_nocov.info["pretest"]["df"] == 5
    # [csdid-S]: "Pretrend Test. H0 All Pre-treatment are equal to 0: chi2(5) = 6.8418,
    # p-value = 0.2327" (5-dp p = 0.23267 from the Python ports)
    pre = fit_lpop.info["pretest"]
    assert pre["stat"] == pytest.approx(6.8418, abs=1e-4)
    assert pre["df"] == 5
    assert pre["p"] == pytest.approx(0.23267, abs=1e-5)


# aggregation -> term -> (no covariates [R-did], lpop DR [csdid-S]); None = not published
PUBLISHED_AGG = {
    "simple": {"overall": ((-0.03995, 0.01203), (-0.04175, 0.01150))},
    "group": {
        "overall": ((-0.03102, 0.01245), (-0.03282, 0.01190)),
        "ATT(g=2004)": ((-0.07975, 0.02637), (-0.08458, 0.02456)),
        "ATT(g=2006)": ((-0.02291, 0.01670), (-0.02017, 0.01747)),
        "ATT(g=2007)": ((-0.02605, 0.01666), (-0.02878, 0.01624)),
    },
    "dynamic": {"overall": ((-0.07724, 0.01996), (-0.08035, 0.01896))},
    "calendar": {"overall": ((-0.04170, 0.01597), (-0.04418, 0.01504))},
}
# dynamic per event time, point estimates printed to 4 dp ([R-did] / [csdid-S])
PUBLISHED_DYNAMIC_E = {
    -3: (0.0305, 0.0267),
    -2: (-0.0006, -0.0036),
    -1: (-0.0245, -0.0232),
    0: (-0.0199, -0.0211),
    1: (-0.0510, -0.0530),
    2: (-0.1373, -0.1404),
    3: (-0.1008, -0.1069),
}


@pytest.mark.parametrize("kind", list(PUBLISHED_AGG))
@pytest.mark.parametrize("cov", [0, 1], ids=["nocov_R-did", "lpop_dr_csdid-Stata"])
def test_aggregations_match_published(fit_nocov, fit_lpop, kind, cov):
    agg = (fit_nocov, fit_lpop)[cov].aggregate(kind)
    assert isinstance(agg, EstimateResult)
    for term, vals in PUBLISHED_AGG[kind].items():
        est, se = vals[cov]
        assert _row(agg, term)["estimate"] == pytest.approx(est, abs=TOL), term
        assert _row(agg, term)["se"] == pytest.approx(se, abs=TOL), term


@pytest.mark.parametrize("cov", [0, 1], ids=["nocov_R-did", "lpop_dr_csdid-Stata"])
def test_dynamic_event_times_match_published(fit_nocov, fit_lpop, cov):
    agg = (fit_nocov, fit_lpop)[cov].aggregate("dynamic")
    per_e = agg.table.iloc[1:].set_index("event_time")["estimate"]
    assert list(per_e.index) == list(PUBLISHED_DYNAMIC_E)
    for e, vals in PUBLISHED_DYNAMIC_E.items():
        # printed to 4 dp: allow the rounding half-unit on top of TOL
        assert per_e[e] == pytest.approx(vals[cov], abs=TOL + 5e-5), e


def test_dynamic_balanced_matches_published(fit_nocov):
    # [R-did] did-basics: aggte(..., type = "dynamic", balance_e = 1): -0.0288 (0.0137);
    # 5-dp transcription -0.02876 (0.01369)
    agg = fit_nocov.aggregate("dynamic", balance_e=1)
    assert _row(agg, "overall")["estimate"] == pytest.approx(-0.02876, abs=TOL)
    assert _row(agg, "overall")["se"] == pytest.approx(0.01369, abs=TOL)
    assert set(agg.table["event_time"].dropna()) == {-2, -1, 0, 1}


def test_bootstrap_simple_se_in_published_range(mpdta):
    # did_mpdta.md: multiplier bootstrap (999 draws), simple SE 0.0119-0.0129 across
    # packages; allow ~10 % around that range.
    res = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", bootstrap=999, seed=7)
    se = res.aggregate("simple").table["se"].iloc[0]
    assert 0.0119 * 0.9 <= se <= 0.0129 * 1.1
    assert res.info["inference"] == "multiplier_bootstrap"
    # uniform band is wider than the pointwise interval
    t = res.table
    assert np.all(t["band_high"] - t["band_low"] > t["ci_high"] - t["ci_low"])
    assert res.info["crit_val"] > 1.96


def test_bootstrap_deterministic_for_seed(mpdta):
    kw = dict(bootstrap=199, seed=11)
    a = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", **kw)
    b = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", **kw)
    c = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", bootstrap=199, seed=12)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.aggregate("dynamic").table, b.aggregate("dynamic").table)
    assert not np.allclose(a.table["se"], c.table["se"])
    m = att_gt(
        mpdta,
        "lemp",
        "countyreal",
        "year",
        "first.treat",
        bootstrap=999,
        seed=3,
        bootstrap_weights="mammen",
    )
    assert 0.0119 * 0.9 <= m.aggregate("simple").table["se"].iloc[0] <= 0.0129 * 1.1


# --------------------------------------------------------------- csdid cross-checks

CSDID = json.loads((DATA / "csdid_reference.json").read_text())


def _variant(df: pd.DataFrame, spec: dict) -> pd.DataFrame:
    # same code as make_variant in tests/data/make_csdid_reference.py
    out = df.copy()
    for col, expr in spec.get("assign", {}).items():
        out[col] = out.eval(expr)
    if "query" in spec:
        out = out.query(spec["query"]).reset_index(drop=True)
    return out


def _close(actual, expected, tol=1e-6) -> None:
    expected = np.array([np.nan if v is None else v for v in np.ravel(expected)], float)
    actual = np.asarray(actual, float)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol, equal_nan=True)


@pytest.mark.parametrize("name", list(CSDID["cases"]))
def test_matches_csdid(mpdta, name):
    case = CSDID["cases"][name]
    df = _variant(mpdta, CSDID["variants"][case["variant"]])
    res = att_gt(df, "lemp", "countyreal", "year", "first.treat", **case["options"])
    ref = pd.DataFrame(case["att_gt"]).rename(columns={"att": "ref_att", "se": "ref_se"})
    got = res.table.merge(ref, on=["group", "time"], how="outer", validate="1:1")
    _close(got["estimate"], got["ref_att"])
    _close(got["se"], got["ref_se"])
    if case["pretest"]["W"] is not None:
        assert res.info["pretest"]["stat"] == pytest.approx(case["pretest"]["W"], rel=1e-6)
        # csdid rounds the p-value to 5 decimals, as R did
        assert res.info["pretest"]["p"] == pytest.approx(case["pretest"]["p"], abs=6e-6)
    for kind in ("simple", "group", "dynamic", "calendar"):
        agg = res.aggregate(kind).table
        r = case[kind]
        _close([agg["estimate"].iloc[0], agg["se"].iloc[0]], [r["overall_att"], r["overall_se"]])
        if r["egt"] is not None:
            _close(agg["estimate"].iloc[1:], r["att_egt"])
            _close(agg["se"].iloc[1:], r["se_egt"])


def test_cluster_info(mpdta):
    df = mpdta.assign(state=mpdta["countyreal"] // 1000)
    res = att_gt(df, "lemp", "countyreal", "year", "first.treat", cluster="state")
    assert res.info["clusters"] == 29
    assert 0 < res.info["treated_clusters"] <= 29
    boot = att_gt(
        df, "lemp", "countyreal", "year", "first.treat", cluster="state", bootstrap=499, seed=1
    )
    # clustered bootstrap SE is of the same order as the clustered analytic SE
    ratio = boot.aggregate("simple").table["se"][0] / res.aggregate("simple").table["se"][0]
    assert 0.7 < ratio < 1.3


# ------------------------------------------------------------ structure and invariants


def test_result_structure(fit_nocov):
    assert isinstance(fit_nocov, EstimateResult)
    cols = {"term", "group", "time", "event_time", "estimate", "se", "ci_low", "ci_high", "p"}
    assert cols <= set(fit_nocov.table.columns)
    assert fit_nocov.influence.shape == (500, 12)
    se = np.sqrt((fit_nocov.influence**2).sum(axis=0)) / 500
    np.testing.assert_allclose(se, fit_nocov.table["se"], rtol=1e-12)
    info = fit_nocov.info
    assert (info["estimator"], info["n"], info["n_units"], info["n_dropped"]) == (
        "callaway_santanna",
        2500,
        500,
        0,
    )
    assert info["control"] == "never_treated" and info["method"] == "dr"
    assert info["base_period"] == "varying" and info["level"] == 0.95
    assert "ATT(2004,2004)" in fit_nocov.summary()


def test_aggregate_keeps_influence_functions(fit_nocov):
    agg = fit_nocov.aggregate("calendar")
    n = fit_nocov.n_units
    se_terms = np.sqrt((agg.influence**2).sum(axis=0)) / n
    np.testing.assert_allclose(se_terms, agg.table["se"].iloc[1:], rtol=1e-10)
    assert np.sqrt((agg.overall_influence**2).sum()) / n == pytest.approx(
        agg.table["se"].iloc[0], rel=1e-10
    )


def test_ratio_delta_method(fit_lpop):
    cal = fit_lpop.aggregate("calendar")
    rr = cal.ratio([2006, 2007], ["ATT(t=2004)", "ATT(t=2005)"])
    est = cal.table.set_index("time")["estimate"]
    ea, eb = (est[2006] + est[2007]) / 2, (est[2004] + est[2005]) / 2
    row = rr.table.iloc[0]
    assert row["estimate"] == pytest.approx(ea / eb, rel=1e-12)
    assert row["numerator"] == pytest.approx(ea, rel=1e-12)
    assert row["denominator"] == pytest.approx(eb, rel=1e-12)
    # per-term influence functions (columns: t = 2004 … 2007), averaged
    inf = cal.influence
    a, b = inf[:, 2:4].mean(axis=1), inf[:, 0:2].mean(axis=1)
    # brute-force delta method on the two means' joint covariance (R did scale:
    # Cov = Σ ψ ψ' / n², written as the biased covariance plus the mean outer product)
    cov = np.cov(np.vstack([a, b]), bias=True) / len(a) + np.outer(
        [a.mean(), b.mean()], [a.mean(), b.mean()]
    ) / len(a)
    grad = np.array([1 / eb, -ea / eb**2])
    assert row["se"] == pytest.approx(np.sqrt(grad @ cov @ grad), rel=1e-8)
    assert row["se_numerator"] == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-8)
    assert row["se_denominator"] == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-8)
    np.testing.assert_allclose(rr.influence, (a - ea / eb * b) / eb, rtol=1e-10, atol=1e-14)
    # the whole row is fieller_ratio on those influence functions (fit not clustered:
    # one cluster per county, i.e. cluster=None)
    ref = fieller_ratio(ea, a, eb, b, level=cal.info["level"])
    for key in ("estimate", "se", "df", "ci_low", "ci_high", "p_vs_1"):
        assert row[key] == pytest.approx(ref[key], rel=1e-10), key
    assert row["ci_note"] == ref["ci_note"]
    assert rr.info["inference"] == "fieller_satterthwaite"
    # on mpdta the 2004–05 mean is not distinguishable from 0: the set is unbounded
    assert ref["ci_note"] == "unbounded"
    assert np.isneginf(row["ci_low"]) and np.isposinf(row["ci_high"])
    # a bounded case: with the level lowered the denominator is significant
    rr80 = cal.ratio([2006, 2007], [2005], level=0.8)
    ref80 = fieller_ratio(ea, a, est[2005], inf[:, 1], level=0.8)
    assert ref80["ci_note"] is None
    for key in ("estimate", "se", "df", "ci_low", "ci_high", "p_vs_1"):
        assert rr80.table[key].iloc[0] == pytest.approx(ref80[key], rel=1e-10), key
    with pytest.raises(ValueError, match="not in this calendar"):
        cal.ratio([2010], [2004])


def _simulated_panel(seed: int, att: float, never: bool = True) -> pd.DataFrame:
    """Staggered panel with unit and time effects and a constant ATT from first exposure."""
    rng = np.random.default_rng(seed)
    n, periods = 400, np.arange(1, 9)
    cohorts = rng.choice([0, 4, 6, 7] if never else [4, 6, 7], size=n)
    unit_fe = rng.normal(size=n)
    x = rng.normal(size=n)
    rows = []
    for t in periods:
        treated = (cohorts > 0) & (t >= cohorts)
        y = unit_fe + 0.3 * t + 0.5 * x * t / 8 + att * treated + rng.normal(0, 0.1, n)
        rows.append(pd.DataFrame({"id": np.arange(n), "t": t, "g": cohorts, "x": x, "y": y}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_recovers_planted_constant_att(method, control):
    df = _simulated_panel(2024, att=2.0)
    res = att_gt(df, "y", "id", "t", "g", control=control, method=method, covariates=["x"])
    post = res.table[res.table["post"]]
    pre = res.table[~res.table["post"]]
    assert np.all(np.abs(post["estimate"] - 2.0) < 0.06)
    assert np.all(np.abs(pre["estimate"]) < 0.06)
    for kind in ("simple", "group", "calendar", "dynamic"):
        assert res.aggregate(kind).table["estimate"].iloc[0] == pytest.approx(2.0, abs=0.03)
    # repeated cross-section estimators on the same rows also recover it
    rc = att_gt(
        df, "y", None, "t", "g", control=control, method=method, covariates=["x"], panel=False
    )
    assert rc.aggregate("simple").table["estimate"].iloc[0] == pytest.approx(2.0, abs=0.1)


def test_no_comparison_group_raises():
    df = _simulated_panel(1, att=1.0, never=False)
    with pytest.raises(ValueError, match="no never-treated units"):
        att_gt(df, "y", "id", "t", "g")
    # not yet treated: in period 7 every unit is treated, so no cohort has a comparison
    with pytest.raises(ValueError, match="has no valid comparison group for period 7"):
        att_gt(df, "y", "id", "t", "g", control="not_yet_treated")


def test_cohort_without_pre_period_raises(mpdta):
    with pytest.raises(ValueError, match="cohort 2004 has no pre-treatment period"):
        att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", anticipation=1)


def test_missing_rows_dropped_and_counted(mpdta):
    df = mpdta.copy()
    df.loc[[3, 10, 11], "lemp"] = np.nan
    df.loc[[20], "lpop"] = np.nan
    res = att_gt(df, "lemp", "countyreal", "year", "first.treat", covariates=["lpop"])
    assert res.info["n_dropped"] == 4
    assert res.info["n"] == 2496
    assert res.info["data_structure"] == "unbalanced_panel"
    assert "unbalanced_panel" in [w.code for w in res.warnings]


def test_small_group_warning(mpdta):
    keep = mpdta[
        (mpdta["first.treat"] != 2004)
        | (
            mpdta["countyreal"].isin(
                mpdta.loc[mpdta["first.treat"] == 2004, "countyreal"].unique()[:3]
            )
        )
    ]
    res = att_gt(keep, "lemp", "countyreal", "year", "first.treat")
    codes = {(w.code, w.params.get("group")) for w in res.warnings}
    assert ("small_group", 2004.0) in codes


def test_invalid_input_messages(mpdta):
    with pytest.raises(ValueError, match="not in the data"):
        att_gt(mpdta, "nope", "countyreal", "year", "first.treat")
    with pytest.raises(ValueError, match="appear more than once"):
        att_gt(pd.concat([mpdta, mpdta.head(1)]), "lemp", "countyreal", "year", "first.treat")
    with pytest.raises(ValueError, match="kind must be"):
        att_gt(mpdta, "lemp", "countyreal", "year", "first.treat").aggregate("weird")


# ------------------------------------------------------------ unbalanced="pairwise"


def test_pairwise_equals_balanced_on_a_balanced_panel(mpdta):
    kw = dict(covariates=["lpop"], cluster="countyreal")
    a = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", **kw)
    b = att_gt(mpdta, "lemp", "countyreal", "year", "first.treat", unbalanced="pairwise", **kw)
    cols = ["estimate", "se"]
    np.testing.assert_allclose(b.table[cols].to_numpy(), a.table[cols].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.influence, a.influence, rtol=1e-12, atol=1e-15)
    assert b.info["data_structure"] == "panel"


def test_pairwise_cell_is_the_panel_estimator_on_units_seen_in_both_periods(mpdta):
    # Drop a random 15 % of county-years: each ATT(g,t) must equal the balanced-panel
    # estimator run on the two periods of that cell, restricted to the counties observed
    # in both; its SE must be that 2×2's SE (influence functions rescaled to all units).
    rng = np.random.default_rng(7)
    df = mpdta[rng.random(len(mpdta)) > 0.15]
    res = att_gt(df, "lemp", "countyreal", "year", "first.treat", unbalanced="pairwise")
    assert res.info["data_structure"] == "unbalanced_panel"
    assert "unbalanced_panel" in {w.code for w in res.warnings}
    for row in res.table.itertuples():
        base = row.base_time
        two = df[df["year"].isin([row.time, base]) & df["first.treat"].isin([0, row.group])]
        both = two.groupby("countyreal")["year"].transform("size") == 2
        late = max(row.time, base)
        sub = two[both].assign(g=np.where(two.loc[both, "first.treat"] > 0, late, 0))
        ref = att_gt(sub, "lemp", "countyreal", "year", "g")
        cell = ref.table[ref.table["time"] == late].iloc[0]
        sign = 1.0 if row.time > base else -1.0  # pre cells with base t-1 < t
        assert row.estimate == pytest.approx(sign * cell.estimate, abs=1e-12)
        assert row.se == pytest.approx(cell.se, rel=1e-10)


def test_pairwise_differs_from_repeated_cross_sections_when_unbalanced(mpdta):
    df = mpdta.drop(mpdta.index[(mpdta["year"] == 2007) & (mpdta["lemp"] > 6)])
    rc = att_gt(df, "lemp", "countyreal", "year", "first.treat")
    pw = att_gt(df, "lemp", "countyreal", "year", "first.treat", unbalanced="pairwise")
    assert not np.allclose(rc.table["estimate"], pw.table["estimate"])
    with pytest.raises(ValueError, match="unbalanced must be"):
        att_gt(df, "lemp", "countyreal", "year", "first.treat", unbalanced="drop")


# ------------------------------------------------ closed form of the 2×2s without covariates


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_closed_form_cells_equal_the_two_by_two_estimators(mpdta, method, control):
    """Panels without covariates: the mean-difference cells equal DRDID's (1e-10).

    Unbalanced (pairwise) with unit weights, so the per-cell samples and the weights'
    normalisation differ from cell to cell.
    """
    from sahel_eval.did.cs.cells import _estimate_cells, _plan_cells
    from sahel_eval.did.cs.data import _prepare
    from sahel_eval.did.cs.model import _cohorts

    rng = np.random.default_rng(3)
    df = mpdta[rng.random(len(mpdta)) > 0.1].copy()
    df["w"] = df.groupby("countyreal")["lpop"].transform("first").to_numpy() ** 2
    (data,), _ = _prepare(
        df, ["lemp"], "countyreal", "year", "first.treat", (), True, "w", None, "pairwise"
    )
    cells = _plan_cells(data.times, _cohorts(data.unit_group, "g", control), "varying", 0)
    fast = _estimate_cells(data, cells, control, method, 0)
    slow = _estimate_cells(data, cells, control, method, 0, closed_form=False)
    np.testing.assert_allclose(fast[0], slow[0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(fast[1], slow[1], rtol=0, atol=1e-10)
    assert np.abs(fast[1]).sum() > 0


def test_closed_form_leaves_possible_trimming_to_drdid():
    from sahel_eval.did.cs.cells import mean_difference

    d = np.r_[np.ones(199), 0.0]
    dy = np.linspace(0, 1, 200)
    assert mean_difference(dy, d, np.ones(200), "dr") is None
    assert mean_difference(dy, d, np.ones(200), "ipw") is None
    att, _ = mean_difference(dy, d, np.ones(200), "reg")
    assert att == pytest.approx(dy[:199].mean() - dy[199])


@pytest.mark.parametrize("unbalanced", ["pairwise", "repeated_cross_section"])
@pytest.mark.parametrize("panel", [True, False])
def test_outcomes_prepared_together_equal_one_at_a_time(mpdta, unbalanced, panel):
    """``_prepare`` of several outcomes (the RI's outcome and exposures) gives each the
    arrays it gets alone; outcomes missing on different rows are refused."""
    from sahel_eval.did.cs.data import _prepare

    rng = np.random.default_rng(5)
    df = mpdta[rng.random(len(mpdta)) > 0.1].copy()
    gone = rng.random(len(df)) < 0.05
    df.loc[gone, "lemp"] = np.nan
    df["twice"] = 2 * df["lemp"]
    args = ("countyreal" if panel else None, "year", "first.treat", ("lpop",), panel)
    together, n_dropped = _prepare(df, ("lemp", "twice"), *args, None, "countyreal", unbalanced)
    for y, data in zip(("lemp", "twice"), together, strict=True):
        (alone,), n_alone = _prepare(df, [y], *args, None, "countyreal", unbalanced)
        assert n_dropped == n_alone > 0
        for name, value in vars(alone).items():
            other = getattr(data, name)
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(other, value)
            else:
                assert other == value, name
    df.loc[df.index[0], "twice"] = np.nan
    with pytest.raises(ValueError, match="not missing on the same rows"):
        _prepare(df, ("lemp", "twice"), *args, None, "countyreal", unbalanced)
