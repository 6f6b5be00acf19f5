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

from sahel_eval.did.imputation_scores import (
    _cell_groups,
    _ImputationScores,
    _Panel,
    _target_pairs,
    _TwoWay,
)
from sahel_eval.did.results import EstimateResult
from sahel_eval.stats.covariance import covariance_rank, crv1, fe_parameter_count
from sahel_eval.stats.distributions import chi2_sf, norm_ppf, norm_sf

__all__ = ["imputation"]


def _cell_codes(frame: pd.DataFrame) -> np.ndarray:
    """``pd.factorize`` codes of the rows' value combinations (a missing value one of its
    own), column by column: a MultiIndex of the rows cost 40 % of a national fit."""
    codes = np.zeros(len(frame), dtype=np.int64)
    for name in frame:
        col, values = pd.factorize(frame[name], use_na_sentinel=False)
        codes = pd.factorize(codes * len(values) + col)[0]
    return codes


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
    wk = w[keep]
    design, u, p = _TwoWay.of(unit[keep], period[keep], wk)
    xt = np.column_stack([design.residualize(col, u, p, wk) for col in x.T])
    yt = design.residualize(y[keep], u, p, wk)
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
    clusters = data[cluster].to_numpy() if cluster else None

    panel = _Panel.of(u_all, t, w, clusters)
    by = list(avg_effects_by) if avg_effects_by is not None else [group, time]
    fit = _ImputationScores(panel, treated)
    rel = np.where(g > 0, t - g, np.nan)
    imputable = fit.imputable
    it = np.flatnonzero(imputable)
    hs = _horizon_list(horizons, rel[it])
    targets = [("overall", None), *((f"h={h}", h) for h in hs)]
    z = norm_ppf(0.5 + level / 2)
    pairs = _target_pairs(it, rel[it], hs)
    n_obs = np.bincount(pairs[1], minlength=len(targets))
    cells = _cell_groups(_cell_codes(data[by]), panel.cl, panel.n_cl, pairs, len(targets))
    est, score = fit.compute(y[None, :], pairs, len(targets), *cells)
    rows = []
    for k, (term, h) in enumerate(targets):
        if not n_obs[k]:
            rows.append({"term": term, "event_time": h, "n_obs": 0})
            continue
        estimate = float(est[0, k])
        se = float(np.sqrt(score[0, :, k] @ score[0, :, k]))
        rows.append(
            {
                "term": term,
                "event_time": h,
                "n_obs": int(n_obs[k]),
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
        "clusters": panel.n_cl,
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
            (u_all if clusters is None else clusters)[~treated],
            pretrends,
        )
    return EstimateResult(table=table, info=info)
