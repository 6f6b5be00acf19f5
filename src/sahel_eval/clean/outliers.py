"""Outliers by the modified z-score, per facility × indicator (DESIGN §5).

Plain (WHO Data Quality Tool) version, on the values x of one facility and indicator::

    M = 0.6745 · (x − median) / MAD,                  MAD = median |x − median|
    M = (x − median) / (1.253314 · meanAD)   if MAD = 0, meanAD = mean |x − median|

(both are (x − median) / scale with the scale a consistent estimate of the standard
deviation under normality); M = 0 when every value equals the median.

Seasonal indicators use the same score on seasonally adjusted values
``r = log(1 + x) − median of log(1 + x) over the facility's same calendar month``
(other years), because a malaria peak three times the base level would otherwise be
flagged every rainy season. A calendar month seen fewer than ``min_seasonal_years``
times falls back to the facility's overall median of log(1 + x).

A value is an outlier when M ≥ threshold (default 3.5). One-sided (high values only)
by default: typing errors inflate counts, while drops are real events (strikes,
violence, COVID-19) that later stages measure. ``sides="two"`` also flags M ≤ −threshold.

Treatment (config ``dq.treatment``): ``flag`` keeps the value; ``set_missing`` makes
it missing; ``winsorise`` replaces it by the threshold bound (back-transformed from the
log scale for seasonal indicators; never below zero).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_SEASONAL",
    "outlier_median",
    "MAD_TO_SD",
    "MEANAD_TO_SD",
    "flag_outliers",
    "modified_zscore",
    "treat_outliers",
]

MAD_TO_SD = 1 / 0.6745
MEANAD_TO_SD = 1.253314
DEFAULT_SEASONAL = ("malaria_confirmed", "consultations_all", "consultations_u5")
TREATMENTS = ("flag", "set_missing", "winsorise")


def modified_zscore(x: pd.Series, keys: list[pd.Series]) -> pd.DataFrame:
    """Modified z-score of ``x`` within the groups given by ``keys``.

    Parameters
    ----------
    x
        Values (NaN ignored and scored NaN).
    keys
        Grouping series aligned with ``x`` (e.g. facility and indicator).

    Returns
    -------
    pandas.DataFrame
        ``center`` (group median), ``scale`` (MAD / 0.6745, or 1.253314 · meanAD
        when MAD = 0) and ``m`` = (x − center) / scale (0 when scale = 0, since then
        every value equals the median).
    """
    center = x.groupby(keys, sort=False, dropna=False).transform("median")
    dev = (x - center).abs()
    mad = dev.groupby(keys, sort=False, dropna=False).transform("median")
    mean_ad = dev.groupby(keys, sort=False, dropna=False).transform("mean")
    scale = np.where(mad > 0, mad * MAD_TO_SD, mean_ad * MEANAD_TO_SD)
    diff = (x - center).to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(scale > 0, diff / scale, np.where(np.isnan(diff), np.nan, 0.0))
    return pd.DataFrame({"center": center, "scale": scale, "m": m}, index=x.index)


def flag_outliers(
    frame: pd.DataFrame,
    *,
    value: str = "value_clean",
    threshold: float = 3.5,
    sides: str = "one",
    seasonal_indicators: Iterable[str] = DEFAULT_SEASONAL,
    seasonal_adjustment: bool = True,
    min_seasonal_years: int = 3,
) -> pd.DataFrame:
    """Score and flag outliers per facility × indicator.

    Parameters
    ----------
    frame
        Long data: ``facility_id, period (YYYYMM), indicator`` and ``value``.
    value
        The column scored (missing values are skipped).
    threshold
        Flag when the score reaches it.
    sides
        ``"one"`` (high values only) or ``"two"``.
    seasonal_indicators
        Indicators scored on seasonally adjusted log values.
    seasonal_adjustment
        ``False`` gives the plain WHO version for every indicator.
    min_seasonal_years
        Fewest values of one calendar month needed for its own seasonal median.

    Returns
    -------
    pandas.DataFrame
        ``frame`` plus ``outlier_score`` (M), ``outlier`` (bool),
        ``outlier_method`` (``seasonal`` / ``plain``), ``outlier_low`` and
        ``outlier_high`` (the values at M = ∓threshold, in the indicator's units).
    """
    if sides not in ("one", "two"):
        raise ValueError(f"sides must be 'one' or 'two', got {sides!r}")
    out = frame.copy()
    x = out[value].astype("float64")
    seasonal = out["indicator"].isin(set(seasonal_indicators)).to_numpy() & seasonal_adjustment
    keys = [out["facility_id"], out["indicator"]]

    # One score column: raw values for plain indicators, adjusted logs for seasonal ones.
    y = x.copy()
    base = pd.Series(0.0, index=out.index)
    if seasonal.any():
        logx = np.log1p(x.clip(lower=0))
        moy = out["period"].astype("str").str[4:6]
        grp = [out["facility_id"], out["indicator"], moy]
        by_month = logx.groupby(grp, sort=False).transform("median")
        n_month = logx.groupby(grp, sort=False).transform("count")
        overall = logx.groupby(keys, sort=False).transform("median")
        season = by_month.where(n_month >= min_seasonal_years, overall)
        y = y.where(~seasonal, logx - season)
        base = base.where(~seasonal, season)
    z = modified_zscore(y, keys)
    m = z["m"].to_numpy()
    flagged = m >= threshold
    if sides == "two":
        flagged |= m <= -threshold
    hi = (z["center"] + threshold * z["scale"]).to_numpy(copy=True)
    lo = (z["center"] - threshold * z["scale"]).to_numpy(copy=True)
    b = base.to_numpy()
    # Seasonal bounds live on the log scale: back to counts for those rows only.
    hi[seasonal] = np.expm1(b[seasonal] + hi[seasonal])
    lo[seasonal] = np.expm1(b[seasonal] + lo[seasonal])
    out["outlier_score"] = m
    out["outlier"] = flagged & ~np.isnan(m)
    out["outlier_method"] = np.where(seasonal, "seasonal", "plain")
    out["outlier_low"] = np.maximum(lo, 0.0)
    out["outlier_high"] = hi
    return out


def treat_outliers(
    frame: pd.DataFrame, treatment: str = "flag", *, value: str = "value_clean"
) -> pd.DataFrame:
    """Apply the configured treatment to flagged values.

    Parameters
    ----------
    frame
        Output of :func:`flag_outliers`.
    treatment
        ``flag``, ``set_missing`` or ``winsorise``.
    value
        The column treated (in place of the copy).

    Returns
    -------
    pandas.DataFrame
        ``frame`` with ``value`` treated and the booleans ``set_missing`` and
        ``winsorised``.
    """
    if treatment not in TREATMENTS:
        raise ValueError(f"treatment must be one of {TREATMENTS}, got {treatment!r}")
    out = frame.copy()
    flagged = out["outlier"].to_numpy(dtype=bool)
    out["set_missing"] = flagged & (treatment == "set_missing")
    out["winsorised"] = flagged & (treatment == "winsorise")
    if treatment == "set_missing":
        out.loc[flagged, value] = np.nan
    elif treatment == "winsorise":
        x = out[value].to_numpy(dtype="float64")
        capped = np.clip(x, out["outlier_low"].to_numpy(), out["outlier_high"].to_numpy())
        out[value] = np.where(flagged, capped, x)
    return out


def outlier_median(outliers: pd.DataFrame, threshold: float) -> pd.Series:
    """The facility's usual level for each flagged value, from the ``outliers`` table.

    On the scoring scale (counts, or log(1 + x) minus the seasonal median)
    ``M = (y − c) / s`` and ``high = c + T·s`` give ``s = (y − high) / (M − T)`` and
    ``c = high − T·s``.

    For ``plain`` scores the median of the facility × indicator values; for
    ``seasonal`` ones the median for the same calendar month (back from the log scale).
    NaN when the score equals the threshold exactly (the two equations coincide) and
    the lower bound was clipped at zero.
    """
    seasonal = (outliers["outlier_method"] == "seasonal").to_numpy()
    x = outliers["value"].to_numpy(dtype="float64")
    hi = outliers["outlier_high"].to_numpy(dtype="float64")
    lo = outliers["outlier_low"].to_numpy(dtype="float64")
    m = outliers["outlier_score"].to_numpy(dtype="float64")
    y = np.where(seasonal, np.log1p(np.clip(x, 0, None)), x)
    yh = np.where(seasonal, np.log1p(hi), hi)
    yl = np.where(seasonal, np.log1p(lo), lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (y - yh) / (m - threshold)
        c = yh - threshold * s
    # Bounds are symmetric around the centre unless the low one was clipped at 0.
    mid = (yh + yl) / 2
    c = np.where(np.isfinite(c), c, np.where(lo > 0, mid, np.nan))
    return pd.Series(np.where(seasonal, np.expm1(c), c), index=outliers.index, name="median")
