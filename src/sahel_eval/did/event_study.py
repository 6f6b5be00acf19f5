"""The TWFE event study with binned end points, and its pre-trend test.

The fit, its inference (cluster, wild, randomisation) and its result share the
machinery of the static TWFE (:mod:`sahel_eval.did.twfe`); the placebo refits bin event
times as the fit does (:func:`sahel_eval.did.twfe_placebo.event_time_codes`). Its
term covariance is the sensitivity input of DESIGN §6.1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.assignment import cluster_starts
from sahel_eval.did.results import EstimateResult
from sahel_eval.did.twfe import _design, _infer, _Options, _placebo_refit, _result, _Sample, _Solved
from sahel_eval.did.twfe_placebo import event_time_codes, indicator_columns
from sahel_eval.stats.covariance import Covariance, covariance_rank
from sahel_eval.stats.distributions import chi2_sf, f_sf
from sahel_eval.stats.linear import LinearDesign

__all__ = ["event_study"]


def event_study(
    df: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    *,
    leads: int,
    lags: int,
    ref: int = -1,
    cluster: str | None = None,
    weights: str | None = None,
    inference: str = "cluster",
    level: float = 0.95,
    seed: int | None = None,
    bootstrap: int = 9999,
    wild_weights: str | None = None,
) -> EstimateResult:
    """TWFE event study with binned end points.

    y_it = α_i + λ_t + Σ_{e ≠ ref} β_e·1[G_i > 0, bin(t − G_i) = e] + ε_it,
    bin(e) = min(max(e, −leads), lags): event times before −leads are pooled into the
    −leads bin and after ``lags`` into the ``lags`` bin; never-treated units
    (G_i = 0) have all indicators 0.

    The pre-trend test is a joint Wald test of the lead terms (e < 0, e ≠ ref) with the
    CRV1 covariance, reported as F = W/q against F(q, G − 1) (fixest's ``wald``
    convention); ``info["pretest"]`` also carries W and its χ²(q) p-value.

    Parameters
    ----------
    df
        Long panel, one row per unit × period; ``time`` and ``group`` numeric on the
        same scale (event time = time − group).
    outcome, unit, time, group
        Column names; ``group`` is the first treated period, 0 for never treated.
    leads, lags
        Number of pre- and post-treatment bins (end bins pooled).
    ref
        Omitted (reference) event time.
    cluster, weights, inference, level, seed, bootstrap, wild_weights
        As in :func:`twfe`; with ``"wild"`` each term gets its own WCR test, with
        ``"randomization"`` cluster start dates (``group``) are permuted.

    Returns
    -------
    EstimateResult
        One row per event time (column ``event_time``; ``pooled`` marks end bins).
    """
    opts = _Options(inference, level, seed, bootstrap, wild_weights)
    if leads < 1 or lags < 0:
        raise ValueError(f"need leads ≥ 1 and lags ≥ 0, got leads={leads}, lags={lags}")
    if not -leads <= ref <= lags:
        raise ValueError(f"ref={ref} outside the binned window [-{leads}, {lags}]")
    sample = _Sample.of(
        df, [outcome, unit, time, group], unit=unit, time=time, cluster=cluster, weights=weights
    )
    data = sample.data
    bins = [b for b in range(-leads, lags + 1) if b != ref]
    terms = [f"e={b}" for b in bins]
    # One binning for the fit and its placebo refits.
    codes = event_time_codes(leads, lags, ref)
    grp = data[group].to_numpy(dtype=float)
    ind = indicator_columns(codes(data[time].to_numpy(dtype=float), grp), len(bins))
    empty = [t for t, hit in zip(terms, ind.any(axis=0), strict=True) if not hit]
    if empty:
        raise ValueError(
            f"event-time bins {empty} have no observations; reduce leads/lags "
            f"(data cover {data[time].min()}–{data[time].max()})"
        )
    y = data[outcome].to_numpy(dtype=float)
    dummies = inference == "wild"
    design = _design(sample, y, ind, terms, dummies=dummies)
    fit = _Solved.of(design, sample, grp > 0, dummies=dummies)

    def ri_assignment() -> pd.Series:
        frame = data.assign(_g=data[group].where(data[group] > 0))
        starts = frame.groupby(unit)["_g"].first()
        unit_cluster = data.groupby(unit)[sample.cluster_name].first()
        return cluster_starts(starts, unit_cluster)

    ri_estimate = _placebo_refit(sample, y, codes, len(bins))
    rows, extra = _infer(fit, terms, opts, ri_estimate=ri_estimate, ri_assignment=ri_assignment)
    rows.insert(1, "event_time", bins)
    rows["pooled"] = [b in (-leads, lags) for b in bins]
    extra["pretest"] = _pretest(
        design, fit.beta, fit.cov, [t for t, b in zip(terms, bins, strict=True) if b < 0]
    )
    # CRV1 covariance of the event-time terms (table order): the sensitivity input (§6.1).
    idx = [design.names.index(t) for t in terms]
    extra.update(leads=leads, lags=lags, ref=ref, term_vcov=fit.cov.vcov[np.ix_(idx, idx)])
    return _result(fit, sample, rows, opts, estimator="event_study", extra=extra)


def _pretest(
    design: LinearDesign, beta: np.ndarray, cov: Covariance, leads: list[str]
) -> dict[str, Any] | None:
    """Joint Wald test of the lead terms: W = b'V⁻¹b, F = W/q ~ F(q, G − 1).

    The covariance is inverted only when it has full rank (:func:`covariance_rank`): a
    cluster-robust covariance has rank ≤ G − 1, so with more leads than that the test
    does not exist at this cluster level and the result says so, with no statistic.
    """
    if not leads:
        return None
    idx = [design.names.index(t) for t in leads]
    b = beta[idx]
    v = cov.vcov[np.ix_(idx, idx)]
    q = len(idx)
    df2 = cov.df
    rank = covariance_rank(v)
    if rank < q:
        return {
            "test": "F",
            "terms": leads,
            "stat": None,
            "df1": q,
            "df2": df2,
            "p": None,
            "rank": rank,
            "reason": "covariance_rank_deficient",
            "dropped": [],
        }
    wald = float(b @ np.linalg.solve(v, b))
    return {
        "test": "F",
        "terms": leads,
        "stat": wald / q,
        "df1": q,
        "df2": df2,
        "p": float(f_sf(wald / q, q, df2)),
        "chi2": wald,
        "p_chi2": float(chi2_sf(wald, q)),
        "rank": rank,
    }
