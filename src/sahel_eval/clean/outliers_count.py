"""Outliers in counts by their tail probability, per facility × indicator (DESIGN §5).

Small counts defeat any z-score: a CSCOM with 3 deliveries in a usual month and 9 in
this one has a huge modified z-score, yet 9 is ordinary Poisson noise around 3. The
rule here asks instead how surprising each value is under the facility's own usual
level, with the dispersion the facility's counts really have:

1. **Level.** The running median of the facility's values over a centred window of
   ``window_months`` months (at least ``min_values`` of them present; otherwise the
   series' median). A median follows the steps a programme or a mutual's launch
   makes, so a real rise is not mistaken for an error, and a ×10 typing error (rare)
   does not move it. Seasonal indicators multiply that level by the facility's
   calendar-month factor: the median over the years of log(1 + x) − log(1 + level) for
   that month, when seen in at least ``min_seasonal_years`` years.
2. **Dispersion.** Negative binomial, variance μ + α·μ². α from the robust spread of the
   relative residuals (x − μ)/μ (1.4826 · MAD, whose square estimates 1/μ + α), less
   the Poisson part (the median of 1/μ), never below ``min_dispersion`` — so the errors
   being sought do not inflate it.
3. **Test.** p = P(X ≥ x) under NB(μ, α) (also P(X ≤ x) when two-sided); Benjamini–
   Hochberg over the facility's months of that indicator; flagged when the adjusted p
   is ≤ ``fdr_q``. Series with fewer than ``min_values`` values are not scored.

The score written is −log10 of the adjusted p (6 means a one-in-a-million value under
the facility's usual level), capped at :data:`SCORE_CAP` = 16: beyond 1e-16 the tail
probability says nothing more (double precision, and the model is not that exact).
``high`` is the largest count that would not have been flagged in that month (the
winsorising bound), ``low`` its lower mirror.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SCORE_CAP", "CountRule", "count_tail_scores"]

MAD_TO_SD = 1.4826
SCORE_CAP = 16.0


@dataclass(frozen=True)
class CountRule:
    """Thresholds of the count rule (config ``dq.outliers.count``; defaults in the schema).

    Attributes
    ----------
    fdr_q
        Benjamini–Hochberg level over one facility × indicator's months.
    min_dispersion
        Smallest negative-binomial α (variance μ + α·μ²).
    window_months
        Width of the centred running median that gives the level.
    min_values
        Fewest values for a level (window) or for a series to be scored at all.
    m_above
        Usual level above which the modified z-score takes over; ``None``: never.
    """

    fdr_q: float
    min_dispersion: float
    window_months: int
    min_values: int
    m_above: float | None


def _running_level(x: pd.Series, codes: np.ndarray, rule: CountRule) -> pd.Series:
    # Frame sorted by series then period: rolling per series, back to the frame's order.
    level = (
        x.groupby(codes, sort=False)
        .rolling(rule.window_months, center=True, min_periods=rule.min_values)
        .median()
        .reset_index(level=0, drop=True)
        .reindex(x.index)
    )
    n = x.groupby(codes, sort=False).transform("count")
    level = level.fillna(x.groupby(codes, sort=False).transform("median"))
    return level.where(n >= rule.min_values)


def _bh_adjust(p: pd.Series, codes: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values within each series (NaN stays NaN)."""
    m = p.groupby(codes, sort=False).transform("count").to_numpy()
    rank = p.groupby(codes, sort=False).rank(method="first").to_numpy()
    raw = p.to_numpy() * m / rank
    # Step-up: the running minimum from the largest p down, within each series.
    order = np.lexsort((-np.nan_to_num(rank), codes))
    adj = pd.Series(raw[order]).groupby(codes[order], sort=False).cummin().to_numpy()
    out = np.empty(len(p))
    out[order] = np.minimum(adj, 1.0)
    return np.where(np.isnan(raw), np.nan, out)


def count_tail_scores(
    frame: pd.DataFrame,
    x: pd.Series,
    seasonal: np.ndarray,
    rule: CountRule,
    *,
    sides: str,
    min_seasonal_years: int,
) -> pd.DataFrame:
    """Level, tail probabilities and flags of the count rule.

    Parameters
    ----------
    frame
        ``facility_id, indicator, period`` (YYYYMM), aligned with ``x``.
    x
        The counts scored (NaN skipped).
    seasonal
        Boolean per row: the indicator gets a calendar-month factor.
    rule
        Thresholds.
    sides
        ``"one"`` (high values) or ``"two"``.
    min_seasonal_years
        Fewest years of a calendar month for its own factor.

    Returns
    -------
    pandas.DataFrame
        ``level`` (μ), ``alpha``, ``p`` (tail probability), ``p_adj`` (BH), ``score``
        (−log10 ``p_adj``), ``flag``, ``low`` and ``high`` (bounds of the unflagged
        counts), indexed like ``frame``.
    """
    order, codes, moy = _series_order(frame)
    xs = pd.Series(x.to_numpy(dtype="float64")[order])
    level = _running_level(xs, codes, rule)
    season = np.zeros(len(xs))
    s_rows = seasonal[order]
    if s_rows.any():
        dev = np.log1p(xs.clip(lower=0)) - np.log1p(level)
        grp = [codes, moy]
        factor = dev.groupby(grp, sort=False).transform("median")
        seen = dev.groupby(grp, sort=False).transform("count")
        season = np.where(s_rows, factor.where(seen >= min_seasonal_years, 0.0), 0.0)
    mu = pd.Series(np.expm1(np.log1p(level.to_numpy()) + season), index=xs.index)
    alpha = _dispersion(xs, mu, codes, rule)
    size = 1 / alpha
    mu_v = mu.to_numpy()
    x_v = xs.to_numpy()
    prob = size / (size + np.where(mu_v > 0, mu_v, 1.0))
    scored = ~np.isnan(x_v) & ~np.isnan(mu_v)
    p = _tail_probability(x_v, mu_v, size, prob, sides)
    p = pd.Series(np.where(scored, p, np.nan), index=xs.index)
    p_adj = _bh_adjust(p, codes)
    flag = scored & (np.nan_to_num(p_adj, nan=1.0) <= rule.fdr_q)

    # Bounds at the series' BH cut-off: q·k/m with k flagged of m scored (k = 0: q/m).
    m = p.groupby(codes, sort=False).transform("count").to_numpy()
    k = pd.Series(flag).groupby(codes, sort=False).transform("sum").to_numpy()
    cut = rule.fdr_q * np.maximum(k, 1) / np.maximum(m, 1)
    if sides == "two":
        cut = cut / 2
    low, high = _bounds(cut, mu_v, size, prob)
    score = -np.log10(np.clip(p_adj, 10.0**-SCORE_CAP, None))
    columns = {
        "level": mu_v,
        "alpha": alpha,
        "p": p.to_numpy(),
        "p_adj": p_adj,
        "score": np.where(scored, score, np.nan),
        "flag": flag,
        "low": np.where(scored, low, np.nan),
        "high": np.where(scored, high, np.nan),
    }
    # Back to the frame's row order by position; copy=False keeps one array per column
    # (a consolidated block would copy them all once more).
    return pd.DataFrame(
        {name: _unsort(values, order) for name, values in columns.items()},
        index=frame.index,
        copy=False,
    )


def _series_order(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows by facility, indicator, period; series ids and calendar months in that order.

    Integer codes (factorised in sorted order) sort as the texts do, without turning
    three text columns of the whole grid into Python strings.
    """
    fac, _ = pd.factorize(frame["facility_id"].astype("str"), sort=True)
    ind, indicators = pd.factorize(frame["indicator"].astype("str"), sort=True)
    per, periods = pd.factorize(frame["period"].astype("str"), sort=True)
    order = np.lexsort((per, ind, fac))
    codes = pd.factorize(fac[order].astype(np.int64) * len(indicators) + ind[order])[0]
    month_of_year = pd.factorize(periods.str[4:6])[0]
    return order, codes, month_of_year[per[order]]


def _dispersion(xs: pd.Series, mu: pd.Series, codes: np.ndarray, rule: CountRule) -> np.ndarray:
    """Negative-binomial α per row: robust spread of (x − μ)/μ less its Poisson part."""
    rel = (xs - mu) / mu.where(mu > 0)
    spread = (rel - rel.groupby(codes, sort=False).transform("median")).abs()
    mad = spread.groupby(codes, sort=False).transform("median")
    poisson = (1 / mu.where(mu > 0)).groupby(codes, sort=False).transform("median")
    alpha = np.maximum(rule.min_dispersion, ((MAD_TO_SD * mad) ** 2 - poisson).fillna(0.0))
    return alpha.to_numpy()


def _tail_probability(
    x: np.ndarray, mu: np.ndarray, size: np.ndarray, prob: np.ndarray, sides: str
) -> np.ndarray:
    """P(X ≥ x) under NB(μ, α), or the two-sided probability (scored rows or not)."""
    from scipy import stats  # here: scipy.stats costs 1.3 s to import, reports need none

    with np.errstate(invalid="ignore"):
        upper = stats.nbinom.sf(x - 1, size, prob)
        # A zero level: any positive count is impossible under it, a zero certain.
        upper = np.where(mu > 0, upper, np.where(x > 0, 0.0, 1.0))
        if sides != "two":
            return upper
        lower = stats.nbinom.cdf(x, size, prob)
    lower = np.where(mu > 0, lower, 1.0)
    return np.minimum(1.0, 2 * np.minimum(upper, lower))


def _bounds(
    cut: np.ndarray, mu: np.ndarray, size: np.ndarray, prob: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest unflagged counts at the tail probability ``cut``."""
    from scipy import stats  # here: scipy.stats costs 1.3 s to import, reports need none

    with np.errstate(invalid="ignore"):
        high = np.where(mu > 0, stats.nbinom.isf(cut, size, prob), 0.0)
        low = np.where(mu > 0, stats.nbinom.ppf(cut, size, prob), 0.0)
    return low, high


def _unsort(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``values`` (rows in ``order``) put back at the rows' original positions."""
    out = np.empty_like(values)
    out[order] = values
    return out
