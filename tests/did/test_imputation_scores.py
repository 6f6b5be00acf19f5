"""The refit machinery of the imputation estimator and its randomisation inference
(:mod:`sahel_eval.did.imputation`, :mod:`sahel_eval.did.imputation_ri`) against
direct dense algebra and the general routines it replaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from district_panel import district_panel
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from sahel_eval.did import imputation
from sahel_eval.did.imputation import _connected, _ImputationScores, _Panel
from sahel_eval.did.imputation_ri import _overall_and_horizons, imputation_randomization_inference


@pytest.mark.parametrize("seed", range(40))
def test_connectivity_agrees_with_a_graph_search(seed: int) -> None:
    rng = np.random.default_rng(seed)
    nu, npd = rng.integers(2, 9, size=2)
    cross = rng.random((nu, npd)) * (rng.random((nu, npd)) < rng.uniform(0.1, 0.5))
    cross = cross[cross.any(axis=1)][:, cross.any(axis=0)]
    if cross.size == 0:
        return
    graph = sparse.bmat([[None, sparse.csr_matrix(cross)], [sparse.csr_matrix(cross.T), None]])
    assert _connected(cross) == (connected_components(graph != 0, directed=False)[0] == 1)


def test_target_pairs_are_those_of_the_mask() -> None:
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(500, size=120, replace=False))
    rel = rng.integers(0, 12, size=120).astype(float)
    horizons = [0, 2, 3, 7, 30]
    mask = np.zeros((500, 1 + len(horizons)), dtype=bool)
    mask[rows, 0] = True
    for k, h in enumerate(horizons, start=1):
        mask[rows[rel == h], k] = True
    got = _overall_and_horizons(rows, rel, horizons)
    for a, b in zip(got, np.nonzero(mask), strict=True):
        np.testing.assert_array_equal(a, b)


def _panel(seed: int) -> pd.DataFrame:
    """:func:`district_panel` with holes in the outcome: a facility with no untreated
    month (not imputable), one missing at the start, and 10 % at random."""
    df = district_panel(effect=2.0, seed=seed)
    rng = np.random.default_rng(seed + 1)
    holes = ((df["fac"] == "d0f1") & (df["t"] < 5)) | ((df["fac"] == "d5f2") & (df["t"] < 4))
    df.loc[holes | (rng.random(len(df)) < 0.1), "y"] = np.nan
    return df


def test_randomization_inference_refit_equals_the_estimator_with_missing_rows() -> None:
    df = _panel(5)
    ri = imputation_randomization_inference(
        df, "y", "fac", "t", "g", "district", horizons=[0, 1, 2], level=0.95
    )
    ref = imputation(df, "y", "fac", "t", "g", horizons=[0, 1, 2])
    assert ref.info["n_not_imputable"] > 0
    np.testing.assert_allclose(ri.estimate, ref.table["estimate"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(ri.se, ref.table["se"], rtol=0, atol=1e-10)


def test_scores_with_clusters_across_units_equal_dense_algebra() -> None:
    # Clusters that do not nest units (district × half of the period), one cell a row:
    # τ̄ = τ̂, so the variance is Σ_clusters (Σ v0·ε̃ over untreated rows)², v0 from the
    # dense normal equations of the dummies.
    # Every treated row imputable: without the facility that has no untreated month.
    df = _panel(9).dropna(subset=["y"]).query("fac != 'd0f1'").reset_index(drop=True)
    df["c"] = df["district"] + (df["t"] > 5).map({True: "b", False: "a"})
    res = imputation(df, "y", "fac", "t", "g", cluster="c", avg_effects_by=["fac", "t"])
    treated = ((df["g"] > 0) & (df["t"] >= df["g"])).to_numpy()
    z = pd.get_dummies(df["fac"]).join(pd.get_dummies(df["t"]).iloc[:, 1:]).to_numpy(float)
    y = df["y"].to_numpy()
    z0, y0 = z[~treated], y[~treated]
    coef = np.linalg.lstsq(z0, y0, rcond=None)[0]
    omega = np.full(treated.sum(), 1 / treated.sum())
    v0 = -z0 @ np.linalg.solve(z0.T @ z0, z[treated].T @ omega)
    score = pd.Series(v0 * (y0 - z0 @ coef)).groupby(df["c"].to_numpy()[~treated]).sum()
    overall = res.table.set_index("term").loc["overall"]
    assert overall["estimate"] == pytest.approx(omega @ (y[treated] - z[treated] @ coef), abs=1e-10)
    assert overall["se"] == pytest.approx(np.sqrt(score @ score), abs=1e-10)


def _scores(df: pd.DataFrame, *, one_per_cell: bool) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and scores of the imputation RI's refit (clusters = facilities, cohort ×
    period cells, overall and horizons 0–3) on ``df`` (random analytic weights)."""
    panel_w = np.random.default_rng(0).uniform(0.5, 2.0, len(df))
    fac, t, g = df["fac"].to_numpy(), df["t"].to_numpy(float), df["g"].to_numpy(float)
    fit = _ImputationScores(_Panel.of(fac, t, panel_w, fac), (g > 0) & (t >= g))
    it = np.flatnonzero(fit.imputable)
    cell = np.zeros(len(df), dtype=np.int64)
    cell[it] = pd.factorize(g[it] * 1e6 + t[it])[0]
    pairs = _overall_and_horizons(it, t[it] - g[it], [0, 1, 2, 3])
    ys = np.stack([df["y"].to_numpy(), (g > 0) & (t >= g)]).astype(float)
    return fit.compute(ys, pairs, 5, cell, one_per_cell=one_per_cell)


def test_one_row_per_cell_and_cluster_needs_no_grouping() -> None:
    # Missing rows, a facility with no untreated month, weights that differ by row, and
    # every row in two targets: the grouped cluster totals of v are v itself.
    df = _panel(7).dropna(subset=["y"]).reset_index(drop=True)
    fast, grouped = _scores(df, one_per_cell=True), _scores(df, one_per_cell=False)
    for got, ref in zip(fast, grouped, strict=True):
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="several rows"):
        imputation_randomization_inference(
            pd.concat([df, df.iloc[:1]]), "y", "fac", "t", "g", "district", horizons=[0], level=0.95
        )


@pytest.mark.parametrize("weighted", [False, True])
def test_a_period_without_untreated_rows_is_left_out(weighted: bool) -> None:
    # The last period has treated rows only: not imputable, and the cluster × period
    # codes are then the design's, not the panel's. Same fit as without that period.
    df = _panel(11).dropna(subset=["y"]).reset_index(drop=True)
    df["w"] = np.random.default_rng(1).uniform(0.5, 2.0, len(df)) if weighted else 1.0
    last = df["t"] == df["t"].max()
    df = df[~(last & ((df["g"] == 0) | (df["t"] < df["g"])))]
    opts = {"horizons": "all", "cluster": "district", "weights": "w"}
    got = imputation(df, "y", "fac", "t", "g", **opts)
    ref = imputation(df[df["t"] < df["t"].max()], "y", "fac", "t", "g", **opts)
    extra = got.info["n_not_imputable"] - ref.info["n_not_imputable"]
    assert extra == last[df.index].sum() > 0
    for col in ("n_obs", "estimate", "se"):
        np.testing.assert_allclose(got.table[col], ref.table[col], rtol=0, atol=1e-10)
