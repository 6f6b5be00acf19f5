"""The imputation estimator of Borusyak, Jaravel & Spiess (2024), staggered adoption.

"Revisiting event-study designs: robust and efficient estimation" (Review of Economic
Studies 91(6), 2024). With parallel trends in every period and no anticipation it is
the efficient estimator, and the standard second opinion beside Callaway–Sant'Anna
(DESIGN §6.2); a difference between the two on the same horizons is itself a finding.

1. **Untreated model.** On the untreated observations Ω₀ (never treated, and not yet
   treated: t < group) fit Y = α_i + β_t + ε by (weighted) least squares, from the
   normal equations of the unit and period dummies after checking that the design is
   connected (its rank is units + periods − components; one component is needed).
2. **Imputation.** τ̂_it = Y_it − α̂_i − β̂_t for every treated observation (t ≥ group).
   One whose unit or period has no untreated observation cannot be imputed: it is
   left out and counted (``n_not_imputable``), as the Stata command's autosample does.
3. **Aggregation.** Weights ω on the imputed observations, summing to 1: every one
   alike for the overall ATT, those with t − group = h for horizon h; proportional to
   ``weights`` (analytic weights) when given.
4. **Variance** (Theorem 3, conservative). τ̂_ω = Σ v_it·Y_it with v = ω on treated
   observations and v = −W₀Z₀(Z₀'W₀Z₀)⁻¹Z₁'ω on untreated ones. With ε̃ = the residual
   of step 1 on untreated observations and ε̃ = τ̂ − τ̄ on treated ones, τ̄ the average
   of τ̂ within ``avg_effects_by`` cells (default cohort × period, the Stata default),
   weighted by v_it × the total v of its cluster in the cell (Stata's weights: v² when
   a cluster has one observation per cell): V = Σ_clusters (Σ v·ε̃)². Intervals use the
   normal reference. Clustering is at the unit unless ``cluster`` says otherwise; with
   few clusters at the assignment level this is not a valid headline (DESIGN §6.1).
5. **Pre-trend test** (Test 1): on untreated observations only, Y on the fixed effects
   and indicators of leads 1…K (t − group = −k); singleton units or periods are dropped
   first (as the Stata command); CRV1 covariance, rank checked before the joint Wald
   test (χ²(K)); no statistic when the covariance is singular.

Checked against ``did-imputation`` 0.1.0 (an independent Python port of Stata's
``did_imputation``) on mpdta, ``tests/did/test_imputation.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components

from sahel_eval.did.results import EstimateResult
from sahel_eval.stats.covariance import covariance_rank, crv1, fe_parameter_count
from sahel_eval.stats.distributions import chi2_sf, norm_ppf, norm_sf

__all__ = ["imputation"]


class _TwoWay:
    """Unit and period dummies of some rows (weighted), factored once for many solves."""

    def __init__(self, unit: np.ndarray, period: np.ndarray, w: np.ndarray) -> None:
        self.units, self.u = _sorted_codes(unit)
        self.periods, self.p = _sorted_codes(period)
        nu, npd = len(self.units), len(self.periods)
        cross = sparse.coo_matrix((w, (self.u, self.p)), shape=(nu, npd)).tocsr()
        graph = sparse.bmat([[None, cross], [cross.T, None]]) != 0
        n_comp, labels = connected_components(graph, directed=False)
        if n_comp > 1:
            small = labels[:nu] != np.bincount(labels).argmax()
            names = ", ".join(map(str, self.units[small][:5]))
            raise ValueError(
                f"imputation: the untreated observations form {n_comp} groups with no "
                f"period in common (units {names} …): unit and period effects are not "
                "identified; drop those units or add untreated periods that link them"
            )
        self.w = w
        # Drop the first period's dummy: the connected design then has full rank. The
        # unit block is diagonal, so it is eliminated (Schur complement on the periods):
        # a dense factor of size periods − 1, whatever the number of units.
        self.wu = np.bincount(self.u, weights=w, minlength=nu)
        wp = np.bincount(self.p, weights=w, minlength=npd)[1:]
        self.c = cross[:, 1:]
        # Units × periods is small: the (periods − 1)² product is one dense BLAS call.
        dense = self.c.toarray()
        schur = np.diag(wp) - dense.T @ (dense / self.wu[:, None])
        self.chol = linalg.cho_factor(schur)
        self.nu = nu

    def solve(self, by_unit: np.ndarray, by_period: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Z'WZ)⁻¹ applied to the unit and period sums of a vector."""
        a, b = self.solve_many(by_unit[:, None], by_period[:, None])
        return a[:, 0], b[:, 0]

    def solve_many(
        self, by_unit: np.ndarray, by_period: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`solve` for many columns at once (units × J, periods × J)."""
        scaled = by_unit / self.wu[:, None]
        b = linalg.cho_solve(self.chol, by_period[1:] - self.c.T @ scaled)
        a = scaled - (self.c @ b) / self.wu[:, None]
        return a, np.vstack([np.zeros((1, b.shape[1])), b])

    def sums_many(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Z'W X for the columns of ``x`` (rows = this design's observations)."""
        xw = x * self.w[:, None]
        return _indicator(self.u, self.nu) @ xw, _indicator(self.p, len(self.periods)) @ xw

    def sums(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Z'W x: weighted sums of ``x`` per unit and per period."""
        xw = x * self.w
        return (
            np.bincount(self.u, weights=xw, minlength=self.nu),
            np.bincount(self.p, weights=xw, minlength=len(self.periods)),
        )

    def fit(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit and period effects of ``y`` (first period's effect 0)."""
        return self.solve(*self.sums(y))

    def residualize(self, x: np.ndarray) -> np.ndarray:
        """``x`` minus its projection on the dummies."""
        a, b = self.fit(x)
        return x - a[self.u] - b[self.p]


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` by hashing, not sorting every row.

    The same sorted distinct values and codes; the randomisation inference builds a
    design per assignment, and sorting the rows was a third of that.
    """
    codes, distinct = pd.factorize(values, sort=True)
    return distinct, codes


def _indicator(codes: np.ndarray, n: int) -> sparse.csr_matrix:
    """Sparse n × len(codes) matrix summing the rows of each code."""
    m = len(codes)
    return sparse.csr_matrix((np.ones(m), (codes, np.arange(m))), shape=(n, m))


class _ImputationScores:
    """Estimates and cluster scores of many targets and outcome columns for one
    assignment of cohorts.

    For fixed cohorts ``g`` the estimator and its residuals ε̃ are linear in the
    outcome, so one factorisation serves every column (Y, and the exposure D of the
    randomisation inference) and every target (overall, horizons).
    """

    def __init__(
        self,
        unit: np.ndarray,
        t: np.ndarray,
        g: np.ndarray,
        w: np.ndarray,
        cl_codes: np.ndarray,
        cell: np.ndarray,
    ) -> None:
        self.treated = (g > 0) & (t >= g)
        un = ~self.treated
        self.design = _TwoWay(unit[un], t[un], w[un])
        self.u_idx = pd.Index(self.design.units).get_indexer(unit)
        self.p_idx = pd.Index(self.design.periods).get_indexer(t)
        self.imputable = self.treated & (self.u_idx >= 0) & (self.p_idx >= 0)
        self.w, self.cl, self.cell = w, cl_codes, cell
        self.n_cl = int(cl_codes.max()) + 1

    def compute(self, ys: np.ndarray, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimates (K × J) and cluster scores Σ v·ε̃ (G × K × J) of the K targets
        ``sel`` (n × K boolean, imputable rows) for the J outcome columns ``ys`` (n × J).
        A target without rows has NaN estimates and zero scores."""
        d, un, ok = self.design, ~self.treated, self.imputable
        a, b = d.solve_many(*d.sums_many(ys[un]))
        resid0 = ys[un] - (a[d.u] + b[d.p])
        it = np.flatnonzero(ok)
        n_k, n_j = sel.shape[1], ys.shape[1]
        # Aggregation weights ω: one entry per (imputable row, target containing it);
        # every other entry is 0, so each step runs over these pairs only (a dense rows ×
        # targets array was most of the cost of a refit).
        row, col = np.nonzero(sel[it])
        w1 = self.w[it][row]
        total = np.bincount(col, weights=w1, minlength=n_k)
        v1 = w1 / np.where(total > 0, total, 1.0)[col]
        tau = (ys[it] - (a[self.u_idx[it]] + b[self.p_idx[it]]))[row]
        est = np.column_stack([np.bincount(col, v1 * tau[:, j], minlength=n_k) for j in range(n_j)])
        est[total <= 0] = np.nan
        # Weights on the untreated outcomes implied by the imputation:
        # v0 = −w·(a_u[unit] + a_p[period]), kept in that factored form.
        a_u, a_p = d.solve_many(
            _pair_sums(self.u_idx[it][row], col, v1, d.nu, n_k),
            _pair_sums(self.p_idx[it][row], col, v1, len(d.periods), n_k),
        )
        # Treated residuals: τ̂ minus its cell average with Stata's cluster-aware weights
        # (each v_it times its cluster's total v in the cell).
        cell, cl1 = self.cell[it][row], self.cl[it][row]
        sw = v1 * _within(pd.factorize((cell * self.n_cl + cl1) * n_k + col)[0], v1)
        by_cell = pd.factorize(cell * n_k + col)[0]
        den = _within(by_cell, sw)
        cl0, w0 = self.cl[un], self.w[un]
        score = np.empty((self.n_cl, n_k, n_j))
        for j in range(n_j):
            num = _within(by_cell, sw * tau[:, j])
            avg = np.divide(num, den, out=np.zeros_like(num), where=den != 0)
            treated = _pair_sums(cl1, col, v1 * (tau[:, j] - avg), self.n_cl, n_k)
            # Σ over a cluster's untreated rows of v0·ε̃ = −(its w·ε̃ by unit)·a_u
            # − (its w·ε̃ by period)·a_p.
            we = w0 * resid0[:, j]
            by_unit = sparse.csr_matrix((we, (cl0, d.u)), shape=(self.n_cl, d.nu))
            by_period = sparse.csr_matrix((we, (cl0, d.p)), shape=(self.n_cl, len(d.periods)))
            score[:, :, j] = treated - by_unit @ a_u - by_period @ a_p
        return est, score


def _pair_sums(
    codes: np.ndarray, col: np.ndarray, values: np.ndarray, n: int, n_k: int
) -> np.ndarray:
    """n × n_k sums of ``values`` by (code, target) pair."""
    return np.bincount(codes * n_k + col, values, minlength=n * n_k).reshape(n, n_k)


def _within(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each entry's group total of ``values`` (groups: ``codes``)."""
    return np.bincount(codes, values)[codes] if len(codes) else values.copy()


def _drop_singletons(unit: np.ndarray, period: np.ndarray) -> np.ndarray:
    keep = np.ones(len(unit), dtype=bool)
    while True:
        bad = np.zeros(len(unit), dtype=bool)
        for codes in (unit, period):
            counts = pd.Series(codes[keep]).value_counts()
            bad |= keep & pd.Series(codes).map(counts).eq(1).to_numpy()
        if not bad.any():
            return keep
        keep &= ~bad


def _horizon_list(horizons: Any, rel: np.ndarray) -> list[int]:
    if horizons is None:
        return []
    if isinstance(horizons, str):
        if horizons != "all":
            raise ValueError(f"horizons must be None, 'all' or integers, got {horizons!r}")
        return sorted(int(h) for h in np.unique(rel))
    return [int(h) for h in horizons]


def _pretrend(
    y: np.ndarray,
    unit: np.ndarray,
    period: np.ndarray,
    rel: np.ndarray,
    w: np.ndarray,
    clusters: np.ndarray,
    leads: int,
) -> dict[str, Any]:
    keep = _drop_singletons(unit, period)
    x = np.column_stack([(rel[keep] == -k).astype(float) for k in range(1, leads + 1)])
    design = _TwoWay(unit[keep], period[keep], w[keep])
    xt = np.column_stack([design.residualize(col) for col in x.T])
    yt = design.residualize(y[keep])
    wk = w[keep]
    beta = np.linalg.lstsq(xt * np.sqrt(wk)[:, None], yt * np.sqrt(wk), rcond=None)[0]
    k = leads + fe_parameter_count([unit[keep], period[keep]], clusters[keep])
    cov = crv1(xt, yt - xt @ beta, clusters[keep], weights=wk, k=k)
    rank = covariance_rank(cov.vcov)
    out: dict[str, Any] = {
        "test": "wald_crv1",
        "leads": [
            {"lead": -(j + 1), "estimate": float(beta[j]), "se": float(np.sqrt(cov.vcov[j, j]))}
            for j in range(leads)
        ],
        "rank": rank,
        "df": leads,
        "n": int(keep.sum()),
    }
    if rank < leads:
        out["reason"] = f"covariance rank {rank} < {leads} leads: no Wald statistic"
        return out
    stat = float(beta @ np.linalg.solve(cov.vcov, beta))
    out["stat"] = stat
    out["p"] = float(chi2_sf(stat, leads))
    return out


def imputation(
    df: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    *,
    horizons: Sequence[int] | str | None = None,
    pretrends: int = 0,
    cluster: str | None = None,
    weights: str | None = None,
    avg_effects_by: Sequence[str] | None = None,
    level: float = 0.95,
) -> EstimateResult:
    """ATTs by imputation (Borusyak, Jaravel & Spiess 2024), see the module docstring.

    Parameters
    ----------
    df
        Panel or unbalanced panel, one row per unit × period.
    outcome, unit, time
        Column names; ``time`` holds whole periods (e.g. month index, year).
    group
        First treated period of the unit; 0 or missing = never treated.
    horizons
        Event times t − group to report beside the overall ATT (``"all"``: every one).
    pretrends
        Number of leads in the pre-trend test (0: no test).
    cluster
        Cluster column (default: the unit).
    weights
        Analytic weights (used in the untreated fit and the aggregation).
    avg_effects_by
        Cells within which treated effects are averaged for the variance (default
        ``[group, time]``).
    level
        Confidence level of the normal-reference intervals.

    Returns
    -------
    EstimateResult
        Rows ``overall`` and ``h=<h>`` with ``event_time`` and ``n_obs``; ``info``
        holds the sample counts and, with ``pretrends``, the ``pretest``.
    """
    cols = [outcome, unit, time, group, *(c for c in (cluster, weights) if c)]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"imputation: columns {missing} not in the data")
    data = df[list(dict.fromkeys(cols))].dropna(subset=[outcome, unit, time])
    if data.duplicated([unit, time]).any():
        raise ValueError(f"imputation: several rows for one {unit} × {time}")
    t = data[time].to_numpy(dtype=float)
    if not np.allclose(t, np.round(t)):
        raise ValueError(f"imputation: {time} must hold whole periods")
    g = data[group].fillna(0).to_numpy(dtype=float)
    treated = (g > 0) & (t >= g)
    y = data[outcome].to_numpy(dtype=float)
    w = np.ones(len(data)) if weights is None else data[weights].to_numpy(dtype=float)
    if weights is not None and (~np.isfinite(w) | (w <= 0)).any():
        raise ValueError(f"imputation: weights {weights!r} must be positive and finite")
    u_all = data[unit].to_numpy()
    clusters = data[cluster or unit].to_numpy()

    cl_codes = pd.factorize(clusters)[0]
    by = list(avg_effects_by) if avg_effects_by is not None else [group, time]
    cell = pd.factorize(pd.MultiIndex.from_frame(data[by]))[0]
    fit = _ImputationScores(u_all, t, g, w, cl_codes, cell)
    rel = np.where(g > 0, t - g, np.nan)
    imputable = fit.imputable
    targets = [("overall", None, imputable)]
    targets += [
        (f"h={h}", h, imputable & (rel == h)) for h in _horizon_list(horizons, rel[imputable])
    ]
    z = norm_ppf(0.5 + level / 2)
    present = [sel.any() for _, _, sel in targets]
    est, score = fit.compute(y[:, None], np.column_stack([s for *_, s in targets]))
    rows = []
    for k, (term, h, sel) in enumerate(targets):
        if not present[k]:
            rows.append({"term": term, "event_time": h, "n_obs": 0})
            continue
        estimate = float(est[k, 0])
        se = float(np.sqrt(score[:, k, 0] @ score[:, k, 0]))
        rows.append(
            {
                "term": term,
                "event_time": h,
                "n_obs": int(sel.sum()),
                "estimate": estimate,
                "se": se,
                "ci_low": estimate - z * se,
                "ci_high": estimate + z * se,
                "p": float(2 * norm_sf(abs(estimate / se))) if se > 0 else np.nan,
            }
        )
    table = pd.DataFrame(
        rows, columns=["term", "event_time", "n_obs", "estimate", "se", "ci_low", "ci_high", "p"]
    )
    info: dict[str, Any] = {
        "estimator": "imputation",
        "inference": "bjs_conservative",
        "level": level,
        "n": len(data),
        "n_untreated": int((~fit.treated).sum()),
        "n_treated": int(fit.treated.sum()),
        "n_not_imputable": int((fit.treated & ~imputable).sum()),
        "clusters": len(np.unique(cl_codes)),
        "cluster": cluster or unit,
        "avg_effects_by": by,
    }
    if pretrends:
        info["pretest"] = _pretrend(
            y[~treated],
            u_all[~treated],
            t[~treated],
            rel[~treated],
            w[~treated],
            clusters[~treated],
            pretrends,
        )
    return EstimateResult(table=table, info=info)
