"""The imputation estimator (Borusyak, Jaravel & Spiess 2024) against an independent port.

Reference: ``tests/data/imputation_reference.json``, written by
``tests/data/make_imputation_reference.py`` with ``did-imputation`` 0.1.0 (PyPI), a
Python port of Stata's ``did_imputation``, on mpdta (shared/data/mpdta.csv). Its
overall ATT −0.04771 (SE 0.01322) is also the value R's ``didimputation`` prints for
mpdta in Kyle Butts' documentation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from district_panel import district_panel

from sahel_eval.did import imputation
from sahel_eval.did.analyses.imputation_fits import compare_with_cs
from sahel_eval.did.imputation_ri import imputation_randomization_inference

DATA = Path(__file__).resolve().parents[1] / "data"
REF = json.loads((DATA / "imputation_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    df = pd.read_csv(DATA / "mpdta.csv")
    df["aw"] = np.exp(df["lpop"])
    return df


def _fit(df: pd.DataFrame, **kw):
    return imputation(df, "lemp", "countyreal", "year", "first.treat", **kw).table.set_index("term")


@pytest.mark.parametrize("weighted", [False, True])
def test_matches_the_stata_port_on_mpdta(mpdta: pd.DataFrame, weighted: bool) -> None:
    suffix = "_weighted" if weighted else ""
    t = _fit(mpdta, horizons=[0, 1, 2, 3], weights="aw" if weighted else None)
    overall, horizons = REF[f"overall{suffix}"], REF[f"horizons{suffix}"]
    assert t.loc["overall", "estimate"] == pytest.approx(overall["estimates"]["tau_ate"], abs=1e-6)
    assert t.loc["overall", "se"] == pytest.approx(overall["se"]["tau_ate"], abs=1e-4)
    for h in range(4):
        assert t.loc[f"h={h}", "estimate"] == pytest.approx(
            horizons["estimates"][f"tau{h}"], abs=1e-6
        )
        assert t.loc[f"h={h}", "se"] == pytest.approx(horizons["se"][f"tau{h}"], abs=1e-4)
    # Every treated county-year of mpdta can be imputed (2003 is untreated for all).
    assert t.loc["overall", "n_obs"] == 291 and t["n_obs"].iloc[1:].sum() == 291


def test_pretrend_test_matches_the_port(mpdta: pd.DataFrame) -> None:
    res = imputation(mpdta, "lemp", "countyreal", "year", "first.treat", pretrends=3)
    pre = res.info["pretest"]
    ref = REF["pretrends"]
    for lead in pre["leads"]:
        k = -lead["lead"]
        assert lead["estimate"] == pytest.approx(ref["pretrends"][f"pre{k}"], abs=1e-6)
        # fixest's CRV1 K convention vs reghdfe's: one degree of freedom apart.
        assert lead["se"] == pytest.approx(ref["pretrends_se"][f"pre{k}"], abs=1e-4)
    assert pre["rank"] == 3 and 0 < pre["p"] < 1 and pre["stat"] > 0


def test_two_by_two_equals_the_difference_in_means() -> None:
    # One cohort treated in the last of two periods: imputation = the 2×2 DiD.
    rng = np.random.default_rng(7)
    n = 40
    df = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), 2),
            "t": np.tile([1, 2], n),
            "g": np.repeat(np.where(np.arange(n) < 15, 2, 0), 2),
        }
    )
    df["y"] = rng.normal(size=len(df)) + 2.0 * ((df["g"] == 2) & (df["t"] == 2))
    m = df.pivot(index="id", columns="t", values="y")
    treated = df.groupby("id")["g"].first() == 2
    d = m[2] - m[1]
    expected = d[treated].mean() - d[~treated].mean()
    res = imputation(df, "y", "id", "t", "g").table.set_index("term")
    assert res.loc["overall", "estimate"] == pytest.approx(expected, abs=1e-12)


def _staggered(rng: np.random.Generator, n: int = 60, periods: int = 8, tau: float = 1.0):
    cohort = rng.choice([0, 4, 6], size=n)
    unit = np.repeat(np.arange(n), periods)
    t = np.tile(np.arange(1, periods + 1), n)
    g = np.repeat(cohort, periods)
    y = (
        np.repeat(rng.normal(size=n), periods)
        + np.tile(np.cumsum(rng.normal(size=periods)), n)
        + rng.normal(size=n * periods)
        + tau * ((g > 0) & (t >= g))
    )
    return pd.DataFrame({"id": unit, "t": t, "g": g, "y": y})


def test_recovers_the_planted_effect_and_covers_it() -> None:
    # 200 small staggered panels, homogeneous effect 1: the conservative SE is then
    # about exact, so 95 % intervals should cover about 95 % of the time.
    rng = np.random.default_rng(20240601)
    est, cover = [], []
    for _ in range(200):
        row = imputation(_staggered(rng), "y", "id", "t", "g").table.iloc[0]
        est.append(row["estimate"])
        cover.append(row["ci_low"] <= 1.0 <= row["ci_high"])
    assert abs(np.mean(est) - 1.0) < 0.03
    assert 0.91 <= np.mean(cover) <= 0.99


def test_observations_that_cannot_be_imputed_are_counted() -> None:
    df = _staggered(np.random.default_rng(1))
    # A unit treated from the first period has no untreated observation.
    extra = pd.DataFrame({"id": 999, "t": np.arange(1, 9), "g": 1, "y": 5.0})
    res = imputation(pd.concat([df, extra]), "y", "id", "t", "g")
    assert res.info["n_not_imputable"] == 8
    assert res.table.loc[0, "n_obs"] == res.info["n_treated"] - 8


def test_disconnected_design_and_bad_input_fail_clearly() -> None:
    # Two blocks of units observed in disjoint periods: effects are not identified.
    a = pd.DataFrame({"id": np.repeat([1, 2], 3), "t": np.tile([1, 2, 3], 2), "g": 0, "y": 1.0})
    b = pd.DataFrame(
        {"id": np.repeat([3, 4], 3), "t": np.tile([4, 5, 6], 2), "g": [0, 0, 0, 5, 5, 5], "y": 1.0}
    )
    with pytest.raises(ValueError, match="not identified"):
        imputation(pd.concat([a, b]), "y", "id", "t", "g")
    df = _staggered(np.random.default_rng(2))
    with pytest.raises(ValueError, match="several rows"):
        imputation(pd.concat([df, df.head(1)]), "y", "id", "t", "g")
    with pytest.raises(ValueError, match="whole periods"):
        imputation(df.assign(t=df["t"] + 0.5), "y", "id", "t", "g")
    with pytest.raises(ValueError, match="columns"):
        imputation(df, "y", "id", "t", "cohort")


def test_pretest_without_full_rank_gives_no_statistic() -> None:
    # Clustered by 3 groups: a CRV1 covariance of 4 leads has rank ≤ 2.
    df = _staggered(np.random.default_rng(3), periods=10).assign(c=lambda d: d["id"] % 3)
    pre = imputation(df, "y", "id", "t", "g", pretrends=4, cluster="c").info["pretest"]
    assert pre["rank"] <= 2
    assert "stat" not in pre and "p" not in pre and "rank" in pre["reason"]


def test_randomization_inference_over_districts() -> None:
    df = district_panel(effect=6.0)
    ri = imputation_randomization_inference(
        df, "y", "fac", "t", "g", "district", horizons=[0, 1], level=0.95
    )
    ref = imputation(df, "y", "fac", "t", "g", horizons=[0, 1]).table
    np.testing.assert_allclose(ri.estimate, ref["estimate"], atol=1e-10)
    np.testing.assert_allclose(ri.se, ref["se"], atol=1e-10)
    overall = ri.results[0]
    # C(8, 2) = 28 assignments, the actual one among them.
    assert overall.permutations == 28 and overall.enumerated
    assert overall.result.p == pytest.approx(1 / 28)
    assert overall.result.ci_low <= 6.0 <= overall.result.ci_high
    # Without an effect the actual assignment is not the most extreme of the 28.
    null = imputation_randomization_inference(
        district_panel(effect=0.0), "y", "fac", "t", "g", "district", horizons=[], level=0.95
    )
    assert null.results[0].result.p > 1 / 28


def test_comparison_with_cs_is_a_code() -> None:
    def rows(est, lo, hi):
        return pd.DataFrame(
            {
                "fit": "y:att_gt:district_ri",
                "aggregation": ["simple", "dynamic"],
                "term": ["overall", "ATT(e=0)"],
                "estimate": est,
                "ci_low": lo,
                "ci_high": hi,
            }
        )

    cs = rows([1.0, 1.0], [0.5, 0.0], [1.5, 2.0])
    far = compare_with_cs(rows([3.0, 1.0], [2.0, 0.5], [4.0, 1.5]), cs)
    assert far["verdict"] == "differ_beyond_intervals" and far["difference"] == 2.0
    assert (far["horizons_compared"], far["horizons_disjoint"]) == (1, 0)
    near = compare_with_cs(rows([1.4, 5.0], [1.2, 4.0], [1.6, 6.0]), cs)
    assert near["verdict"] == "within_intervals" and near["horizons_disjoint"] == 1
    blind = compare_with_cs(rows([3.0, 1.0], [np.nan, 0.5], [np.nan, 1.5]), cs)
    assert blind["verdict"] == "not_comparable"
