"""Batched points-only ATT(g, t) (no covariates, panels) against the per-cell 2×2 fits.

Without covariates every 2×2 method reduces to a difference of weighted mean changes;
the batched path (``sahel_eval.did.cs.cells._mean_differences``) computes it for all
cells and outcomes at once and must agree with the DRDID estimators cell by cell to
1e-10, including DRDID's trimming of comparison units when the treated share is
≥ 0.995.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sahel_eval.did.cs.cells import _cell_points, _plan_cells
from sahel_eval.did.cs.data import _prepare
from sahel_eval.did.cs.model import _cohorts
from sahel_eval.did.cs.points import AttGtPoints

DATA = Path(__file__).resolve().parents[1] / "data"
TOL = 1e-10
METHODS = ("dr", "ipw", "reg")
CONTROLS = ("never_treated", "not_yet_treated")


def _demo_like_panel(seed: int = 3) -> pd.DataFrame:
    """8 districts × 8 facilities × 30 months, two districts treated in waves, 8 % gaps."""
    rng = np.random.default_rng(seed)
    waves = {0: (10,) * 4 + (14,) * 4, 1: (12,) * 4 + (18,) * 4}
    rows = []
    for dist in range(8):
        shock = rng.normal(0, 1, 30)
        for j in range(8):
            g = waves.get(dist, (0,) * 8)[j]
            level = rng.normal(40, 10)
            for t in range(1, 31):
                y = level + 0.2 * t + shock[t - 1] + rng.normal(0, 2) + (3.0 if g and t >= g else 0)
                rows.append({"unit": f"f{dist}{j}", "district": dist, "t": t, "group": g, "y": y})
    df = pd.DataFrame(rows)
    df.loc[rng.random(len(df)) < 0.08, "y"] = np.nan
    df["y2"] = np.log(df["y"])  # a second outcome with the same missing cells
    return df


def _both_paths(
    df: pd.DataFrame, outcomes: list[str], unit: str, time: str, group: str, **opts: object
) -> tuple[np.ndarray, np.ndarray]:
    control, method = opts["control"], opts["method"]
    base_period = opts.get("base_period", "varying")
    datas = [
        _prepare(df, y, unit, time, group, (), True, None, None, "pairwise")[0] for y in outcomes
    ]
    cohorts = _cohorts(datas[0].unit_group, group, control)
    cells = _plan_cells(datas[0].times, cohorts, base_period, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 of trimmed cells
        batched = _cell_points(datas, cells, control, method, 0)
        per_cell = _cell_points(datas, cells, control, method, 0, batched=False)
    return batched, per_cell


@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("method", METHODS)
def test_batched_equals_per_cell_on_mpdta(method: str, control: str) -> None:
    df = pd.read_csv(DATA / "mpdta.csv")
    df["lemp2"] = df["lemp"] ** 2
    for base_period in ("varying", "universal"):
        got, want = _both_paths(
            df,
            ["lemp", "lemp2"],
            "countyreal",
            "year",
            "first.treat",
            control=control,
            method=method,
            base_period=base_period,
        )
        assert np.isfinite(want).all()
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("method", METHODS)
def test_batched_equals_per_cell_on_panel_with_missing_cells(method: str, control: str) -> None:
    df = _demo_like_panel()
    got, want = _both_paths(df, ["y", "y2"], "unit", "t", "group", control=control, method=method)
    assert np.isfinite(want).all()
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)


@pytest.mark.parametrize("method", METHODS)
def test_trimmed_cells_keep_drdid_behaviour(method: str) -> None:
    """A treated share ≥ 0.995: DRDID trims the comparison units (dr, ipw give NaN)."""
    rng = np.random.default_rng(0)
    n_treated = 250
    rows = []
    for i in range(n_treated + 1):
        g = 3 if i < n_treated else 0
        for t in range(1, 5):
            rows.append({"unit": i, "t": t, "group": g, "y": rng.normal(t, 1)})
    df = pd.DataFrame(rows)
    got, want = _both_paths(df, ["y"], "unit", "t", "group", control="never_treated", method=method)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)  # NaN where DRDID trims
    assert np.isnan(want).any() == (method != "reg")


@pytest.mark.parametrize("control", CONTROLS)
def test_points_equal_att_gt_aggregates(control: str) -> None:
    """AttGtPoints (batched) gives att_gt(...).aggregate(kind)'s estimates to 1e-10."""
    from sahel_eval.did import att_gt

    df = _demo_like_panel(seed=4)
    opts = dict(control=control, method="dr", unbalanced="pairwise")
    pts = AttGtPoints(df, ["y", "y2"], "unit", "t", "group", **opts)
    ug = df.groupby("unit")["group"].first().reindex(pts.unit_ids).to_numpy()
    got = pts.aggregates(ug)
    for y in ("y", "y2"):
        full = att_gt(df, y, "unit", "t", "group", **opts)
        want = pd.concat(
            [full.aggregate(k).table for k in ("simple", "group", "calendar", "dynamic")],
            ignore_index=True,
        )
        assert got["term"].tolist() == want["term"].tolist()
        np.testing.assert_allclose(got[y], want["estimate"], rtol=0, atol=TOL)
