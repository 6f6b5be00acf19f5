"""Tidy tables of Callaway–Sant'Anna fits and their standard errors.

Every reported quantity is ``basis @ coef`` for a coefficient vector on the
influence-function basis of the fit, so its standard error is a quadratic form of the
Gram matrix (analytic) or the spread of the stored multiplier-bootstrap draws, with the
sup-t critical value of the uniform band (:mod:`sahel_eval.did.inference.multiplier`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sahel_eval.did.inference.multiplier import SE_ZERO, bootstrap_inference
from sahel_eval.stats.distributions import norm_ppf, norm_sf

if TYPE_CHECKING:
    from sahel_eval.did.cs.model import AttGtResult

_TABLE_COLUMNS = (
    "term",
    "group",
    "time",
    "event_time",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "band_low",
    "band_high",
)


def _pvalue(est: float | np.ndarray, se: float | np.ndarray) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 2 * norm_sf(np.abs(np.asarray(est) / np.asarray(se)))


def _se_from_coef(
    res: AttGtResult, coef: np.ndarray, level: float, band_cols: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Standard errors of ``basis @ coef`` and the sup-t critical value over ``band_cols``."""
    n = res.n_units
    if res._draws is None:
        # One BLAS product, then column sums: a three-operand einsum loops in C over
        # cells² × rows without BLAS (most of an aggregation's time at national scale).
        var = np.einsum("ij,ij->j", coef, res._gram @ coef)
        se = np.sqrt(np.maximum(var, 0.0)) / n
        se = np.where(se > SE_ZERO, se, np.nan)
        return se, float("nan")
    d = res._draws @ coef
    se, _ = bootstrap_inference(d, level)
    cols = np.arange(coef.shape[1]) if band_cols is None else band_cols
    _, crit = bootstrap_inference(d[:, cols], level) if cols.size else (None, float("nan"))
    return se, crit


def _tidy(
    *,
    terms: list[str],
    est: np.ndarray,
    se: np.ndarray,
    crit: float,
    level: float,
    group: np.ndarray,
    time: np.ndarray,
    event_time: np.ndarray,
    band_rows: np.ndarray | None = None,
    extra: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    z = norm_ppf(0.5 + level / 2)
    band = np.full(len(est), np.nan)
    if np.isfinite(crit):
        band = np.full(len(est), crit)
        if band_rows is not None:
            band[~band_rows] = np.nan
    table = pd.DataFrame(
        {
            "term": terms,
            "group": group,
            "time": time,
            "event_time": event_time,
            "estimate": est,
            "se": se,
            "ci_low": est - z * se,
            "ci_high": est + z * se,
            "p": _pvalue(est, se),
            "band_low": est - band * se,
            "band_high": est + band * se,
        }
    )
    for k, v in (extra or {}).items():
        table[k] = v
    return table
