"""Weighted prevalence with a design-based CI, single-PSU strata, small-cell suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sahel_eval.clean.survey_design import (
    collapse_single_psu_strata,
    design_ids,
    korn_graubard,
    single_psu_strata,
    suppress_small_cells,
    weighted_prevalence,
)


def _taylor_se(y, w, psu, strata) -> tuple[float, float, int]:
    """Textbook linearised SE of a ratio mean (Wolter ch. 6), lonely PSU at grand mean."""
    y, w = np.asarray(y, float), np.asarray(w, float)
    ok = ~np.isnan(y)
    est = np.sum(w[ok] * y[ok]) / np.sum(w[ok])
    z = np.where(ok, w * (np.nan_to_num(y) - est), 0.0) / np.sum(w[ok])
    frame = pd.DataFrame({"h": strata, "j": psu, "z": z})
    totals = frame.groupby(["h", "j"])["z"].sum()
    grand = totals.mean()
    var = 0.0
    for _, t in totals.groupby(level=0):
        if len(t) == 1:
            var += float((t.iloc[0] - grand) ** 2)
        else:
            var += len(t) / (len(t) - 1) * float(((t - t.mean()) ** 2).sum())
    df = totals.size - totals.index.get_level_values(0).nunique()
    return est, float(np.sqrt(var)), df


def _sample(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(4):
        for j in range(3 if h else 1):  # stratum 0 holds a single PSU
            u = rng.normal(0, 0.5)
            for _ in range(12):
                rows.append(
                    {
                        "round": 1,
                        "area": "mopti" if h < 2 else "bamako",
                        "strata": f"1-{h}",
                        "psu": f"1-{h}{j}",
                        "weight": rng.uniform(0.5, 2.0),
                        "y": float(rng.random() < 1 / (1 + np.exp(-u))),
                    }
                )
    frame = pd.DataFrame(rows)
    frame.loc[frame.index % 7 == 0, "y"] = np.nan  # outside the domain
    return frame


def test_prevalence_matches_textbook_linearisation() -> None:
    frame = _sample()
    table = weighted_prevalence(frame, "y", by=["round", "area"])
    for row in table.itertuples():
        cell = frame[frame["area"] == row.area]
        est, se, df = _taylor_se(cell["y"], cell["weight"], cell["psu"], cell["strata"])
        assert row.estimate == pytest.approx(est, rel=1e-12)
        assert row.se == pytest.approx(se, rel=1e-10)
        assert row.df == df
        q = stats.t.ppf(0.975, df)
        assert row.ci_low == pytest.approx(max(0, est - q * se))
        assert row.ci_high == pytest.approx(min(1, est + q * se))
        assert row.n == cell["y"].notna().sum()
    # mopti: strata 0 (1 PSU) + 1 (3 PSUs) -> 4 PSUs - 2 strata
    assert table.set_index("area").loc["mopti", "df"] == 2


def test_domain_keeps_psus_without_eligible_respondents() -> None:
    frame = _sample()
    frame.loc[frame["psu"] == "1-11", "y"] = np.nan  # a PSU with nobody eligible
    row = weighted_prevalence(frame, "y", by=["area"]).set_index("area").loc["mopti"]
    cell = frame[frame["area"] == "mopti"]
    _, se, df = _taylor_se(cell["y"], cell["weight"], cell["psu"], cell["strata"])
    assert row["se"] == pytest.approx(se) and row["df"] == df and row["n_psu"] == 3


def test_single_psu_and_all_missing_cells() -> None:
    frame = _sample()
    one = frame[frame["psu"] == "1-00"]
    table = weighted_prevalence(one, "y", by=["area"])
    assert table["df"].iloc[0] == 0 and np.isnan(table["ci_low"].iloc[0])
    assert table["estimate"].iloc[0] == pytest.approx(
        np.average(one["y"].dropna(), weights=one.loc[one["y"].notna(), "weight"])
    )
    empty = frame.assign(y=np.nan)
    table = weighted_prevalence(empty, "y", by=["area"])
    assert table["n"].eq(0).all() and table["estimate"].isna().all()


def test_several_outcomes_and_arm_cells() -> None:
    frame = _sample().assign(arm=lambda d: np.where(d["strata"] == "1-1", "treated", "comp"))
    frame["z"] = 1 - frame["y"]
    table = weighted_prevalence(frame, ["y", "z"], by=["round", "area", "arm"])
    assert list(table.columns[:4]) == ["round", "area", "arm", "outcome"]
    y = table[table["outcome"] == "y"]["estimate"].to_numpy()
    z = table[table["outcome"] == "z"]["estimate"].to_numpy()
    np.testing.assert_allclose(y + z, 1.0)


def test_single_psu_strata_and_collapse() -> None:
    frame = _sample().assign(district="D")
    lonely = single_psu_strata(frame)
    assert lonely.to_dict("list") == {"strata": ["1-0"], "psu": ["1-00"]}
    merged = collapse_single_psu_strata(frame)
    assert single_psu_strata(merged).empty
    # All three other strata have 3 PSUs: the tie goes to the smallest id.
    assert set(merged.loc[frame["strata"] == "1-0", "strata"]) == {"1-1"}
    # A lonely stratum alone in its district stays (the adjust rule covers it).
    alone = frame.assign(district=np.where(frame["strata"] == "1-0", "E", "D"))
    assert single_psu_strata(collapse_single_psu_strata(alone)).shape[0] == 1


def test_design_ids_unique_across_rounds() -> None:
    ids = design_ids(pd.Series([1, 2, 1]), pd.Series([17, 17, 5], dtype="Int64"))
    assert ids.tolist() == ["1-17", "2-17", "1-5"]


def test_suppress_small_cells() -> None:
    table = pd.DataFrame(
        {"n": [3, 5, 0], "estimate": [0.2, 0.3, np.nan], "ci_low": [0.1, 0.2, np.nan]}
    )
    out = suppress_small_cells(table, k=5)
    assert out["suppressed"].tolist() == [True, False, True]
    assert np.isnan(out["estimate"].iloc[0]) and out["estimate"].iloc[1] == 0.3
    assert out["n"].tolist() == [3, 5, 0]
    assert table["estimate"].iloc[0] == 0.2  # input untouched
    assert not suppress_small_cells(table, k=1)["suppressed"].iloc[0]
    with pytest.raises(ValueError):
        suppress_small_cells(table, k=0)


def test_korn_graubard_reduces_to_clopper_pearson() -> None:
    n, x = 40, 7
    p = x / n
    se = np.sqrt(p * (1 - p) / n)  # design effect 1, df = n − 1: no adjustment
    low, high = korn_graubard(p, se, n, n - 1)
    cp = stats.binomtest(x, n).proportion_ci(0.95, method="exact")
    assert (low, high) == pytest.approx((cp.low, cp.high), rel=1e-9)
    # p̂ = 1 with no variance: a real interval, not the empty Wald [1, 1].
    low, high = korn_graubard(1.0, 0.0, 30, 10)
    assert high == 1.0 and 0.85 < low < 0.95


def test_prevalence_korn_graubard_option() -> None:
    frame = _sample()
    wald = weighted_prevalence(frame, "y", by=["area"])
    kg = weighted_prevalence(frame, "y", by=["area"], ci="korn_graubard")
    pd.testing.assert_series_equal(wald["se"], kg["se"])
    assert (kg["ci_low"] >= 0).all() and (kg["ci_high"] <= 1).all()
    with pytest.raises(ValueError, match="0/1"):
        weighted_prevalence(frame.assign(y=frame["y"] * 2), "y", by=["area"], ci="korn_graubard")
    with pytest.raises(ValueError, match="ci must be"):
        weighted_prevalence(frame, "y", ci="logit")
