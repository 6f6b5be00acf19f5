"""The refit machinery of the imputation estimator and its randomisation inference
(:mod:`sahel_eval.did.imputation_scores`, :mod:`sahel_eval.did.imputation_ri`) against
direct dense algebra and the general routines it replaces."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from district_panel import district_panel
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from sahel_eval.did import imputation
from sahel_eval.did.imputation import _cell_codes
from sahel_eval.did.imputation_ri import imputation_randomization_inference
from sahel_eval.did.imputation_scores import (
    _cell_groups,
    _connected,
    _ImputationScores,
    _Panel,
    _target_pairs,
    _within,
)


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


@pytest.mark.parametrize("horizons", [[0, 2, 3, 7, 30], [3, 0, 3, 5, 0, 11], []])
def test_target_pairs_are_those_of_the_mask(horizons: list[int]) -> None:
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(500, size=120, replace=False))
    rel = rng.integers(0, 12, size=120).astype(float)
    mask = np.zeros((500, 1 + len(horizons)), dtype=bool)
    mask[rows, 0] = True
    for k, h in enumerate(horizons, start=1):
        mask[rows[rel == h], k] = True
    got = _target_pairs(rows, rel, horizons)
    for a, b in zip(got, np.nonzero(mask), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", range(20))
def test_cell_codes_are_those_of_a_multiindex(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    df = pd.DataFrame(
        {
            "a": rng.choice([0.0, 1.0, np.nan, 2.5, -0.0], n),
            "b": rng.choice([3, 4, 5], n),
            "c": rng.choice(np.array(["x", "y", None], dtype=object), n),
        }
    )
    cols = list(rng.permutation(["a", "b", "c"])[: rng.integers(1, 4)])
    ref = pd.factorize(pd.MultiIndex.from_frame(df[cols]))[0]
    np.testing.assert_array_equal(_cell_codes(df[cols]), ref)


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


def _scores(
    df: pd.DataFrame, *, one_per_cell: bool, clusters: str = "fac", compute: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and scores of the imputation RI's refit (cohort × period cells, overall
    and horizons 0–3) on ``df`` (random analytic weights), clustered by ``clusters``;
    ``compute``: a stand-in for :meth:`_ImputationScores.compute`."""
    panel_w = np.random.default_rng(0).uniform(0.5, 2.0, len(df))
    fac, t, g = df["fac"].to_numpy(), df["t"].to_numpy(float), df["g"].to_numpy(float)
    panel = _Panel.of(fac, t, panel_w, df[clusters].to_numpy())
    fit = _ImputationScores(panel, (g > 0) & (t >= g))
    it = np.flatnonzero(fit.imputable)
    cell = np.zeros(len(df), dtype=np.int64)
    cell[it] = pd.factorize(g[it] * 1e6 + t[it])[0]
    pairs = _target_pairs(it, t[it] - g[it], [0, 1, 2, 3])
    by_cell, by_cluster_cell = _cell_groups(cell, panel.cl, panel.n_cl, pairs, 5)
    ys = np.stack([df["y"].to_numpy(), (g > 0) & (t >= g)]).astype(float)
    groups = (by_cell, None if one_per_cell else by_cluster_cell)
    return (compute or _ImputationScores.compute)(fit, ys, pairs, 5, *groups)


def _fitted(a: np.ndarray, b: np.ndarray, u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Fitted values a[:, u] + b[:, p] (effects: J × units, J × periods), J × rows."""
    out = np.take(a, u, axis=1)
    out += np.take(b, p, axis=1)
    return out


def _pair_sums(
    codes: np.ndarray, col: np.ndarray, values: np.ndarray, n: int, n_k: int
) -> np.ndarray:
    """n × n_k sums of ``values`` by (code, target) pair."""
    return np.bincount(codes * n_k + col, values, minlength=n * n_k).reshape(n, n_k)


def _numpy_compute(
    fit: _ImputationScores,
    ys: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
    n_k: int,
    by_cell: np.ndarray,
    by_cluster_cell: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`_ImputationScores.compute` as NumPy and SciPy steps, before its row loops
    were compiled: the reference of their bit-identity."""
    d, pn, un = fit.design, fit.panel, ~fit.treated
    y0 = np.compress(un, ys, axis=1)
    u0, p0, w0 = fit.u_idx[un], fit.p_idx[un], pn.w[un]
    by_unit = [np.bincount(u0, weights=y * w0, minlength=d.nu) for y in y0]
    by_period = [np.bincount(p0, weights=y * w0, minlength=d.n_periods) for y in y0]
    a, b = d.solve_many(np.column_stack(by_unit), np.column_stack(by_period))
    a, b = np.ascontiguousarray(a.T), np.ascontiguousarray(b.T)
    we = (y0 - _fitted(a, b, u0, p0)) * w0
    row, col = pairs
    w1 = pn.w[row]
    total = np.bincount(col, weights=w1, minlength=n_k)
    v1 = w1 / np.where(total > 0, total, 1.0)[col]
    u1, p1 = fit.u_idx[row], fit.p_idx[row]
    tau = np.take(ys, row, axis=1) - _fitted(a, b, u1, p1)
    est = np.stack([np.bincount(col, v1 * tau_j, minlength=n_k) for tau_j in tau])
    est[:, total <= 0] = np.nan
    a_u, a_p = d.solve_many(
        _pair_sums(u1, col, v1, d.nu, n_k), _pair_sums(p1, col, v1, d.n_periods, n_k)
    )
    sw = v1 * (v1 if by_cluster_cell is None else _within(by_cluster_cell, v1))
    den = _within(by_cell, sw)
    cl_period = np.compress(un, pn.cl) * d.n_periods + p0
    pair0, pair_u = np.compress(un, pn.pair), fit.unit_of[pn.pair_unit]
    linked = pair_u >= 0
    score = np.empty((len(ys), pn.n_cl, n_k))
    for j in range(len(ys)):
        by_cl_period = np.bincount(cl_period, we[j], pn.n_cl * d.n_periods)
        np.matmul(by_cl_period.reshape(pn.n_cl, d.n_periods), a_p, out=score[j])
        num = _within(by_cell, sw * tau[j])
        avg = np.divide(num, den, out=np.zeros_like(num), where=den != 0)
        treated = _pair_sums(pn.cl[row], col, v1 * (tau[j] - avg), pn.n_cl, n_k)
        by_pair = np.bincount(pair0, we[j], len(linked))[linked]
        pair_rc = (pn.pair_cl[linked], pair_u[linked])
        treated -= sparse.csr_matrix((by_pair, pair_rc), shape=(pn.n_cl, d.nu)) @ a_u
        score[j] = treated - score[j]
    return est, score


@pytest.mark.parametrize("clusters", ["fac", "c"])
@pytest.mark.parametrize("one_per_cell", [True, False])
def test_compiled_loops_are_bit_identical(clusters: str, one_per_cell: bool) -> None:
    # Clusters = facilities, or clusters that do not nest them (district × half of the
    # period: several (cluster, unit) pairs per cluster), with a facility that has no
    # untreated month and missing rows; rows shuffled, so that the pairs' order of first
    # appearance is not that of their units.
    df = _panel(7).dropna(subset=["y"]).sample(frac=1.0, random_state=3).reset_index(drop=True)
    df["c"] = df["district"] + (df["t"] > 5).map({True: "b", False: "a"})
    if clusters == "c" and one_per_cell:
        return
    got = _scores(df, one_per_cell=one_per_cell, clusters=clusters)
    ref = _scores(df, one_per_cell=one_per_cell, clusters=clusters, compute=_numpy_compute)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_array_equal(a, b)


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
