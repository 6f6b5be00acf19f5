"""Survey design: round-unique PSUs and strata, single-PSU strata, prevalence with CIs,
and the prevalence cells by round and arm that the technical report tabulates
(:func:`survey_cells`, small cells suppressed).

The variance of a weighted prevalence is the Taylor linearisation of a ratio mean,

    ȳ = Σ_i w_i d_i y_i / Σ_i w_i d_i,   z_i = w_i d_i (y_i − ȳ) / Σ_i w_i d_i,

with ``d_i`` the domain indicator (the respondent belongs to the cell and has a
non-missing outcome). It is computed by :func:`sahel_eval.stats.covariance.design_based`
(an intercept-only weighted fit whose scores are exactly ``w_i d_i (y_i − ȳ)``), so the
prevalences and the 2×2 DiD share one variance estimator, its single-PSU rule
(R ``survey.lonely.psu = "adjust"``) and its degrees of freedom (#PSU − #strata).
Respondents outside the domain keep their PSU in the design with a zero score — the
correct domain (subpopulation) variance, as R ``svyby`` / Stata ``svy, subpop()``;
dropping them would understate the variance when a PSU holds no eligible respondent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sahel_eval.stats.covariance import design_based, t_quantile
from sahel_eval.stats.distributions import beta_ppf

__all__ = [
    "CI_METHODS",
    "LONELY_PSU_RULES",
    "collapse_single_psu_strata",
    "design_ids",
    "korn_graubard",
    "single_psu_strata",
    "suppress_small_cells",
    "survey_cells",
    "weighted_prevalence",
]

LONELY_PSU_RULES = ("adjust", "collapse")
CI_METHODS = ("wald", "korn_graubard")
_ESTIMATE_COLUMNS = ("estimate", "se", "ci_low", "ci_high")


def design_ids(round_: pd.Series, code: pd.Series) -> pd.Series:
    """Round-unique design id ``"{round}-{code}"`` (PSU or stratum).

    PSUs and strata are numbered within a round: PSU 17 of 2015 and PSU 17 of 2018 are
    different villages, so pooling rounds without this would merge them.

    Parameters
    ----------
    round_, code
        Round number and the within-round code (aligned, no missing values).

    Returns
    -------
    pandas.Series
        Text ids, e.g. ``"2-17"``.
    """
    r = pd.Series(round_).astype("Int64").astype(str)
    c = pd.Series(code).astype("Int64").astype(str)
    return (r + "-" + c).astype("string")


def single_psu_strata(
    frame: pd.DataFrame, *, strata: str = "strata", psu: str = "psu"
) -> pd.DataFrame:
    """Strata holding a single PSU.

    Returns
    -------
    pandas.DataFrame
        ``strata, psu`` (the lonely PSU), one row per such stratum, sorted.
    """
    per = frame[[strata, psu]].drop_duplicates()
    counts = per.groupby(strata, sort=True)[psu].transform("size")
    return per.loc[counts == 1].sort_values(strata, kind="mergesort").reset_index(drop=True)


def collapse_single_psu_strata(
    frame: pd.DataFrame,
    *,
    within: str = "district",
    strata: str = "strata",
    psu: str = "psu",
    group: str = "round",
) -> pd.DataFrame:
    """Merge each single-PSU stratum into the largest other stratum of its ``within`` unit.

    The alternative to the default ``"adjust"`` rule of
    :func:`sahel_eval.stats.covariance.design_based`: the lonely PSU joins the stratum of
    the same round and district (DHS practice: urban and rural halves of a district)
    with the most PSUs, ties broken by the smaller stratum id, so the result is
    deterministic. A lonely stratum with no other stratum in its district is left as
    it is (the ``"adjust"`` rule then applies to it).

    Parameters
    ----------
    frame
        Canonical survey table (``round``, ``district``, ``strata``, ``psu``).
    within
        Column whose units bound the merge (a stratum never crosses it).

    Returns
    -------
    pandas.DataFrame
        A copy with ``strata`` rewritten for the merged strata.
    """
    out = frame.copy()
    per = out[[group, within, strata, psu]].drop_duplicates()
    sizes = per.groupby([group, within, strata], sort=True, dropna=False)[psu].nunique()
    mapping: dict[object, object] = {}
    for (g, unit), s in sizes.groupby(level=[0, 1], sort=True, dropna=False):
        s = s.droplevel([0, 1])
        lonely = s[s == 1].index
        others = s[s > 1]
        if others.empty:
            continue
        # Largest other stratum; sort_index first so ties go to the smaller id.
        target = others.sort_index().idxmax()
        for h in lonely:
            mapping[(g, unit, h)] = target
    if mapping:
        keys = list(zip(out[group], out[within], out[strata], strict=True))
        out[strata] = pd.Series(
            [mapping.get(k, k[2]) for k in keys], index=out.index, dtype=out[strata].dtype
        )
    return out


def _cell_estimate(
    y: np.ndarray,
    in_domain: np.ndarray,
    w: np.ndarray,
    psu: np.ndarray,
    strata: np.ndarray,
    level: float,
) -> dict[str, float]:
    d = in_domain.astype(float)
    wd = w * d
    total = wd.sum()
    if total <= 0:
        return {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    y0 = np.where(in_domain, y, 0.0)
    est = float((wd * y0).sum() / total)
    resid = np.where(in_domain, y0 - est, 0.0)
    cov = design_based(d[:, None], resid, weights=w, psu=psu, strata=strata)
    se = float(np.sqrt(cov.vcov[0, 0]))
    df = cov.df
    if df is None or df < 1:
        return {"estimate": est, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "df": df}
    q = t_quantile(level, df)
    return {"estimate": est, "se": se, "ci_low": est - q * se, "ci_high": est + q * se, "df": df}


def korn_graubard(
    estimate: float, se: float, n: int, df: float, level: float = 0.95
) -> tuple[float, float]:
    """Korn–Graubard (1998) interval of a proportion from a complex sample.

    Clopper–Pearson on the design-effective sample size
    n* = p(1 − p)/SE² · (t_{n−1} / t_df)², n* = n when SE = 0 (p̂ = 0 or 1), as
    R ``svyciprop(method = "beta")``. Unlike the Wald interval it stays inside
    [0, 1] and is not empty at p̂ = 0 or 1.
    """
    if not (np.isfinite(estimate) and np.isfinite(se)) or n < 1 or not df or df < 1:
        return np.nan, np.nan
    alpha = 1 - level
    if se <= 0:
        n_eff = float(n)
    else:
        n_eff = estimate * (1 - estimate) / se**2
        if n > 1:
            n_eff *= (t_quantile(level, n - 1) / t_quantile(level, df)) ** 2
        n_eff = max(n_eff, 1.0)
    x = estimate * n_eff
    low = 0.0 if x <= 0 else beta_ppf(alpha / 2, x, n_eff - x + 1)
    high = 1.0 if x >= n_eff else beta_ppf(1 - alpha / 2, x + 1, n_eff - x)
    return low, high


def weighted_prevalence(
    frame: pd.DataFrame,
    outcomes: str | Sequence[str],
    *,
    by: Sequence[str] = ("round", "area"),
    weight: str = "weight",
    psu: str = "psu",
    strata: str = "strata",
    level: float = 0.95,
    clip: bool = True,
    ci: str = "wald",
) -> pd.DataFrame:
    """Weighted prevalence (mean) per cell with a design-based confidence interval.

    ȳ_c = Σ w_i y_i / Σ w_i over respondents of cell ``c`` with a non-missing outcome;
    SE by Taylor linearisation of the ratio (strata + PSU, single-PSU strata per
    :func:`~sahel_eval.stats.covariance.design_based`), CI ȳ ± t(#PSU − #strata)·SE,
    #PSU and #strata counted within the cell.

    Parameters
    ----------
    frame
        Canonical survey table (one row per respondent).
    outcomes
        One or more 0/1 (or numeric) outcome columns; missing = not in the domain.
    by
        Cell columns, e.g. ``("round", "area")`` or ``("round", "area", "arm")``.
        Cells should be unions of strata (round, area and arm are): the variance is
        then that of the full design restricted to the cell.
    weight, psu, strata
        Design columns.
    level
        Confidence level.
    clip
        Clip the Wald CI of a 0/1 outcome to [0, 1].
    ci
        ``"wald"`` (ȳ ± t·SE) or ``"korn_graubard"`` (:func:`korn_graubard`, for 0/1
        outcomes; better near 0 and 1 and in small cells).

    Returns
    -------
    pandas.DataFrame
        ``*by, outcome, estimate, se, ci_low, ci_high, df, n`` (unweighted respondents
        with the outcome), ``n_psu``, ``weighted_n`` (sum of weights), sorted by cell.
    """
    if ci not in CI_METHODS:
        raise ValueError(f"ci must be one of {CI_METHODS}, got {ci!r}")
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    by = list(by)
    rows = []
    for key, cell in frame.groupby(by, sort=True, dropna=True):
        key = key if isinstance(key, tuple) else (key,)
        w = cell[weight].to_numpy(dtype=float)
        p = cell[psu].to_numpy()
        h = cell[strata].to_numpy()
        for outcome in outcomes:
            y = cell[outcome].to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(y)
            res = {"df": np.nan, **_cell_estimate(y, ok, w, p, h, level)}
            binary = bool(ok.any()) and bool(np.isin(y[ok], (0.0, 1.0)).all())
            if ci == "korn_graubard":
                if ok.any() and not binary:
                    raise ValueError(f"korn_graubard needs a 0/1 outcome; {outcome} is not")
                res["ci_low"], res["ci_high"] = korn_graubard(
                    res["estimate"], res["se"], int(ok.sum()), res["df"], level
                )
            elif clip and binary:
                res["ci_low"] = max(0.0, res["ci_low"]) if np.isfinite(res["ci_low"]) else np.nan
                res["ci_high"] = min(1.0, res["ci_high"]) if np.isfinite(res["ci_high"]) else np.nan
            rows.append(
                {
                    **dict(zip(by, key, strict=True)),
                    "outcome": outcome,
                    **{c: res[c] for c in (*_ESTIMATE_COLUMNS, "df")},
                    "n": int(ok.sum()),
                    "n_psu": int(pd.Series(p[ok]).nunique()),
                    "weighted_n": float(w[ok].sum()),
                }
            )
    columns = [*by, "outcome", *_ESTIMATE_COLUMNS, "df", "n", "n_psu", "weighted_n"]
    return pd.DataFrame(rows, columns=columns)


def suppress_small_cells(
    table: pd.DataFrame,
    *,
    k: int = 5,
    n: str = "n",
    columns: Sequence[str] = (*_ESTIMATE_COLUMNS, "weighted_n"),
) -> pd.DataFrame:
    """Blank the estimates of cells from fewer than ``k`` unweighted respondents.

    DESIGN §9: survey cells from fewer than k respondents are not shown, because an
    estimate from a handful of people is both unstable and close to disclosing them.
    The count itself stays so a reader sees why the cell is empty.

    Parameters
    ----------
    table
        Output of :func:`weighted_prevalence` (or any table with an ``n`` column).
    k
        Smallest number of respondents shown (config ``reporting.small_cell_k``).
    columns
        Columns blanked in a suppressed cell (those present are used).

    Returns
    -------
    pandas.DataFrame
        A copy with a boolean ``suppressed`` column and the blanked values missing.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    out = table.copy()
    small = out[n].fillna(0) < k
    out["suppressed"] = small.astype(bool)
    for col in columns:
        if col in out.columns:
            out[col] = out[col].astype(float).mask(small)
    return out


def survey_cells(
    surveys: Mapping[str, pd.DataFrame],
    outcomes: Sequence[str],
    area: str,
    *,
    k: int,
    level: float = 0.95,
) -> pd.DataFrame:
    """Weighted prevalence of each survey outcome by round and arm, small cells blanked.

    Parameters
    ----------
    surveys
        Canonical survey tables by unit (``results/clean/survey_{unit}.parquet``).
    outcomes
        0/1 outcome columns; each must be in exactly one table.
    area
        Area key; rows of other areas are dropped.
    k
        Cells from fewer than ``k`` unweighted respondents are suppressed.
    """
    parts = []
    for outcome in outcomes:
        hits = [u for u, t in surveys.items() if outcome in t.columns]
        if len(hits) != 1:
            raise ValueError(
                f"survey outcome {outcome!r} is in {hits or 'none'} of the survey tables "
                f"{sorted(surveys)}; it must be in exactly one"
            )
        frame = surveys[hits[0]]
        frame = frame[frame["area"] == area]
        cells = weighted_prevalence(
            frame, outcome, by=("year", "arm"), level=level, ci="korn_graubard"
        )
        parts.append(cells.assign(unit=hits[0]))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if out.empty:
        return out
    out = suppress_small_cells(out, k=k)
    cols = ["outcome", "unit", "year", "arm", "n", "n_psu", "suppressed", "estimate", "se"]
    return out[[*cols, "ci_low", "ci_high", "weighted_n"]]
