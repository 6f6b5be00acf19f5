"""Placebo refits of the static TWFE and the event study (randomisation inference).

A placebo assignment moves cluster start dates, so only the regressors change, and they
are indicator columns: D_it, or one column per event-time bin.  The outcome is within
transformed once; per assignment the normal equations come from weight sums
(:meth:`~sahel_eval.stats.linear.TwoWayWithin.indicator_gram` for ``X̃'WX̃``, and
``X̃'Wỹ = X'Wỹ`` because ỹ is already orthogonal to the unit and period effects), so
no rows × terms matrix is formed or factorised.  Equal to least squares on the
within-transformed columns up to rounding (≈ 1e-13 of the largest coefficient on the
national panels; ``tests/did/test_twfe_placebo.py``); a placebo whose Gram is
near-singular (an empty bin, a regressor the effects absorb) takes that reference path,
so its minimum-norm solution is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sahel_eval.stats.linear import TwoWayWithin

__all__ = ["Codes", "PlaceboRefit", "event_time_codes", "indicator_columns", "treated_codes"]

#: Smallest eigenvalue of X̃'WX̃, as a share of the largest column weight of X, below
#: which the normal equations are not trusted (cond(X̃) ≳ 1e4): the reference path.
_RCOND = 1e-8

#: ``(time per row, placebo start per row) -> term code per row`` (−1: no indicator).
Codes = Callable[[np.ndarray, np.ndarray], np.ndarray]


def treated_codes(time: np.ndarray, start: np.ndarray) -> np.ndarray:
    """D_it = 1[t ≥ start] as codes: 0 treated, −1 not (NaN start: never treated)."""
    return np.where(time >= start, 0, -1)


def event_time_codes(leads: int, lags: int, ref: int) -> Codes:
    """Per row the index of its event-time term in :func:`~sahel_eval.did.event_study.event_study`.

    bin(t − G) = min(max(t − G, −leads), lags); ``ref`` and never-treated rows (G NaN
    or ≤ 0) have no term (−1).
    """
    bins = np.arange(-leads, lags + 1)
    term = np.where(bins < ref, bins + leads, bins + leads - 1)
    term[bins == ref] = -1

    def codes(time: np.ndarray, start: np.ndarray) -> np.ndarray:
        e = np.clip(time - np.where(start > 0, start, np.nan), -leads, lags)
        # A non-integer event time matches no bin (as the == of the indicator columns).
        hit = e == np.floor(e)
        return np.where(hit, term[np.where(hit, e + leads, 0).astype(int)], -1)

    return codes


def indicator_columns(codes: np.ndarray, k: int) -> np.ndarray:
    """The k indicator columns ``X_rj = 1[codes_r = j]`` (rows × k, float)."""
    return (codes[:, None] == np.arange(k)).astype(float)


class PlaceboRefit:
    """β̂ of the indicator terms of a TWFE fit for a placebo cluster → start assignment.

    Parameters
    ----------
    within
        The weighted unit + period within transformation of the estimation sample.
    y, weights
        Outcome and WLS weights (or None) per row.
    time, clusters
        Period (numeric) and assignment cluster label per row.
    codes, k
        Row → term code (:func:`treated_codes`, :func:`event_time_codes`) and the number
        of terms.
    """

    def __init__(
        self,
        within: TwoWayWithin,
        y: np.ndarray,
        weights: np.ndarray | None,
        *,
        time: np.ndarray,
        clusters: np.ndarray,
        codes: Codes,
        k: int,
    ) -> None:
        self._within, self._w, self._time, self._codes, self._k = within, weights, time, codes, k
        self._cluster_codes, self._levels = pd.factorize(clusters, sort=True)
        self._yt = within.residuals(y)
        self._wy = self._yt if weights is None else self._yt * weights

    def __call__(self, assign: pd.Series) -> np.ndarray:
        """β̂ (k,) under ``assign`` (index = cluster, value = start, NaN = never)."""
        start = assign.reindex(self._levels).to_numpy(dtype=float)[self._cluster_codes]
        codes = self._codes(self._time, start)
        on = codes >= 0
        gram = self._within.indicator_gram(codes, self._k)
        rhs = np.bincount(codes[on], self._wy[on], minlength=self._k)
        raw = np.bincount(codes[on], None if self._w is None else self._w[on], self._k)
        if np.linalg.eigvalsh(gram)[0] > _RCOND * raw.max(initial=0.0):
            return np.linalg.solve(gram, rhs)
        return self.reference(codes)

    def reference(self, codes: np.ndarray) -> np.ndarray:
        """β̂ by minimum-norm least squares on the within-transformed indicator columns."""
        sw = np.ones(len(codes)) if self._w is None else np.sqrt(self._w)
        x = self._within.residuals(indicator_columns(codes, self._k)) * sw[:, None]
        return np.linalg.lstsq(x, self._yt * sw, rcond=None)[0]
