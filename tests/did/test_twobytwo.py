"""2×2 DiD on repeated cross-sections: HC1, CRV1 and design-based variances."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from sahel_eval.did import did_2x2
from sahel_eval.stats.covariance import design_based

DATA = Path(__file__).parents[1] / "data"
REFERENCE = Path(__file__).parent / "reference"


def _survey(seed: int = 1, districts: int = 14, treated: int = 5) -> pd.DataFrame:
    """Two rounds of a survey; districts (clusters) assigned to treatment."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(districts):
        shock = rng.normal(scale=0.4, size=2)
        for post in (0, 1):
            for _ in range(rng.integers(8, 15)):
                x = rng.normal()
                t = int(c < treated)
                y = 0.2 * t + 0.1 * post + 0.3 * t * post + 0.5 * x + shock[post] + rng.normal()
                rows.append(
                    {
                        "district": c,
                        "stratum": c % 3,
                        "psu": f"{c}-{post}-{rng.integers(2)}",  # round-specific PSUs
                        "treat": t,
                        "post": post,
                        "x": x,
                        "y": y,
                        "w": rng.uniform(0.5, 2.0),
                    }
                )
    return pd.DataFrame(rows)


def _wls(df: pd.DataFrame) -> sm.regression.linear_model.WLS:
    x = sm.add_constant(
        df[["treat", "post"]].assign(tp=df["treat"] * df["post"], x=df["x"]).astype(float)
    )
    return sm.WLS(df["y"], x, weights=df["w"])


def test_hc1_matches_statsmodels() -> None:
    df = _survey()
    res = did_2x2(df, "y", "treat", "post", weights="w", covariates=("x",))
    ref = _wls(df).fit(cov_type="HC1")
    row = res.table.iloc[0]
    assert row["inference"] == "hc1" and row["headline"]
    assert row["estimate"] == pytest.approx(ref.params["tp"], rel=1e-10)
    assert row["se"] == pytest.approx(ref.bse["tp"], rel=1e-10)
    assert res.info["clusters"] is None


def test_crv1_matches_statsmodels_converted() -> None:
    df = _survey()
    res = did_2x2(df, "y", "treat", "post", weights="w", covariates=("x",), cluster="district")
    # statsmodels without its correction is the raw sandwich; apply fixest's factor
    # G/(G−1)·(N−1)/(N−K) here, independently of the package.
    raw = _wls(df).fit(
        cov_type="cluster", cov_kwds={"groups": df["district"], "use_correction": False}
    )
    n, k, g = len(df), 5, df["district"].nunique()
    factor = g / (g - 1) * (n - 1) / (n - k)
    row = res.table.iloc[0]
    assert row["inference"] == "crv1" and row["df"] == g - 1
    assert row["se"] == pytest.approx(np.sqrt(factor) * raw.bse["tp"], rel=1e-10)
    # With no absorbed effects this is also statsmodels' default correction.
    default = _wls(df).fit(cov_type="cluster", cov_kwds={"groups": df["district"]})
    assert row["se"] == pytest.approx(default.bse["tp"], rel=1e-10)
    assert [w.code for w in res.warnings] == ["few_treated_clusters"]
    assert res.warnings[0].params == {"g": 14, "treated": 5}


def test_design_based_matches_samplics() -> None:
    frame = pd.read_csv(DATA / "survey_small.csv")
    ref = json.loads((REFERENCE / "design_based_samplics.json").read_text())
    res = did_2x2(
        frame, "y", "treat", "post", weights="w", covariates=("x",), strata="stratum", psu="psu"
    )
    row = res.table.iloc[0]
    # reference/design_based_samplics.json (samplics 0.6.1 SurveyGLM, Taylor, no fpc).
    assert row["estimate"] == pytest.approx(ref["estimate"][3], rel=1e-8)
    assert row["se"] == pytest.approx(ref["se"][3], rel=1e-8)
    assert row["df"] == 9 - 3  # PSUs − strata
    assert row["inference"] == "design"


def test_design_based_hand_formula_with_lonely_psu() -> None:
    rng = np.random.default_rng(3)
    n = 40
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    w = rng.uniform(1, 2, size=n)
    y = x @ [1.0, 0.5] + rng.normal(size=n)
    strata = np.repeat([0, 1, 2], [16, 16, 8])  # stratum 2 has a single PSU
    psu = np.concatenate([np.repeat([0, 1, 2, 3], 4), np.repeat([0, 1], 8), np.zeros(8)])
    beta = np.linalg.solve(x.T @ (x * w[:, None]), x.T @ (w * y))
    u = y - x @ beta
    cov = design_based(x, u, weights=w, psu=psu, strata=strata)
    # By hand: PSU totals of w·x·u, centred in their stratum, times n_h/(n_h − 1);
    # the lonely PSU is centred at the grand mean of all PSU totals with factor 1.
    totals = {}
    for i in range(n):
        totals.setdefault((strata[i], psu[i]), np.zeros(2))
        totals[(strata[i], psu[i])] += w[i] * x[i] * u[i]
    grand = np.mean(list(totals.values()), axis=0)
    meat = np.zeros((2, 2))
    for h in (0, 1, 2):
        zs = [z for (s, _), z in totals.items() if s == h]
        if len(zs) == 1:
            d = zs[0] - grand
            meat += np.outer(d, d)
        else:
            mean = np.mean(zs, axis=0)
            meat += len(zs) / (len(zs) - 1) * sum(np.outer(z - mean, z - mean) for z in zs)
    bread = np.linalg.inv(x.T @ (x * w[:, None]))
    np.testing.assert_allclose(cov.vcov, bread @ meat @ bread, rtol=1e-12)
    assert cov.df == 7 - 3
    # Scores sum to zero, so the grand mean is 0 (R survey's "adjust" centring).
    np.testing.assert_allclose(grand, 0, atol=1e-12)


def test_design_based_one_stratum_is_crv1_without_n_factor() -> None:
    df = _survey()
    both = did_2x2(df, "y", "treat", "post", cluster="district", psu="district")
    crv, des = both.table.set_index("inference")["se"][["crv1", "design"]]
    n, k = len(df), 4
    assert des == pytest.approx(crv * np.sqrt((n - k) / (n - 1)), rel=1e-12)


def test_side_by_side_and_missing_rows() -> None:
    df = _survey()
    df.loc[[3, 9], "x"] = np.nan
    res = did_2x2(
        df,
        "y",
        "treat",
        "post",
        weights="w",
        covariates=["x"],
        cluster="district",
        strata="stratum",
        psu="psu",
    )
    t = res.table
    assert t["inference"].tolist() == ["crv1", "design"]
    assert t["headline"].tolist() == [True, False]
    assert t["estimate"].nunique() == 1
    assert res.info["n"] == len(df) - 2 and res.info["n_dropped"] == 2


def test_wild_enumerated_and_ri_in_2x2() -> None:
    df = _survey(districts=10, treated=4)
    wild = did_2x2(df, "y", "treat", "post", cluster="district", inference="wild", seed=1)
    assert wild.info["bootstrap"]["enumerated"] and wild.info["seed"] is None
    assert wild.info["p_min"] == pytest.approx(2 / 2**10)
    assert wild.table["inference"].tolist() == ["wild", "crv1"]
    ri = did_2x2(df, "y", "treat", "post", cluster="district", inference="randomization")
    # Issue 14: the RI is studentised (t with PSU- or row-clustered SE) and inverted.
    info = ri.info["randomization"]
    assert (info["permutations"], info["enumerated"]) == (210, True)  # C(10,4)
    assert info["statistic"] == "studentized_t"
    assert ri.info["p_min"] == pytest.approx(1 / 210)
    head = ri.table.iloc[0]
    assert head["ci_low"] < head["estimate"] < head["ci_high"]
    assert head["confidence_attained"] == pytest.approx(1 - 10 / 210, abs=1e-3)


def test_single_treated_cluster_not_informative() -> None:
    df = _survey(districts=6, treated=1)
    res = did_2x2(df, "y", "treat", "post", cluster="district", inference="randomization")
    codes = [w.code for w in res.warnings]
    assert codes == ["few_treated_clusters", "single_treated_cluster", "not_informative"]
    head = res.table.iloc[0]
    assert not head["informative"] and np.isnan(head["ci_low"])
    assert head["p_min"] == pytest.approx(1 / 6)
