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

Families
--------
``"poisson"`` (default)
    Poisson maximum likelihood with quasi-likelihood dispersion
    ``phi = Pearson chi2 / (n - p)``; standard errors are ``sqrt(phi)`` times the
    Poisson ones. Identical to statsmodels ``GLM(..., family=Poisson()).fit(scale="X2")``.
``"negbin"``
    NB2 (variance ``mu + alpha mu^2``) with ``alpha`` set by the Pearson moment
    equation ``sum (y - mu)^2 / (mu (1 + alpha mu)) = n - p`` (``alpha = 0`` when the
    data are not over-dispersed), ``beta`` by maximum likelihood given ``alpha``,
    iterated to a joint solution. A moment estimator rather than full ML because it
    is robust with short series and vectorises; ``dispersion`` is 1 for this family.

Prediction interval (parametric bootstrap)
------------------------------------------
For each of ``n_boot`` draws: coefficients ``beta* ~ N(beta_hat, phi · cov)``, means
``mu* = exp(X_h beta*)``, then counts ``y* ~`` a distribution with mean ``mu*`` and the
fitted variance: for ``"poisson"`` a negative binomial with variance ``phi · mu*``
when ``phi > 1`` (the quasi-Poisson variance) and a Poisson when ``phi <= 1`` (no
count law has variance below its mean over all means, so under-dispersion is not
reproduced); for ``"negbin"`` the NB2 with the fitted ``alpha``. The interval is the
``(1 - level)/2`` and ``(1 + level)/2`` empirical quantiles (numpy's default linear
interpolation) of ``y*`` per window month. Series ``i`` draws from its own
generator ``numpy.random.default_rng([seed, i])``, so its interval does not depend
on which other series are fitted in the same call.

The point value ``expected`` is ``exp(X_h beta_hat)``, not the bootstrap mean.

Batching
--------
All series are fitted together: the design is stacked to shape (n, T, p) and each
IRLS step solves n small p × p systems with one batched ``matmul``/``solve``. A
series stops being updated once it has converged, so its result does not depend on
the other series of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "COLUMNS",
    "REASONS",
    "ExpectedFit",
    "design_matrix",
    "fit_expected",
    "pre_shock_mask",
]

#: Design columns, in order (``programme`` only when a programme series is given).
COLUMNS: tuple[str, ...] = ("intercept", "trend_years", "sin1", "cos1", "sin2", "cos2")

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


def design_matrix(
    t: npt.ArrayLike, month_of_year: npt.ArrayLike, programme: npt.ArrayLike | None = None
) -> np.ndarray:
    """Build the design of the expected-volume model.

    Parameters
    ----------
    t : array_like of int, shape (..., T)
        Month index (1 = first month of the data).
    month_of_year : array_like of int, shape (..., T)
        Calendar month, 1–12.
    programme : array_like of {0, 1}, shape (..., T), optional
        Programme exposure; adds a last column ``programme``.

    Returns
    -------
    numpy.ndarray, shape (..., T, p)
        Columns :data:`COLUMNS` (+ ``programme``).
    """
    t_arr = np.asarray(t, dtype=float)
    moy = np.asarray(month_of_year)
    if not np.all(np.isin(moy, np.arange(1, 13))):
        raise ValueError("month_of_year must hold calendar months 1-12")
    t_arr, moy = np.broadcast_arrays(t_arr, moy.astype(float))
    angle = 2.0 * np.pi * moy / 12.0
    cols = [
        np.ones_like(t_arr),
        t_arr / 12.0,
        np.sin(angle),
        np.cos(angle),
        np.sin(2.0 * angle),
        np.cos(2.0 * angle),
    ]
    if programme is not None:
        prog = np.asarray(programme, dtype=float)
        if not np.all(np.isin(prog, (0.0, 1.0))):
            raise ValueError("programme must be a 0/1 series")
        prog, _ = np.broadcast_arrays(prog, t_arr)
        cols = [np.broadcast_to(c, prog.shape) for c in cols] + [prog]
    return np.stack(cols, axis=-1)


def pre_shock_mask(
    reported: npt.ArrayLike,
    t: npt.ArrayLike,
    onset_t: npt.ArrayLike,
    *,
    other_onsets_t: npt.ArrayLike | None = None,
    window_length: int = 12,
) -> np.ndarray:
    """Months usable to fit the pre-shock model of each series.

    A month is usable when it is reported, strictly before the series' onset and
    outside every other shock window ``[onset_k, onset_k + window_length)``.

    Parameters
    ----------
    reported : array_like of bool, shape (n, T)
    t : array_like of int, shape (T,)
        Month index of the columns.
    onset_t : array_like of int, shape (n,)
        Onset month index ``m0`` of each series' shock.
    other_onsets_t : array_like of float, shape (n, K), optional
        Onsets of the other shocks affecting each series (pad with NaN).
    window_length : int, default 12
        H, the length of a shock window.

    Returns
    -------
    numpy.ndarray of bool, shape (n, T)
    """
    rep = np.asarray(reported, dtype=bool)
    t_arr = np.asarray(t, dtype=float)
    onset = np.asarray(onset_t, dtype=float)
    usable = rep & (t_arr[None, :] < onset[:, None])
    if other_onsets_t is not None:
        other = np.asarray(other_onsets_t, dtype=float)
        if other.ndim == 1:
            other = other[:, None]
        inside = (t_arr[None, None, :] >= other[:, :, None]) & (
            t_arr[None, None, :] < other[:, :, None] + window_length
        )
        usable &= ~inside.any(axis=1)
    return usable


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


def _solve_alpha(
    resid2: np.ndarray, mu: np.ndarray, df: np.ndarray, alpha0: np.ndarray
) -> np.ndarray:
    """Pearson moment equation of NB2: ``sum r^2 / (mu (1 + a mu)) = df`` for each row.

    ``f(a)`` is convex and decreasing, so Newton from the left of the root converges
    monotonically; ``a = 0`` when ``f(0) <= df`` (no over-dispersion).
    """
    a2 = resid2 / np.where(mu > 0, mu, 1.0)
    alpha = np.where(np.isfinite(alpha0), alpha0, 0.0)
    f0 = a2.sum(axis=1) - df
    alpha = np.where(f0 <= 0, 0.0, alpha)
    # Restart from 0 where the old alpha is right of the new root (Newton needs
    # to start on the left).
    f_start = (a2 / (1.0 + alpha[:, None] * mu)).sum(axis=1) - df
    alpha = np.where(f_start < 0, 0.0, alpha)
    for _ in range(100):
        denom = 1.0 + alpha[:, None] * mu
        f = (a2 / denom).sum(axis=1) - df
        fprime = -(a2 * mu / denom**2).sum(axis=1)
        step = np.where((f0 > 0) & (fprime < 0), -f / np.where(fprime < 0, fprime, -1.0), 0.0)
        alpha = alpha + step
        if np.all(np.abs(step) <= 1e-12 * (1.0 + alpha)):
            break
    return alpha


def _irls(
    y: np.ndarray,
    weight: np.ndarray,
    x: np.ndarray,
    active_cols: np.ndarray,
    n_params: np.ndarray,
    family: str,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Batched IRLS; returns beta, cov_unscaled, alpha, n_iter, converged."""
    n, _, p = x.shape
    # Columns dropped for a series are zero in its design; a unit on the diagonal of
    # X'WX then pins their coefficient at 0 without touching the others.
    pin = np.zeros((n, p, p))
    pin[:, np.arange(p), np.arange(p)] = (~active_cols).astype(float)
    x = x * active_cols[:, None, :]

    used = weight.sum(axis=1)
    mean_y = (weight * y).sum(axis=1) / np.where(used > 0, used, 1.0)
    # statsmodels' start, so both land on the same optimum by the same path.
    mu = (y + mean_y[:, None]) / 2.0
    eta = np.log(mu)
    alpha = np.where(family == "negbin", 0.0, np.nan) * np.ones(n)
    beta = np.zeros((n, p))
    n_iter = np.zeros(n, dtype=np.int64)
    todo = used > 0
    converged = np.zeros(n, dtype=bool)
    df = used - n_params

    for _ in range(max_iter):
        idx = np.flatnonzero(todo)
        if idx.size == 0:
            break
        mu_i, eta_i, y_i, w_i, x_i = mu[idx], eta[idx], y[idx], weight[idx], x[idx]
        alpha_change = np.zeros(idx.size)
        if family == "negbin":
            # alpha first, then the beta step at that alpha: at convergence beta is
            # the ML solution for the reported alpha.
            new_alpha = _solve_alpha(w_i * (y_i - mu_i) ** 2, mu_i * w_i, df[idx], alpha[idx])
            alpha_change = np.abs(new_alpha - alpha[idx]) / (1.0 + new_alpha)
            alpha[idx] = new_alpha
            var_factor = 1.0 + alpha[idx, None] * mu_i
        else:
            var_factor = 1.0
        # Log link: working weight mu^2 / Var(y) and working response eta + (y-mu)/mu.
        w_irls = w_i * mu_i / var_factor
        z = eta_i + (y_i - mu_i) / mu_i
        xtw = np.swapaxes(x_i * w_irls[:, :, None], 1, 2)
        gram = xtw @ x_i + pin[idx]
        rhs = (xtw @ z[:, :, None])[:, :, 0]
        new_beta = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
        new_eta = (x_i @ new_beta[:, :, None])[:, :, 0]
        new_mu = np.exp(new_eta)
        change = np.maximum(np.max(np.abs(new_eta - eta_i) * w_i, axis=1), alpha_change)
        beta[idx], eta[idx], mu[idx] = new_beta, new_eta, new_mu
        n_iter[idx] += 1
        done = change <= tol
        finite = np.all(np.isfinite(new_eta), axis=1)
        converged[idx[done & finite]] = True
        todo[idx[done | ~finite]] = False

    # Covariance at the converged coefficients.
    if family == "negbin":
        w_final = weight * mu / (1.0 + alpha[:, None] * mu)
    else:
        w_final = weight * mu
    with np.errstate(invalid="ignore", over="ignore"):
        xtw = np.swapaxes(x * w_final[:, :, None], 1, 2)
        gram = xtw @ x + pin
    ok = converged & np.all(np.isfinite(gram), axis=(1, 2))
    cov = np.full((n, p, p), np.nan)
    if ok.any():
        cov[ok] = np.linalg.inv(gram[ok])
        cov[ok] *= (active_cols[ok, :, None] & active_cols[ok, None, :]).astype(float)
    return beta, cov, alpha, n_iter, converged


def _draw_interval(
    beta: np.ndarray,
    cov: np.ndarray,
    x_h: np.ndarray,
    family: str,
    dispersion: float,
    alpha: float,
    rng: np.random.Generator,
    n_boot: int,
    quantiles: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    p = beta.shape[0]
    # Cholesky of a covariance with pinned (dropped) columns: those rows/cols are 0,
    # so factor the estimated block only.
    keep = np.diag(cov) > 0
    chol = np.zeros((p, p))
    chol[np.ix_(keep, keep)] = np.linalg.cholesky(dispersion * cov[np.ix_(keep, keep)])
    z = rng.standard_normal((n_boot, p))
    beta_star = beta + z @ chol.T
    mu_star = np.exp(beta_star @ x_h.T)
    if family == "negbin" and alpha > 0:
        counts = rng.negative_binomial(1.0 / alpha, 1.0 / (1.0 + alpha * mu_star))
    elif family == "poisson" and dispersion > 1:
        # Mean mu, variance phi * mu: size mu/(phi-1), probability 1/phi.
        counts = rng.negative_binomial(mu_star / (dispersion - 1.0), 1.0 / dispersion)
    else:
        counts = rng.poisson(mu_star)
    lo, hi = np.quantile(counts, quantiles, axis=0)
    return lo, hi


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
        beta_f, cov_f, alpha_f, iter_f, conv_f = _irls(
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
                lower[i], upper[i] = _draw_interval(
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
