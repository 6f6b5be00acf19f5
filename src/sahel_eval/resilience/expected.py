"""Expected volume of care without the shock, from a pre-shock count model (DESIGN §7).

For each series (facility × service × shock) a count model is fitted on its usable
pre-shock months and projected over the shock window:

.. math::

    \\log E[y_t] = \\beta_0 + \\beta_1 t/12
        + \\sum_{k=1}^{2} \\big(\\gamma_k \\sin(2\\pi k m_t/12)
        + \\delta_k \\cos(2\\pi k m_t/12)\\big)
        + \\theta\\, \\text{programme}_t

with ``m_t`` the calendar month (1–12). The trend is in years (``t/12``) so that
``exp(beta_1)`` reads as a yearly growth factor.

The count model (families, batched IRLS, the bootstrap prediction interval) is
:mod:`sahel_eval.resilience.count_model`; the design columns and the usable months
are :mod:`sahel_eval.resilience.design`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from sahel_eval.resilience.count_model import draw_interval, irls
from sahel_eval.resilience.design import COLUMNS, design_matrix

__all__ = ["FAMILIES", "REASONS", "ExpectedFit", "fit_expected"]

#: Reason codes of a "not_assessable" series, in the order they are tested.
REASONS: dict[str, str] = {
    "all_missing": "no usable (reported, pre-shock, outside other shocks) month",
    "short_history": "fewer usable pre-shock months than min_history",
    "no_volume": "every usable pre-shock month is zero",
    "degenerate_design": "usable months do not identify trend and seasonality",
    "not_converged": "IRLS did not converge within max_iter",
}

FAMILIES = ("poisson", "negbin")

# Relative condition number of the usable-month Gram matrix above which trend and
# seasonality are not separately identified (e.g. usable months all in two
# calendar months).
_MAX_CONDITION = 1e10


@dataclass(frozen=True)
class ExpectedFit:
    """Result of :func:`fit_expected` for n series and a window of H months.

    Attributes
    ----------
    family : str
        ``"poisson"`` or ``"negbin"``.
    columns : tuple of str
        Design columns (names of ``params``' last axis).
    status : numpy.ndarray of str, shape (n,)
        ``"ok"`` or ``"not_assessable"``.
    reason : numpy.ndarray of str, shape (n,)
        ``""`` when ok, else a key of :data:`REASONS`.
    n_used : numpy.ndarray of int, shape (n,)
        Usable pre-shock months.
    n_params : numpy.ndarray of int, shape (n,)
        Estimated coefficients (the programme term is dropped where it does not
        vary over the usable months; its coefficient is then 0).
    params : numpy.ndarray, shape (n, p)
        Coefficients (NaN when not assessable).
    cov_unscaled : numpy.ndarray, shape (n, p, p)
        ``(X' W X)^{-1}`` at convergence; the coefficient covariance is
        ``dispersion * cov_unscaled``.
    dispersion : numpy.ndarray, shape (n,)
        Pearson chi2 / (n_used − n_params) for ``"poisson"``; 1 for ``"negbin"``.
    alpha : numpy.ndarray, shape (n,)
        NB2 ``alpha`` (NaN for ``"poisson"``).
    pearson_dispersion : numpy.ndarray, shape (n,)
        Pearson chi2 / (n_used − n_params) under the fitted family (diagnostic).
    n_iter : numpy.ndarray of int, shape (n,)
    expected, lower, upper : numpy.ndarray, shape (n, H)
        Point prediction and prediction-interval bounds over the window (NaN when
        not assessable — read ``status``/``reason``).
    level, n_boot, seed
        Settings of the interval.
    """

    family: str
    columns: tuple[str, ...]
    status: np.ndarray
    reason: np.ndarray
    n_used: np.ndarray
    n_params: np.ndarray
    params: np.ndarray
    cov_unscaled: np.ndarray
    dispersion: np.ndarray
    alpha: np.ndarray
    pearson_dispersion: np.ndarray
    n_iter: np.ndarray
    expected: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    n_boot: int
    seed: int

    @property
    def assessable(self) -> np.ndarray:
        """Boolean (n,) array: the series has an expected volume."""
        return self.status == "ok"

    @property
    def bse(self) -> np.ndarray:
        """Standard errors of ``params``, shape (n, p)."""
        diag = np.diagonal(self.cov_unscaled, axis1=1, axis2=2)
        return np.sqrt(self.dispersion[:, None] * diag)

    def summary_frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        """One row per series: status, reason, sizes, dispersion and coefficients."""
        frame = pd.DataFrame(
            {
                "status": self.status,
                "reason": self.reason,
                "n_used": self.n_used,
                "n_params": self.n_params,
                "dispersion": self.dispersion,
                "alpha": self.alpha,
                "pearson_dispersion": self.pearson_dispersion,
                "n_iter": self.n_iter,
            },
            index=index,
        )
        for j, name in enumerate(self.columns):
            frame[f"coef_{name}"] = self.params[:, j]
        return frame

    def to_frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        """Long table: one row per series × window month ``h`` (0 = onset).

        Parameters
        ----------
        index : pandas.Index, optional
            Labels of the n series (e.g. facility_id, service, shock_id); default
            0 … n−1 under the name ``series``.
        """
        n, horizon = self.expected.shape
        labels = pd.RangeIndex(n, name="series") if index is None else index
        rows = labels.repeat(horizon)
        frame = rows.to_frame(index=False)
        frame["h"] = np.tile(np.arange(horizon), n)
        frame["expected"] = self.expected.ravel()
        frame["lower"] = self.lower.ravel()
        frame["upper"] = self.upper.ravel()
        frame["status"] = np.repeat(self.status, horizon)
        frame["reason"] = np.repeat(self.reason, horizon)
        return frame


def _as_2d(name: str, value: npt.ArrayLike, n: int, width: int, dtype: type) -> np.ndarray:
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 1:
        arr = np.broadcast_to(arr, (n, arr.shape[0]))
    if arr.shape != (n, width):
        raise ValueError(f"{name} must have shape ({width},) or ({n}, {width}); got {arr.shape}")
    return arr


def fit_expected(
    y: npt.ArrayLike,
    usable: npt.ArrayLike,
    t: npt.ArrayLike,
    month_of_year: npt.ArrayLike,
    programme: npt.ArrayLike | None = None,
    *,
    horizon_t: npt.ArrayLike,
    horizon_month_of_year: npt.ArrayLike,
    horizon_programme: npt.ArrayLike | None = None,
    family: str = "poisson",
    min_history: int = 24,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    max_iter: int = 100,
    tol: float = 1e-10,
    chunk_size: int = 1024,
) -> ExpectedFit:
    """Fit the pre-shock model of many series and predict their shock windows.

    Parameters
    ----------
    y : array_like of float, shape (n, T)
        Monthly volumes (clean values) of n series on a common month axis; may be
        NaN where ``usable`` is False.
    usable : array_like of bool, shape (n, T)
        Months to fit on: reported, before the series' onset, outside other shock
        windows (see :func:`pre_shock_mask`).
    t : array_like of int, shape (T,) or (n, T)
        Month index of the columns (1 = first month of the data).
    month_of_year : array_like of int, shape (T,) or (n, T)
        Calendar month (1–12) of the columns.
    programme : array_like of {0, 1}, shape (T,) or (n, T), optional
        Programme exposure; adds a programme term, estimated per series only where
        it varies over the usable months (else dropped, coefficient 0).
    horizon_t, horizon_month_of_year : array_like of int, shape (H,) or (n, H)
        Month index and calendar month of the window months to predict
        (``m0 … m0+H−1``; one row per series when onsets differ).
    horizon_programme : array_like of {0, 1}, shape (H,) or (n, H), optional
        Programme exposure over the window; required when ``programme`` is given.
    family : {"poisson", "negbin"}, default "poisson"
        See the module notes.
    min_history : int, default 24
        Minimum usable months; fewer → ``not_assessable`` / ``short_history``.
    n_boot : int, default 1000
        Bootstrap draws of the prediction interval (0: no interval, NaN bounds).
    level : float, default 0.95
        Coverage of the prediction interval.
    seed : int, default 0
        Series ``i`` uses ``numpy.random.default_rng([seed, i])``.
    max_iter : int, default 100
        IRLS iterations at most.
    tol : float, default 1e-10
        Convergence: largest change of the linear predictor over usable months.
    chunk_size : int, default 1024
        Series fitted per block (bounds memory; does not change any result).

    Returns
    -------
    ExpectedFit
        Per-series status and reason, coefficients, dispersion and window
        predictions. Not-assessable series carry NaN numbers and a reason code, never
        a bare NaN.

    Raises
    ------
    ValueError
        On shape mismatches, unknown family, or negative / non-finite ``y`` in usable
        months (naming the first offending series and columns).
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    y_arr = np.asarray(y, dtype=float)
    if y_arr.ndim != 2:
        raise ValueError(f"y must be 2-D (series × months), got shape {y_arr.shape}")
    n, n_months = y_arr.shape
    use = _as_2d("usable", usable, n, n_months, bool)
    bad = use & ~(np.isfinite(y_arr) & (y_arr >= 0))
    if bad.any():
        rows, cols = np.nonzero(bad)
        raise ValueError(
            "y must be finite and >= 0 in usable months; first offending (series, "
            f"column) pairs: {list(zip(rows[:5].tolist(), cols[:5].tolist(), strict=True))}"
        )
    if programme is not None and horizon_programme is None:
        raise ValueError("horizon_programme is required when programme is given")

    t_fit = _as_2d("t", t, n, n_months, float)
    moy_fit = _as_2d("month_of_year", month_of_year, n, n_months, float)
    prog_fit = None if programme is None else _as_2d("programme", programme, n, n_months, float)
    h_t = np.asarray(horizon_t, dtype=float)
    horizon = h_t.shape[-1]
    h_t = _as_2d("horizon_t", h_t, n, horizon, float)
    h_moy = _as_2d("horizon_month_of_year", horizon_month_of_year, n, horizon, float)
    h_prog = (
        None
        if programme is None
        else _as_2d("horizon_programme", horizon_programme, n, horizon, float)
    )
    columns = COLUMNS + (("programme",) if programme is not None else ())
    p = len(columns)

    n_used = use.sum(axis=1)
    active_cols = np.ones((n, p), dtype=bool)
    if programme is not None:
        prog_used = np.where(use, prog_fit, np.nan)
        with np.errstate(invalid="ignore"):
            varies = np.nanmax(prog_used, axis=1, initial=-1) != np.nanmin(
                prog_used, axis=1, initial=2
            )
        active_cols[:, -1] = varies
    n_params = active_cols.sum(axis=1)

    reason = np.full(n, "", dtype=object)
    reason[(n_used < min_history) & (reason == "")] = "short_history"
    reason[n_used == 0] = "all_missing"
    reason[(reason == "") & (np.where(use, y_arr, 0.0).sum(axis=1) == 0)] = "no_volume"

    params = np.full((n, p), np.nan)
    cov = np.full((n, p, p), np.nan)
    alpha = np.full(n, np.nan)
    n_iter = np.zeros(n, dtype=np.int64)
    dispersion = np.full(n, np.nan)
    pearson = np.full(n, np.nan)
    expected = np.full((n, horizon), np.nan)
    lower = np.full((n, horizon), np.nan)
    upper = np.full((n, horizon), np.nan)

    # Blocks of series bound the memory of the stacked (n, T, p) design; every
    # series is fitted on its own inside a block, so block size changes no result.
    for lo in range(0, n, chunk_size):
        block = slice(lo, min(n, lo + chunk_size))
        rows = np.arange(block.start, block.stop)
        act = active_cols[block]
        # Dropped columns are zeroed here, once, for fitting and prediction alike.
        x = (
            design_matrix(
                t_fit[block], moy_fit[block], None if prog_fit is None else prog_fit[block]
            )
            * act[:, None, :]
        )
        weight = use[block].astype(float)
        y0 = np.where(use[block], y_arr[block], 0.0)

        # Identification check on the unweighted Gram of usable months, columns
        # scaled to unit norm so the condition number measures collinearity only.
        xu = x * weight[:, :, None]
        norms = np.sqrt((xu**2).sum(axis=1))
        xu /= np.where(norms > 0, norms, 1.0)[:, None, :]
        gram = np.swapaxes(xu, 1, 2) @ xu
        del xu
        gram[:, np.arange(p), np.arange(p)] += (~act).astype(float)
        candidate = reason[block] == ""
        if candidate.any():
            cond = np.full(rows.size, np.inf)
            cond[candidate] = np.linalg.cond(gram[candidate])
            reason[rows[candidate & ~(cond < _MAX_CONDITION)]] = "degenerate_design"

        local = np.flatnonzero(reason[block] == "")
        if local.size == 0:
            continue
        beta_f, cov_f, alpha_f, iter_f, conv_f = irls(
            y0[local],
            weight[local],
            x[local],
            act[local],
            n_params[rows[local]],
            family,
            max_iter,
            tol,
        )
        n_iter[rows[local]] = iter_f
        reason[rows[local[~conv_f]]] = "not_converged"
        ok_local = local[conv_f]
        good = rows[ok_local]
        params[good] = beta_f[conv_f]
        cov[good] = cov_f[conv_f]
        if family == "negbin":
            alpha[good] = alpha_f[conv_f]
        mu = np.exp((x[ok_local] @ params[good][:, :, None])[:, :, 0])
        var = mu if family == "poisson" else mu * (1.0 + alpha[good, None] * mu)
        chi2 = (weight[ok_local] * (y0[ok_local] - mu) ** 2 / var).sum(axis=1)
        pearson[good] = chi2 / (n_used[good] - n_params[good])
        dispersion[good] = pearson[good] if family == "poisson" else 1.0
        x_h = (
            design_matrix(h_t[good], h_moy[good], None if h_prog is None else h_prog[good])
            * active_cols[good, None, :]
        )
        expected[good] = np.exp((x_h @ params[good][:, :, None])[:, :, 0])

        if n_boot > 0:
            q = ((1.0 - level) / 2.0, (1.0 + level) / 2.0)
            for k, i in enumerate(good):
                rng = np.random.default_rng([seed, int(i)])
                lower[i], upper[i] = draw_interval(
                    params[i],
                    cov[i],
                    x_h[k],
                    family,
                    dispersion[i],
                    alpha[i],
                    rng,
                    n_boot,
                    q,
                )

    status = np.where(reason == "", "ok", "not_assessable").astype(object)
    return ExpectedFit(
        family=family,
        columns=columns,
        status=status,
        reason=reason,
        n_used=n_used,
        n_params=n_params,
        params=params,
        cov_unscaled=cov,
        dispersion=dispersion,
        alpha=alpha,
        pearson_dispersion=pearson,
        n_iter=n_iter,
        expected=expected,
        lower=lower,
        upper=upper,
        level=level,
        n_boot=n_boot,
        seed=seed,
    )
