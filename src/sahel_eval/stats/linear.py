"""Weighted least squares with absorbed unit (and period) fixed effects.

Shared by the TWFE, event-study and 2×2 estimators and by the wild bootstrap, so all of
them see the same transformed design.  The model is

    y_it = α_i [+ λ_t] + x_it'β + ε_it   (weights w_it),

estimated exactly (FWL, no iterative demeaning) by the weighted within transformation
in α_i (:func:`demean`) or in α_i and λ_t (:class:`TwoWayWithin`: exact in unbalanced
panels through the (T−1)-sized normal equations of the period effects).  The wild
bootstrap needs its absorbed effects nested in the clusters, so for it the period
effects stay explicit dummy columns of ``x``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sahel_eval.compiled import compiled
from sahel_eval.stats.covariance import fe_parameter_count, is_nested

__all__ = ["LinearDesign", "TwoWayWithin", "demean"]

#: Eigenvalues of the period-effect Gram below this share of the largest are treated as
#: zero: the projection is onto the span of the period dummies whatever its rank.
_RANK_RTOL = 1e-10


def demean(values: np.ndarray, codes: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Subtract the (weighted) mean of each group from every column of ``values``."""
    values = np.asarray(values, dtype=float)
    two_d = values.ndim == 2
    v = values if two_d else values[:, None]
    w = np.ones(len(codes)) if weights is None else np.asarray(weights, dtype=float)
    n_groups = int(codes.max()) + 1
    sums = np.zeros((n_groups, v.shape[1]))
    np.add.at(sums, codes, v * w[:, None])
    totals = np.bincount(codes, weights=w, minlength=n_groups)
    out = v - (sums / totals[:, None])[codes]
    return out if two_d else out[:, 0]


class TwoWayWithin:
    """Weighted residuals of columns on unit and period effects, exact when unbalanced.

    ``M v = v̈ − Z̈ (Z̈'WZ̈)⁺ Z̈'Wv̈`` with v̈ the (weighted) unit-demeaned column and Z̈ the
    unit-demeaned dummies of periods 2..T.  ``Z̈'WZ̈ = diag(c) − O' diag(1/n_i) O``
    (O the units × periods weight sums, c their column sums, n_i the row sums),
    ``Z̈'Wv̈ = Z'Wv̈`` (period sums) and ``Z̈γ`` is γ_t minus its unit mean, so every
    step costs O(rows) per column plus one (T−1) × (T−1) eigen-decomposition: no
    rows × T dummy matrix is formed or factorised.  ``rank`` is the rank of the
    period effects beyond the unit effects (T − 1 when every period is identified).
    """

    def __init__(
        self, unit_codes: np.ndarray, t_codes: np.ndarray, weights: np.ndarray | None = None
    ) -> None:
        self._u, self._t = unit_codes, t_codes
        self._w = None if weights is None else np.asarray(weights, dtype=float)
        self._nu = int(unit_codes.max()) + 1
        self._nt = int(t_codes.max()) + 1
        cells = np.bincount(
            unit_codes * self._nt + t_codes, weights=self._w, minlength=self._nu * self._nt
        )
        self._obs = cells.reshape(self._nu, self._nt).astype(float)
        self._n_i = self._obs.sum(axis=1)
        gram = np.diag(self._obs.sum(axis=0)) - self._obs.T @ (self._obs / self._n_i[:, None])
        vals, vecs = np.linalg.eigh(gram[1:, 1:])
        keep = vals > _RANK_RTOL * max(float(vals.max(initial=0.0)), 0.0)
        self.rank = int(keep.sum())
        self._pinv = (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T

    def _sums(self, codes: np.ndarray, n: int, v: np.ndarray) -> np.ndarray:
        m = v.shape[1]
        vw = v if self._w is None else v * self._w[:, None]
        flat = (codes[:, None] * m + np.arange(m)[None, :]).ravel()
        return np.bincount(flat, vw.ravel(), minlength=n * m).reshape(n, m)

    def residuals(self, v: np.ndarray) -> np.ndarray:
        """Residuals of every column of ``v`` (rows × columns, or one column)."""
        v = np.asarray(v, dtype=float)
        cols = v if v.ndim == 2 else v[:, None]
        dm = cols - (self._sums(self._u, self._nu, cols) / self._n_i[:, None])[self._u]
        gamma = np.zeros((self._nt, cols.shape[1]))
        gamma[1:] = self._pinv @ self._sums(self._t, self._nt, dm)[1:]
        fitted = gamma[self._t] - ((self._obs @ gamma) / self._n_i[:, None])[self._u]
        out = dm - fitted
        return out if v.ndim == 2 else out[:, 0]

    def onset_residuals(self, time: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """:meth:`residuals` of the onset columns ``X_ra = 1[time_r ≥ starts[a, unit_r]]``.

        ``starts`` is assignments × units (unit codes' order; NaN: never, a column of
        zeros).  The same operations in the same order as :meth:`residuals` on the
        formed columns, so the same bits, but the unit and period sums and the
        transformed columns come from one compiled pass each (:func:`_onset_kernel`)
        instead of rows × assignments temporaries.
        """
        w = np.ones(len(self._u)) if self._w is None else self._w
        # A weight of 1 changes no bit: the unweighted sums are those of residuals().
        out, period = _onset_kernel()(
            self._u, self._t, np.asarray(time, dtype=float), starts, w, self._n_i, self._nt
        )
        gamma = np.zeros((self._nt, starts.shape[0]))
        gamma[1:] = self._pinv @ period[1:]
        _onset_finish_kernel()(
            out, self._u, self._t, gamma, (self._obs @ gamma) / self._n_i[:, None]
        )
        return out

    def indicator_gram(self, codes: np.ndarray, k: int) -> np.ndarray:
        """``X̃'WX̃`` of the k indicator columns ``X_rj = 1[codes_r = j]`` (−1: in none).

        From the units × k and periods × k weight sums of X alone, so no rows × k
        matrix is formed: with U those unit sums and n_i the unit weights,
        ``Ẍ'WẌ = diag(Σ_i U_i) − U' diag(1/n_i) U`` and ``Z̈'WẌ`` = period sums of X
        minus ``O' diag(1/n_i) U``; the period part subtracts
        ``(Z̈'WẌ)' (Z̈'WZ̈)⁺ (Z̈'WẌ)`` as :meth:`residuals` does.
        """
        on = codes >= 0
        c = codes[on]
        w = None if self._w is None else self._w[on]
        unit = np.bincount(self._u[on] * k + c, w, minlength=self._nu * k).reshape(self._nu, k)
        period = np.bincount(self._t[on] * k + c, w, minlength=self._nt * k)
        unit_mean = unit / self._n_i[:, None]
        zx = (period.reshape(self._nt, k) - self._obs.T @ unit_mean)[1:]
        return np.diag(unit.sum(axis=0)) - unit.T @ unit_mean - zx.T @ (self._pinv @ zx)


def _onset_pass(
    unit: np.ndarray,
    period: np.ndarray,
    time: np.ndarray,
    starts: np.ndarray,
    w: np.ndarray,
    n_i: np.ndarray,
    n_periods: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Unit-demeaned onset columns (rows × assignments) and their weighted period sums.

    Each sum runs over the rows in order, as ``np.bincount`` does in
    :meth:`TwoWayWithin.residuals`; a row's value is formed by the same operations.
    """
    n, m = len(unit), starts.shape[0]
    unit_sum = np.zeros((len(n_i), m))
    for r in range(n):
        i = unit[r]
        for a in range(m):
            unit_sum[i, a] += (1.0 if time[r] >= starts[a, i] else 0.0) * w[r]
    mean = unit_sum / n_i.reshape(-1, 1)
    out = np.empty((n, m))
    period_sum = np.zeros((n_periods, m))
    for r in range(n):
        i, t = unit[r], period[r]
        for a in range(m):
            d = (1.0 if time[r] >= starts[a, i] else 0.0) - mean[i, a]
            out[r, a] = d
            period_sum[t, a] += d * w[r]
    return out, period_sum


def _onset_finish(
    out: np.ndarray, unit: np.ndarray, period: np.ndarray, gamma: np.ndarray, unit_mean: np.ndarray
) -> None:
    """``out −= γ_t − (unit mean of γ)_i`` in place (:meth:`TwoWayWithin.residuals`)."""
    for r in range(out.shape[0]):
        i, t = unit[r], period[r]
        for a in range(out.shape[1]):
            out[r, a] = out[r, a] - (gamma[t, a] - unit_mean[i, a])


_onset_kernel = compiled(_onset_pass)
_onset_finish_kernel = compiled(_onset_finish)


@dataclass
class LinearDesign:
    """A (within-transformed) WLS problem: the common input of every variance estimator.

    Attributes
    ----------
    y, x
        Outcome and regressors after absorbing ``absorbed`` (weighted within transform).
    names
        Column names of ``x``.
    weights
        WLS weights or ``None``.
    absorbed
        Label arrays of the absorbed fixed-effect dimensions (units, and periods when
        :class:`TwoWayWithin` absorbed them); used to count K and to check nesting in
        the clusters.
    """

    y: np.ndarray
    x: np.ndarray
    names: list[str]
    weights: np.ndarray | None = None
    absorbed: list[np.ndarray] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        y: np.ndarray,
        x: np.ndarray,
        names: list[str],
        *,
        weights: np.ndarray | None = None,
        absorb: np.ndarray | None = None,
    ) -> LinearDesign:
        """Apply the within transformation in ``absorb`` (if given) and wrap the result."""
        y = np.asarray(y, dtype=float)
        x = np.asarray(x, dtype=float)
        if absorb is None:
            return cls(y, x, list(names), weights, [])
        codes = pd.factorize(np.asarray(absorb), sort=True)[0]
        return cls(
            demean(y, codes, weights),
            demean(x, codes, weights),
            list(names),
            weights,
            [np.asarray(absorb)],
        )

    @property
    def n(self) -> int:
        """Number of observations."""
        return len(self.y)

    def sqrt_weighted(self) -> tuple[np.ndarray, np.ndarray]:
        """``(√w·y, √w·x)``: the OLS problem equivalent to the WLS one."""
        if self.weights is None:
            return self.y, self.x
        sw = np.sqrt(self.weights)
        return self.y * sw, self.x * sw[:, None]

    def solve(self) -> tuple[np.ndarray, np.ndarray]:
        """β̂ and the residuals y − xβ̂ (unweighted scale)."""
        beta, resid, _ = self.solve_with_rank()
        return beta, resid

    def solve_with_rank(self) -> tuple[np.ndarray, np.ndarray, int]:
        """β̂, the residuals and the rank of √w·x.

        The rank is least squares' own (singular values above ``max(N, K)·eps`` times
        the largest, ``np.linalg.matrix_rank``'s default tolerance), so no second
        decomposition is needed to refuse an unidentified fit.
        """
        ya, xa = self.sqrt_weighted()
        beta, _, rank, _ = np.linalg.lstsq(xa, ya, rcond=None)
        return beta, self.y - self.x @ beta, int(rank)

    def k(self, clusters: np.ndarray | None) -> int:
        """K of the small-sample factors: columns of x plus counted absorbed effects."""
        return self.x.shape[1] + fe_parameter_count(self.absorbed, clusters)

    def absorbed_nested_in(self, clusters: np.ndarray) -> bool:
        """Whether every absorbed dimension is nested in ``clusters``."""
        return all(is_nested(a, clusters) for a in self.absorbed)


def estimation_sample(
    df: pd.DataFrame, columns: list[str], *, weights: str | None = None
) -> tuple[pd.DataFrame, int]:
    """Rows complete in ``columns`` (never zero-filled) and the number dropped.

    Raises a ValueError naming the column when a column is absent or a weight is not
    positive.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"columns {missing} not in the data (have {list(df.columns)})")
    keep = df[columns].notna().all(axis=1)
    data = df.loc[keep, columns].reset_index(drop=True)
    if weights is not None and (data[weights] <= 0).any():
        bad = int((data[weights] <= 0).sum())
        raise ValueError(
            f"weight column {weights!r} has {bad} non-positive values; "
            "drop those rows or fix the weights"
        )
    return data, int((~keep).sum())
