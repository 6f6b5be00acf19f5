"""2×2 difference-in-differences for repeated cross-sections (survey rounds)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.assignment import (
    assignment_warnings,
    cluster_starts,
    not_informative,
    not_informative_warning,
)
from sahel_eval.did.inference.assignment_ri import assignment_ri, fwl_pieces
from sahel_eval.did.inference.wild import wild_cluster_bootstrap
from sahel_eval.did.results import EstimateResult, WarningCode
from sahel_eval.stats.covariance import (
    Covariance,
    crv1,
    design_based,
    hc1,
    t_pvalue,
    t_quantile,
)
from sahel_eval.stats.linear import LinearDesign, estimation_sample

__all__ = ["did_2x2"]

_INFERENCE = ("hc1", "cluster", "design", "wild", "randomization")


def did_2x2(
    df: pd.DataFrame,
    outcome: str,
    treat: str,
    post: str,
    *,
    weights: str | None = None,
    covariates: tuple[str, ...] | list[str] = (),
    cluster: str | None = None,
    strata: str | None = None,
    psu: str | None = None,
    inference: str | None = None,
    seed: int | None = None,
    level: float = 0.95,
    bootstrap: int = 9999,
    wild_weights: str | None = None,
) -> EstimateResult:
    """2×2 DiD by weighted least squares on pooled cross-sections.

    y_i = α + γ·T_i + λ·P_i + δ·T_i·P_i + x_i'θ + ε_i  (survey weights w_i);
    δ is the reported term ``"{treat}:{post}"``.

    Parameters
    ----------
    df
        One row per respondent and round.
    outcome, treat, post
        Column names; ``treat`` marks treated areas (0/1), ``post`` the later round.
    weights
        Survey weight column (positive).
    covariates
        Further regressors x_i (rows with a missing covariate are dropped and counted).
    cluster
        Assignment-level cluster (district); enables CRV1, wild and RI.
    strata, psu
        Survey design columns; enable the design-based (Taylor) variance.  Without
        ``psu`` each row is its own PSU.
    inference
        Headline method: ``"hc1"``, ``"cluster"`` (CRV1, fixest factor, t(G−1)),
        ``"design"`` (t(#PSU − #strata)), ``"wild"`` or ``"randomization"``.  Default:
        ``"cluster"`` when ``cluster`` is given, else ``"design"`` when strata/psu are,
        else ``"hc1"`` (t(N−K)).  Besides the headline the table carries a row for each
        other variance the arguments allow among CRV1 and design-based (column
        ``inference``, ``headline`` marks the headline), so design-based and cluster
        inference sit side by side.
    seed, level, bootstrap, wild_weights
        As in :func:`sahel_eval.did.twfe`.

    Returns
    -------
    EstimateResult
    """
    has_design = strata is not None or psu is not None
    if inference is None:
        inference = "cluster" if cluster else ("design" if has_design else "hc1")
    if inference not in _INFERENCE:
        raise ValueError(f"inference must be one of {_INFERENCE}, got {inference!r}")
    if inference in ("cluster", "wild", "randomization") and cluster is None:
        raise ValueError(f"inference={inference!r} needs cluster= (the assignment level)")
    if inference == "design" and not has_design:
        raise ValueError("inference='design' needs strata= and/or psu=")
    covariates = list(covariates)
    cols = [
        c
        for c in dict.fromkeys([outcome, treat, post, *covariates, weights, cluster, strata, psu])
        if c
    ]
    data, n_dropped = estimation_sample(df, cols, weights=weights)
    w = None if weights is None else data[weights].to_numpy(dtype=float)
    y = data[outcome].to_numpy(dtype=float)
    p = data[post].to_numpy(dtype=float)
    term = f"{treat}:{post}"

    def design_for(t: np.ndarray) -> LinearDesign:
        x = np.column_stack([np.ones(len(t)), t, p, t * p, data[covariates].to_numpy(dtype=float)])
        return LinearDesign.build(y, x, ["(intercept)", treat, post, term, *covariates], weights=w)

    t_obs = data[treat].to_numpy(dtype=float)
    design = design_for(t_obs)
    beta, resid = design.solve()
    j = design.names.index(term)

    clusters = None if cluster is None else data[cluster].to_numpy()
    g = treated = None
    if clusters is not None:
        cl = pd.Series(clusters)
        g = int(cl.nunique())
        treated = int(cl[t_obs > 0].nunique())

    methods = [inference]
    if cluster is not None and inference not in ("cluster",):
        methods.append("cluster")
    if has_design and inference != "design":
        methods.append("design")
    rows = []
    extra: dict[str, Any] = {"seed": None, "p_min": None}
    for method in methods:
        row, more = _row(
            method,
            design=design,
            beta=beta,
            resid=resid,
            j=j,
            term=term,
            data=data,
            clusters=clusters,
            strata=strata,
            psu=psu,
            level=level,
            seed=seed,
            bootstrap=bootstrap,
            wild_weights=wild_weights,
            treated=treated,
            design_for=design_for,
            cluster=cluster,
            treat=treat,
        )
        row["headline"] = method == inference
        rows.append(row)
        if method == inference:
            extra.update(more)
    table = pd.DataFrame(rows)
    warnings: list[WarningCode] = assignment_warnings(g, treated)
    if not table["informative"].all():
        warnings.append(not_informative_warning(treated, extra.get("p_min"), level, inference))
    info: dict[str, Any] = {
        "estimator": "did_2x2",
        "n": design.n,
        "n_dropped": n_dropped,
        "cluster": cluster,
        "clusters": g,
        "treated_clusters": treated,
        "inference": inference,
        "level": level,
        "k": design.x.shape[1],
        "covariates": covariates,
        **extra,
    }
    return EstimateResult(table=table, info=info, warnings=warnings)


def _row(
    method: str,
    *,
    design: LinearDesign,
    beta: np.ndarray,
    resid: np.ndarray,
    j: int,
    term: str,
    data: pd.DataFrame,
    clusters: np.ndarray | None,
    strata: str | None,
    psu: str | None,
    level: float,
    seed: int | None,
    bootstrap: int,
    wild_weights: str | None,
    treated: int | None,
    design_for: Any,
    cluster: str | None,
    treat: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One table row for ``method`` and the info entries it produces."""
    w = design.weights
    more: dict[str, Any] = {}
    p_min = np.nan
    if method == "hc1":
        cov: Covariance = hc1(design.x, resid, weights=w)
    elif method == "design":
        cov = design_based(
            design.x,
            resid,
            weights=w,
            psu=data[psu].to_numpy() if psu else np.arange(design.n),
            strata=data[strata].to_numpy() if strata else None,
        )
        more["design"] = {"strata": strata, "psu": psu, "lonely_psu": "adjust", "df": cov.df}
    else:
        cov = crv1(design.x, resid, clusters, weights=w)
    se = float(np.sqrt(cov.vcov[j, j]))
    est = float(beta[j])
    q = t_quantile(level, cov.df)
    row: dict[str, Any] = {
        "term": term,
        "estimate": est,
        "se": se,
        "ci_low": est - q * se,
        "ci_high": est + q * se,
        "p": float(t_pvalue(est / se, cov.df)),
        "df": cov.df,
        "inference": {"cluster": "crv1"}.get(method, method),
    }
    if method == "wild":
        fit = wild_cluster_bootstrap(
            design, term, clusters, level=level, draws=bootstrap, seed=seed, weights=wild_weights
        )
        row.update(p=fit.p, ci_low=fit.ci[0], ci_high=fit.ci[1])
        p_min = fit.p_min
        more.update(
            seed=fit.seed,
            p_min=fit.p_min,
            bootstrap={
                "weights": fit.weights,
                "draws": fit.draws,
                "enumerated": fit.enumerated,
                "null_imposed": True,
            },
        )
    elif method == "randomization":
        # Each row is a "unit" whose start is 1 when its area is treated: cluster_starts
        # then checks that treatment is constant within the assignment cluster.
        assign = cluster_starts(
            data[treat].where(data[treat] > 0, np.nan).clip(upper=1), data[cluster]
        )
        var_cluster = data[psu].to_numpy() if psu else np.arange(design.n)
        ri = assignment_ri(
            _placebo_pieces(design, data[cluster], j, var_cluster),
            assign,
            level=level,
            draws=bootstrap,
            seed=seed,
        )
        res = ri.result
        row.update(p=res.p, ci_low=res.ci_low, ci_high=res.ci_high)
        row["confidence_attained"] = res.confidence_attained
        p_min = res.p_min
        more.update(
            seed=ri.seed,
            p_min=res.p_min,
            confidence_attained=res.confidence_attained,
            randomization={
                "permutations": ri.permutations,
                "enumerated": ri.enumerated,
                "statistic": "studentized_t",
                "variance_cluster": psu or "row",
                "ci": "test_inversion_constant_additive_effect",
            },
        )
    row["p_min"] = p_min
    informative = not not_informative(treated, None if np.isnan(p_min) else p_min, level)
    row["informative"] = informative
    if not informative and method in ("wild", "randomization"):
        row.update(ci_low=np.nan, ci_high=np.nan)
    return row, more


def _placebo_pieces(
    design: LinearDesign, row_cluster: pd.Series, j: int, var_cluster: np.ndarray
) -> Any:
    """Pieces function for studentised RI: treated areas = districts chosen as placebo.

    Column ``j`` (treat × post) and ``treat`` are rebuilt from the placebo choice; the
    actual exposure is the actual column ``j``; the variance clusters are the PSUs.
    """
    codes, uniques = pd.factorize(np.asarray(var_cluster), sort=True)
    n = design.n
    factor = len(uniques) / max(len(uniques) - 1, 1) * (n - 1) / max(n - design.x.shape[1], 1)
    sw = np.ones(n) if design.weights is None else np.sqrt(design.weights)
    x0 = design.x
    treat_col = 1  # (intercept, treat, post, treat:post, covariates...)
    post = x0[:, 2]
    d_actual = x0[:, j] * sw
    y = design.y * sw
    # Each row's district as a code, once; -1 (no district) reads the appended False.
    row_codes, districts = pd.factorize(row_cluster)

    def pieces(assign: pd.Series) -> np.ndarray:
        treated = np.append(assign.reindex(districts).notna().to_numpy(), False)
        t = treated[row_codes].astype(float)
        x = x0.copy()
        x[:, treat_col] = t
        x[:, j] = t * post
        xs = x * sw[:, None]
        z = np.delete(xs, j, axis=1)
        q = np.linalg.qr(z)[0]

        def part(v: np.ndarray) -> np.ndarray:
            return v - q @ (q.T @ v)

        return fwl_pieces(part(xs[:, j]), part(y), part(d_actual), codes, len(uniques), factor)

    return pieces
