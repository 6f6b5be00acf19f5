"""Studentised randomisation inference for Callaway–Sant'Anna (did.cs.randomization).

Hand-made panels small enough to check by hand: the placebo roll-out rule, the
enumeration of treated-district choices, the exact studentised p-value, the linearity
identity the test-inversion CI rests on, the batched path against the loop of full
refits (estimates, statistics, p-values, intervals to 1e-10), and the choice of path.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sahel_eval.did import att_gt
from sahel_eval.did.assignment import placebo_unit_starts, treated_clusters_indicator
from sahel_eval.did.cs.randomization import cs_randomization_inference


def _panel(effect: float = 0.0, seed: int = 1) -> pd.DataFrame:
    """4 districts × 2 facilities × 6 periods; district A starts in waves 3 and 5."""
    rng = np.random.default_rng(seed)
    starts = {"a1": 3, "a2": 5, "b1": 0, "b2": 0, "c1": 0, "c2": 0, "d1": 0, "d2": 0}
    rows = []
    for unit, g in starts.items():
        level = rng.normal(10, 2)
        for t in range(1, 7):
            y = level + 0.5 * t + rng.normal(0, 1) + (effect if g and t >= g else 0.0)
            rows.append({"unit": unit, "district": unit[0], "t": t, "group": g, "y": y})
    return pd.DataFrame(rows)


def test_placebo_rule_pairs_and_ranks() -> None:
    idx = pd.Index(["a1", "a2", "a3", "b1", "b2", "c1", "c2", "c3", "c4", "c5", "c6"])
    start = pd.Series([3, 5, np.nan, 4, 4] + [np.nan] * 6, index=idx, dtype=float)
    cluster = pd.Series([u[0] for u in idx], index=idx)
    actual = treated_clusters_indicator(start, cluster)
    assert actual.notna().tolist() == [True, True, False]
    # Actual assignment reproduced exactly (rank for rank within each district).
    same = placebo_unit_starts(start, cluster, actual)
    pd.testing.assert_series_equal(same, start, check_names=False)
    # {b, c}: b (sorted first) takes a's roll-out, c takes b's.  b has 2 units, a has
    # 3: ranks floor((i + .5)·3/2) = 0, 2 → starts 3, never.  c has 6 units, b 2:
    # ranks floor((i + .5)·2/6) = 0,0,0,1,1,1 → all 4.
    placebo = pd.Series([np.nan, 1.0, 1.0], index=["a", "b", "c"])
    got = placebo_unit_starts(start, cluster, placebo)
    expected = [np.nan] * 3 + [3, np.nan] + [4] * 6
    np.testing.assert_array_equal(got.to_numpy(), np.array(expected, dtype=float))


def test_exact_p_value_by_hand() -> None:
    df = _panel(effect=5.0)
    res = cs_randomization_inference(df, "y", "unit", "t", "group", "district", level=0.9)
    assert (res.permutations, res.enumerated, res.clusters, res.treated_clusters) == (
        4,
        True,
        4,
        1,
    )
    assert res.p_min == pytest.approx(0.25)
    # By hand: the four placebo choices, district X's facilities taking (3, 5); t with
    # the facility-clustered SE att_gt reports.
    overall, t_stats = [], []
    for d in "abcd":
        g = df["unit"].map({f"{d}1": 3, f"{d}2": 5}).fillna(0)
        r = att_gt(df.assign(pg=g), "y", "unit", "t", "pg", control="never_treated", cluster="unit")
        row = r.aggregate("simple").table.iloc[0]
        overall.append(row["estimate"])
        t_stats.append(row["estimate"] / row["se"])
    row = res.table[res.table["aggregation"] == "simple"].iloc[0]
    assert row["estimate"] == pytest.approx(overall[0])
    assert row["t"] == pytest.approx(t_stats[0])
    p_hand = np.mean(np.abs(t_stats) >= abs(t_stats[0]) * (1 - 1e-9))
    assert row["p"] == pytest.approx(p_hand)
    np.testing.assert_allclose(np.sort(res.placebo_y[:, row.name]), np.sort(overall))
    np.testing.assert_allclose(np.sort(res.placebo_t[:, row.name]), np.sort(t_stats))


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("unbalanced", ["pairwise", "repeated_cross_section"])
def test_att_gt_linear_in_outcome(method: str, unbalanced: str) -> None:
    """ATT_m(Y − θ·D) = ATT_m(Y) − θ·ATT_m(D) for a placebo assignment m, every row."""
    df = _panel(effect=2.0, seed=3)
    df = df.drop(index=[2, 14, 40]).reset_index(drop=True)  # unbalanced, as the panels
    d = ((df["group"] > 0) & (df["t"] >= df["group"])).astype(float)
    placebo = df["unit"].map({"c1": 3, "c2": 5}).fillna(0)
    theta = 1.7
    kw = dict(control="never_treated", method=method, unbalanced=unbalanced)

    def est(col: pd.Series) -> np.ndarray:
        r = att_gt(df.assign(v=col, pg=placebo), "v", "unit", "t", "pg", **kw)
        return np.concatenate(
            [r.aggregate(k).table["estimate"].to_numpy() for k in ("dynamic", "calendar")]
            + [r.table["estimate"].to_numpy()]
        )

    np.testing.assert_allclose(
        est(df["y"] - theta * d), est(df["y"]) - theta * est(d), rtol=0, atol=1e-10
    )


def test_ci_covers_planted_constant_effect() -> None:
    """The CI of the constant effect holds its value; treatment sets are all C(G,G1)."""
    df = _panel(effect=4.0, seed=11)
    extra = df[df["district"] == "a"].assign(
        unit=lambda x: x["unit"].str.replace("a", "e"), district="e"
    )
    extra["y"] += 4.0 * 0  # a second treated district with the same roll-out and effect
    df = pd.concat([df, extra], ignore_index=True)
    res = cs_randomization_inference(df, "y", "unit", "t", "group", "district", level=0.9)
    assert res.permutations == len(list(itertools.combinations(range(5), 2)))
    row = res.table[res.table["aggregation"] == "simple"].iloc[0]
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"]
    post = res.table[res.table["exposure"] == "post"]
    assert (post["ci_low"] <= post["estimate"]).all() and (
        post["estimate"] <= post["ci_high"]
    ).all()


# ------------------------------------------------------ points-only path vs full att_gt


def _staggered_panel(seed: int = 5) -> pd.DataFrame:
    """5 districts × 3 facilities × 9 periods, two treated districts in waves, gaps."""
    rng = np.random.default_rng(seed)
    waves = {"a": (4, 6, 0), "b": (4, 4, 7)}
    rows = []
    for dist in "abcde":
        for j in range(3):
            g = waves.get(dist, (0, 0, 0))[j]
            level = rng.normal(20, 4)
            for t in range(1, 10):
                y = level + 0.3 * t + rng.normal(0, 1) + (1.5 * (t - g + 1) if g and t >= g else 0)
                rows.append({"unit": f"{dist}{j}", "district": dist, "t": t, "group": g, "y": y})
    df = pd.DataFrame(rows)
    # Gaps only in first facilities: the cohorts of one unit (6, 7) stay estimable
    # under every placebo choice, so no assignment raises.
    first = np.flatnonzero(df["unit"].str.endswith("0").to_numpy())
    df.loc[rng.choice(first, 8, replace=False), "y"] = np.nan
    return df


_OPTIONS = [
    dict(method="dr", unbalanced="pairwise"),
    dict(method="ipw", unbalanced="pairwise", control="not_yet_treated"),
    dict(method="reg", unbalanced="pairwise", base_period="universal"),
    dict(method="dr", unbalanced="pairwise", anticipation=1),
]


@pytest.mark.parametrize("opts", _OPTIONS)
def test_batched_equals_loop(opts: dict) -> None:
    """Both paths give the same estimates, statistics, p-values and intervals (1e-10).

    The loop re-fits every assignment with att_gt's cell estimators and aggregation
    coefficients; the batched path shares the long differences across assignments.
    """
    df = _staggered_panel()
    kw = dict(level=0.8, **opts)
    fast = cs_randomization_inference(df, "y", "unit", "t", "group", "district", **kw)
    slow = cs_randomization_inference(df, "y", "unit", "t", "group", "district", path="loop", **kw)
    assert (fast.path, slow.path) == ("batched", "loop")
    assert fast.table["term"].tolist() == slow.table["term"].tolist()
    assert fast.table["ci_note"].tolist() == slow.table["ci_note"].tolist()
    for col in ("estimate", "se", "t", "p", "ci_low", "ci_high"):
        np.testing.assert_allclose(
            fast.table[col].to_numpy(float), slow.table[col].to_numpy(float), rtol=0, atol=1e-10
        )
    for name in ("placebo_y", "placebo_d", "placebo_t"):
        np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=0, atol=1e-10)
    # Something to compare: finite intervals exist (p_min = 1/10 < 0.2).
    assert np.isfinite(fast.table["ci_low"]).any()


def test_se_is_the_facility_clustered_se_of_att_gt() -> None:
    df = _staggered_panel(seed=2)
    kw = dict(control="never_treated", method="dr", unbalanced="pairwise")
    res = cs_randomization_inference(df, "y", "unit", "t", "group", "district", **kw)
    full = att_gt(df, "y", "unit", "t", "group", cluster="unit", **kw)
    for kind in ("simple", "group", "calendar", "dynamic"):
        want = full.aggregate(kind).table
        got = res.table[res.table["aggregation"] == kind]
        np.testing.assert_allclose(got["se"], want["se"], rtol=1e-10, equal_nan=True)
        np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=0, atol=1e-10)


@pytest.mark.parametrize("subset", [("simple",), ("group", "dynamic")])
def test_subset_of_aggregations_gives_the_same_rows(subset: tuple[str, ...]) -> None:
    """Robustness rows test ``simple`` only: the same p and interval as the full run."""
    df = _staggered_panel(seed=3)
    kw = dict(level=0.8, method="dr", unbalanced="pairwise")
    full = cs_randomization_inference(df, "y", "unit", "t", "group", "district", **kw)
    part = cs_randomization_inference(
        df, "y", "unit", "t", "group", "district", aggregations=subset, **kw
    )
    want = full.table[full.table["aggregation"].isin(subset)].reset_index(drop=True)
    assert part.table["aggregation"].unique().tolist() == list(subset)
    pd.testing.assert_frame_equal(part.table, want, check_exact=False, rtol=0, atol=1e-12)


def test_unknown_aggregation_refused() -> None:
    with pytest.raises(ValueError, match="aggregations must be among"):
        cs_randomization_inference(
            _staggered_panel(), "y", "unit", "t", "group", "district", aggregations=("event",)
        )


def test_covariates_take_the_loop() -> None:
    """With covariates the 2×2 models change with the assignment: every one is re-fitted.

    (Outcome regression: the cohorts of one facility would make a logit separable.)
    """
    df = _staggered_panel(seed=4)
    rng = np.random.default_rng(0)
    df["x"] = df["unit"].map({u: rng.normal() for u in df["unit"].unique()})
    kw = dict(control="never_treated", method="reg", unbalanced="pairwise")
    res = cs_randomization_inference(
        df, "y", "unit", "t", "group", "district", covariates=["x"], **kw
    )
    assert res.path == "loop"
    full = att_gt(df, "y", "unit", "t", "group", covariates=["x"], cluster="unit", **kw)
    want = full.aggregate("simple").table.iloc[0]
    got = res.table[res.table["aggregation"] == "simple"].iloc[0]
    assert got["estimate"] == pytest.approx(want["estimate"], abs=1e-10)
    assert got["se"] == pytest.approx(want["se"], rel=1e-10)


def test_trimming_leaves_the_batch() -> None:
    """A treated share ≥ 0.99 in a cell: DRDID may trim, so that assignment is re-fitted."""
    rows = []
    rng = np.random.default_rng(1)
    sizes = {"a": 250, "b": 1, "c": 1}
    for dist, size in sizes.items():
        for j in range(size):
            for t in range(1, 5):
                g = 3 if dist == "a" else 0
                rows.append(
                    {
                        "unit": f"{dist}{j:03d}",
                        "district": dist,
                        "t": t,
                        "group": g,
                        "y": rng.normal(t),
                    }
                )
    df = pd.DataFrame(rows)
    kw = dict(control="never_treated", method="dr", unbalanced="pairwise", level=0.5)
    fast = cs_randomization_inference(df, "y", "unit", "t", "group", "district", **kw)
    slow = cs_randomization_inference(df, "y", "unit", "t", "group", "district", path="loop", **kw)
    assert fast.path == "mixed"  # the actual assignment (250 treated of 252) is re-fitted
    np.testing.assert_allclose(fast.table["p"], slow.table["p"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(fast.placebo_t, slow.placebo_t, rtol=0, atol=1e-10)


def _slow_placebos(df: pd.DataFrame, **kw: object) -> tuple[np.ndarray, np.ndarray]:
    """The RI placebo estimates by refitting the full att_gt on every assignment."""
    from sahel_eval.did.cs.randomization import _D_POST, _D_PRE, _exposures
    from sahel_eval.did.inference.randomization import randomization_inference

    data = _exposures(df, "y", "t", "group")
    units = data.drop_duplicates("unit").set_index("unit")
    start = units["group"].astype(float).where(units["group"] > 0)
    assignment = treated_clusters_indicator(start, units["district"])

    def quantities(column: str, groups: pd.Series) -> pd.DataFrame:
        frame = data.assign(pg=data["unit"].map(groups).fillna(0.0).to_numpy())
        res = att_gt(frame, column, "unit", "t", "pg", **kw)
        return pd.concat(
            [
                res.aggregate(k).table.assign(aggregation=k)
                for k in ("simple", "group", "calendar", "dynamic")
            ],
            ignore_index=True,
        )

    def estimate(placebo: pd.Series) -> np.ndarray:
        groups = placebo_unit_starts(start, units["district"], placebo).fillna(0.0)
        y = quantities("y", groups)
        pre = ((y["aggregation"] == "dynamic") & (y["event_time"] < 0)).to_numpy()
        d = np.where(
            pre,
            quantities(_D_PRE, groups)["estimate"].to_numpy(),
            quantities(_D_POST, groups)["estimate"].to_numpy(),
        )
        return np.concatenate([y["estimate"].to_numpy(), d])

    ri = randomization_inference(estimate, assignment)
    k = ri.placebo.shape[1] // 2
    return ri.placebo[:, :k], ri.placebo[:, k:]


def test_randomization_matches_full_refits() -> None:
    """Batched RI reproduces the placebo estimates of full att_gt refits."""
    df = _staggered_panel(seed=9)
    kw = dict(control="never_treated", method="dr", unbalanced="pairwise")
    res = cs_randomization_inference(df, "y", "unit", "t", "group", "district", **kw)
    slow_y, slow_d = _slow_placebos(df, **kw)
    assert res.permutations == 10 and slow_y.shape == res.placebo_y.shape
    np.testing.assert_allclose(res.placebo_y, slow_y, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.placebo_d, slow_d, rtol=0, atol=1e-12)


def test_max_abs_t_pretest_sees_a_pretrend() -> None:
    """RI on max |t| over pre-periods: a trend in the treated districts only is extreme."""
    df = _staggered_panel(seed=6)
    kw = dict(control="never_treated", method="dr", unbalanced="pairwise")
    treated = df["group"] > 0
    trend = df.assign(y=df["y"] + np.where(treated & (df["t"] < df["group"]), 4.0 * df["t"], 0.0))
    for frame, extreme in ((df, False), (trend, True)):
        res = cs_randomization_inference(frame, "y", "unit", "t", "group", "district", **kw)
        pre = (res.table["exposure"] == "pre").to_numpy()
        stat, p = res.max_abs_t_pretest(pre)
        by_hand = np.nanmax(np.abs(res.placebo_t[:, pre]), axis=1)
        assert stat == pytest.approx(np.nanmax(np.abs(res.table.loc[pre, "t"])))
        assert p == pytest.approx(np.mean(by_hand >= stat * (1 - 1e-9)))
        assert (p == res.p_min) == extreme


@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_term_matrices_equal_the_row_by_row_aggregation(base_period: str) -> None:
    """The sparse rows of every aggregation give _term_estimates / _term_coefficients."""
    from sahel_eval.did.cs.aggregate import (
        _aggregation_plan,
        _term_coefficients,
        _term_estimates,
    )
    from sahel_eval.did.cs.cells import _plan_cells
    from sahel_eval.did.cs.term_matrices import TermMatrices

    rng = np.random.default_rng(0)
    times, cohorts = np.arange(1, 13.0), np.array([4.0, 7.0, 9.0])
    cells = _plan_cells(times, cohorts, base_period, 0)
    g = np.array([c.g for c in cells])
    t = np.array([c.t for c in cells])
    gi = np.searchsorted(cohorts, g)
    kinds = ("simple", "group", "calendar", "dynamic")
    plans = [
        _aggregation_plan(k, g, t, cohorts, balance_e=None, min_e=-np.inf, max_e=np.inf)
        for k in kinds
    ]
    matrices = TermMatrices(plans, gi, len(cells))
    for _ in range(3):
        att, pg = rng.normal(size=len(cells)), rng.uniform(0.05, 0.3, size=3)
        theta, by_cell, by_share, weights, own = matrices.parts(att, pg)
        # A combined row: its weights on the cell rows' coefficients, plus its own terms.
        cell_coef = by_cell + by_cell @ weights
        omega = by_share + by_share @ weights + own
        est = [_term_estimates(p, att, pg, pg[gi]) for p in plans]
        coef = np.hstack(
            [
                _term_coefficients(p, e, att, pg, pg[gi], gi, len(cells) + 3)
                for p, e in zip(plans, est, strict=True)
            ]
        )
        np.testing.assert_allclose(theta, np.concatenate(est), rtol=0, atol=1e-12)
        np.testing.assert_allclose(cell_coef.toarray(), coef[: len(cells)], rtol=0, atol=1e-12)
        np.testing.assert_allclose(omega, coef[len(cells) :], rtol=0, atol=1e-12)
        assert np.abs(omega).max() > 0


def test_point_estimates_without_cross_products_are_the_same() -> None:
    """``cross=False`` (Conley–Taber) skips the cross-products: the same estimates, bit
    for bit, on the batched path, and NaN where the products would be."""
    from sahel_eval.did.cs.data import _prepare
    from sahel_eval.did.cs.randomization import _D_POST, _D_PRE, _exposures
    from sahel_eval.did.cs.ri_pieces import RIPieces

    df = _exposures(_staggered_panel(seed=4), "y", "t", "group")
    args = ("unit", "t", "group", (), True, None, None, "pairwise")
    datas = _prepare(df, ("y", _D_POST, _D_PRE), *args)[0]
    units = df.drop_duplicates("unit").set_index("unit")["group"]
    cohorts = np.stack([units.to_numpy(float), np.roll(units.to_numpy(float), 3)])
    options = ("never_treated", "dr", "varying", 0)
    full = RIPieces(datas, options, ("calendar", "dynamic"), "group").compute(cohorts)
    pieces = RIPieces(datas, options, ("calendar", "dynamic"), "group")
    point = pieces.compute(cohorts, cross=False)
    assert pieces.batched_assignments == 2
    for (keys, event, est, cross), (keys2, event2, est2, cross2) in zip(full, point, strict=True):
        assert keys == keys2
        np.testing.assert_array_equal(event2, event)
        np.testing.assert_array_equal(est2, est)
        assert np.isfinite(cross).all() and np.isnan(cross2).all()
