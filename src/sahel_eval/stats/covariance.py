"""Sandwich covariance estimators computed from the residuals of a (weighted) linear fit.

All three estimators share the model

    y_i = x_i'β + ε_i,   β̂ = (X'WX)⁻¹ X'Wy,   û = y − Xβ̂,

with bread ``(X'WX)⁻¹`` and a meat built from the scores ``s_i = w_i x_i û_i``:

* :func:`hc1` — heteroskedasticity-robust, factor N/(N−K), normal/t(N−K) reference.
* :func:`crv1` — cluster-robust with fixest's small-sample factor
  G/(G−1)·(N−1)/(N−K), K = regressors + fixed effects *not* nested in the cluster
  variable, t(G−1) reference.  linearmodels counts K differently (it cannot be told that
  an absorbed effect is nested), which is why the project computes CRV1 here.
* :func:`design_based` — Taylor linearisation for a stratified multi-stage sample
  (with-replacement approximation at the first stage, as R ``survey::svyglm`` and
  Stata ``svy`` do): PSU totals of the scores centred within strata, factor
  n_h/(n_h−1), df = #PSU − #strata.

:func:`t_pvalue` and :func:`t_quantile` give p-values and critical values against the
reference distribution a :class:`Covariance` carries (t(df), normal when ``df`` is None).

``X`` may be the design *after* absorbing fixed effects (within transformation); the
caller passes ``k`` so the small-sample factor still counts the absorbed effects that
must be counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sahel_eval.stats.distributions import norm_ppf, norm_sf, t_ppf, t_sf

__all__ = [
    "Covariance",
    "crv1",
    "design_based",
    "fe_parameter_count",
    "hc1",
    "is_nested",
    "t_pvalue",
    "t_quantile",
]


@dataclass(frozen=True)
class Covariance:
    """A covariance matrix with the reference distribution's degrees of freedom.

    ``df`` is ``None`` for a normal reference; ``kind`` is ``"hc1"``, ``"crv1"`` or
    ``"design"``; ``factor`` is the small-sample factor applied to the meat.
    """

    vcov: np.ndarray
    df: float | None
    kind: str
    factor: float
    n_groups: int | None = None


def _scores(x: np.ndarray, resid: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    w = np.ones(len(resid)) if weights is None else np.asarray(weights, dtype=float)
    return x * (w * resid)[:, None]


def _bread(x: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    xw = x if weights is None else x * np.asarray(weights, dtype=float)[:, None]
    # pinv: a collinear column (e.g. an empty event-time bin) should not abort the fit.
    return np.linalg.pinv(x.T @ xw)


def _group_sums(scores: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    # One bincount over (group, column) pairs: each sum runs over the rows in order, as
    # ``np.add.at`` does (the same bits), without its per-row cost.
    m = scores.shape[1]
    flat = (codes[:, None] * m + np.arange(m)).ravel()
    return np.bincount(flat, scores.ravel(), minlength=n_groups * m).reshape(n_groups, m)


def hc1(
    x: np.ndarray,
    resid: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    k: int | None = None,
) -> Covariance:
    """Heteroskedasticity-robust covariance with the HC1 factor N/(N−K).

    V = N/(N−K) · (X'WX)⁻¹ [Σ_i w_i² û_i² x_i x_i'] (X'WX)⁻¹ ; reference t(N−K).

    Parameters
    ----------
    x, resid
        Design (N × p) and residuals of the fit.
    weights
        Analytic/survey weights of the WLS fit.
    k
        Parameters counted in the factor (defaults to p; pass p + absorbed effects).
    """
    n, p = x.shape
    k = p if k is None else k
    s = _scores(x, resid, weights)
    bread = _bread(x, weights)
    factor = n / (n - k)
    return Covariance(factor * bread @ (s.T @ s) @ bread, float(n - k), "hc1", factor)


def crv1(
    x: np.ndarray,
    resid: np.ndarray,
    clusters: np.ndarray | pd.Series,
    *,
    weights: np.ndarray | None = None,
    k: int | None = None,
) -> Covariance:
    """Cluster-robust covariance, fixest's CRV1 convention.

    V = G/(G−1)·(N−1)/(N−K) · (X'WX)⁻¹ [Σ_g S_g S_g'] (X'WX)⁻¹,
    S_g = Σ_{i∈g} w_i x_i û_i ; reference t(G−1).

    Parameters
    ----------
    x, resid
        Design (N × p, possibly within-transformed) and residuals.
    clusters
        Cluster label per row.
    weights
        WLS weights.
    k
        Regressors plus fixed-effect parameters not nested in ``clusters`` (see
        :func:`fe_parameter_count`); defaults to p (no absorbed effects).
    """
    n, p = x.shape
    k = p if k is None else k
    codes, uniques = pd.factorize(np.asarray(clusters), sort=True)
    if (codes < 0).any():
        raise ValueError("cluster variable has missing values; drop those rows first")
    g = len(uniques)
    if g < 2:
        raise ValueError(f"CRV1 needs at least 2 clusters, got {g}")
    sg = _group_sums(_scores(x, resid, weights), codes, g)
    bread = _bread(x, weights)
    factor = g / (g - 1) * (n - 1) / (n - k)
    return Covariance(factor * bread @ (sg.T @ sg) @ bread, float(g - 1), "crv1", factor, g)


def design_based(
    x: np.ndarray,
    resid: np.ndarray,
    *,
    weights: np.ndarray | None,
    psu: np.ndarray | pd.Series,
    strata: np.ndarray | pd.Series | None = None,
) -> Covariance:
    """Design-based (Taylor linearisation) covariance for a stratified cluster sample.

    V = (X'WX)⁻¹ [Σ_h n_h/(n_h−1) Σ_j (z_hj − z̄_h)(z_hj − z̄_h)'] (X'WX)⁻¹,
    z_hj = Σ_{i∈PSU hj} w_i x_i û_i ; reference t(#PSU − #strata).

    This is R ``survey``'s ``svyglm`` / Stata ``svy: regress`` variance with the
    with-replacement approximation at the first stage (no finite-population
    correction).  PSUs are nested in strata: the same PSU label in two strata is two
    PSUs.

    Single-PSU strata follow R's ``options(survey.lonely.psu = "adjust")`` (Stata's
    ``singleunit(centered)``): the lonely PSU's total is centred at the grand mean of
    all PSU totals instead of its stratum mean, with factor 1; it still counts as a
    stratum in the degrees of freedom.  For regression scores the grand mean is zero
    (normal equations), so the lonely PSU contributes z z'.

    Parameters
    ----------
    x, resid
        Design and residuals of the weighted fit.
    weights
        Sampling weights (``None`` = equal weights).
    psu
        Primary sampling unit per row.
    strata
        Stratum per row (``None`` = one stratum).
    """
    n = len(resid)
    strata_arr = np.zeros(n, dtype=int) if strata is None else np.asarray(strata)
    frame = pd.DataFrame({"h": strata_arr, "j": np.asarray(psu)})
    if frame.isna().any().any():
        raise ValueError("strata/psu have missing values; drop those rows first")
    # PSUs are (stratum, PSU label) pairs in sorted order: each level's sorted codes,
    # combined (factorising a MultiIndex gives the same order, many times slower).
    h_codes, h_keys = pd.factorize(frame["h"], sort=True)
    j_codes, j_keys = pd.factorize(frame["j"], sort=True)
    pairs, psu_codes = np.unique(h_codes * len(j_keys) + j_codes, return_inverse=True)
    n_psu = len(pairs)
    z = _group_sums(_scores(x, resid, weights), psu_codes, n_psu)
    psu_stratum = pairs // len(j_keys)
    n_strata = len(h_keys)
    grand = z.mean(axis=0)
    meat = np.zeros((x.shape[1], x.shape[1]))
    for h in range(n_strata):
        zh = z[psu_stratum == h]
        nh = len(zh)
        if nh == 1:
            d = zh - grand
            meat += d.T @ d
        else:
            d = zh - zh.mean(axis=0)
            meat += nh / (nh - 1) * (d.T @ d)
    bread = _bread(x, weights)
    df = float(n_psu - n_strata)
    return Covariance(bread @ meat @ bread, df, "design", 1.0, n_psu)


def is_nested(inner: np.ndarray | pd.Series, outer: np.ndarray | pd.Series) -> bool:
    """Whether every level of ``inner`` lies within a single level of ``outer``."""
    frame = pd.DataFrame({"a": np.asarray(inner), "b": np.asarray(outer)})
    return bool((frame.groupby("a", sort=False)["b"].nunique() <= 1).all())


def fe_parameter_count(
    fixed_effects: list[np.ndarray | pd.Series],
    clusters: np.ndarray | pd.Series | None,
) -> int:
    """Fixed-effect parameters to count in K (fixest's ``fixef.K = "nested"``).

    With F absorbed dimensions of sizes L_1…L_F, the absorbed parameters are
    Σ L_f − (F − 1) (one intercept shared by all dimensions).  A dimension fully nested
    in the cluster variable is then discarded except for one parameter, since its
    effects are already differenced out within each cluster's score.  For unit + time
    effects clustered at (or above) the unit level this leaves L_time parameters, so
    K = regressors + L_time, e.g. 1 + 5 = 6 for ``mpdta``'s static TWFE.

    Parameters
    ----------
    fixed_effects
        One label array per absorbed dimension.
    clusters
        Cluster labels, or ``None`` (no clustering: nothing is nested).
    """
    if not fixed_effects:
        return 0
    sizes = [pd.Series(np.asarray(f)).nunique() for f in fixed_effects]
    k = sum(sizes) - (len(sizes) - 1)
    if clusters is not None:
        for f, size in zip(fixed_effects, sizes, strict=True):
            if is_nested(f, clusters):
                k -= size - 1
    return k


def t_pvalue(t: np.ndarray | float, df: float | None) -> np.ndarray:
    """Two-sided p-value of t against t(df) (normal when ``df`` is None)."""
    t = np.abs(np.asarray(t, dtype=float))
    if df is None:
        return 2 * norm_sf(t)
    return 2 * t_sf(t, df)


def t_quantile(level: float, df: float | None) -> float:
    """Two-sided critical value at ``level``."""
    if df is None:
        return float(norm_ppf(0.5 + level / 2))
    return float(t_ppf(0.5 + level / 2, df))


def covariance_rank(v: np.ndarray, rtol: float = 1e-10) -> int:
    """Numerical rank of a symmetric covariance (eigenvalues above ``rtol`` × largest).

    Checked before any inversion (DESIGN §6.1): a cluster-robust covariance of q
    coefficients from G clusters has rank ≤ G − 1, and inverting it when q > G − 1
    gives statistics such as F = 3·10^15.
    """
    v = np.atleast_2d(np.asarray(v, dtype=float))
    if v.size == 0 or not np.isfinite(v).all():
        return 0
    ev = np.linalg.eigvalsh(0.5 * (v + v.T))
    top = float(ev.max(initial=0.0))
    if top <= 0:
        return 0
    return int((ev > rtol * top).sum())
