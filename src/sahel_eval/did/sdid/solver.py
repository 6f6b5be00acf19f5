"""Unit and time weights for synthetic DiD: Frank–Wolfe on the simplex (Algorithm 1).

A clean reimplementation of the solver of the R package ``synthdid`` (Arkhangelsky,
Athey, Hirshberg, Imbens & Wager; github.com/synth-inference/synthdid, files
``R/solver.R`` — ``fw.step``, ``sc.weight.fw`` — and ``R/synthdid.R`` —
``synthdid_estimate``, ``sc_estimate``, ``did_estimate``, ``sparsify_function``;
``R/utils.R`` — ``collapsed.form``: treated rows and post columns averaged). The
details that decide the third decimal on Proposition 99 are kept exactly:

- noise level σ = sample SD of the controls' first differences over the pre-periods;
- ζ_ω = (N_tr·T_post)^(1/4)·σ (SDID) or 1e-6·σ (SC); ζ_λ = 1e-6·σ;
- Frank–Wolfe with exact line search on ``‖Ax − b‖²/n + ζ²‖x‖²`` over the simplex,
  stopping when one step lowers the objective by less than ``min_decrease²``
  (``min_decrease`` = 1e-5·σ), at least two steps;
- 100 steps, then the sparsify step (weights ≤ max/4 set to 0, renormalised), then up
  to 10,000 more steps from there.

Matrices follow the R layout: rows are units (controls first, treated last), columns
are periods (pre first, post last).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sahel_eval.compiled import compiled

ESTIMATORS = ("sdid", "sc", "did")


@dataclass(frozen=True)
class SolverOptions:
    """Tuning of the weight problems, fixed once from the full data (as R's ``opts``).

    Placebo, bootstrap and jackknife replicates reuse these values; they do not
    recompute the noise level.
    """

    estimator: str
    noise_level: float
    zeta_omega: float
    zeta_lambda: float
    min_decrease: float
    max_iter: int = 10_000
    max_iter_pre_sparsify: int = 100

    @property
    def update_omega(self) -> bool:
        """Whether unit weights are estimated (SDID, SC) or fixed uniform (DiD)."""
        return self.estimator in ("sdid", "sc")

    @property
    def update_lambda(self) -> bool:
        """Whether time weights are estimated (SDID only)."""
        return self.estimator == "sdid"

    @property
    def omega_intercept(self) -> bool:
        """SC fits unit weights without an intercept; SDID with one."""
        return self.estimator != "sc"


@dataclass(frozen=True)
class Weights:
    """Unit weights ω (controls), time weights λ (pre-periods) and solver step counts."""

    omega: np.ndarray
    lam: np.ndarray
    iterations_omega: int = 0
    iterations_lambda: int = 0


def noise_level(y: np.ndarray, n0: int, t0: int) -> float:
    """Sample SD of the controls' first differences over the pre-periods (R's default).

    Parameters
    ----------
    y
        Outcome matrix, units × periods, controls first, pre-periods first.
    n0, t0
        Number of controls and of pre-periods.
    """
    diffs = np.diff(y[:n0, :t0], axis=1)
    if diffs.size < 2:
        raise ValueError("synthdid: need at least 2 pre-periods and 1 control for the noise level")
    return float(np.std(diffs, ddof=1))


def solver_options(y: np.ndarray, n0: int, t0: int, estimator: str) -> SolverOptions:
    """The R package's default tuning for ``estimator`` on outcome matrix ``y``."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"synthdid: estimator must be one of {ESTIMATORS}, got {estimator!r}")
    n1, t1 = y.shape[0] - n0, y.shape[1] - t0
    sigma = noise_level(y, n0, t0)
    eta_omega = (n1 * t1) ** 0.25 if estimator == "sdid" else 1e-6
    return SolverOptions(
        estimator=estimator,
        noise_level=sigma,
        zeta_omega=eta_omega * sigma,
        zeta_lambda=1e-6 * sigma,
        min_decrease=1e-5 * sigma,
    )


def sparsify(v: np.ndarray) -> np.ndarray:
    """Per row: set weights at or below a quarter of the row's largest to zero, renormalise."""
    v = np.atleast_2d(v)
    out = np.where(v <= v.max(axis=1, keepdims=True) / 4, 0.0, v)
    return out / out.sum(axis=1, keepdims=True)


def sum_normalize(x: np.ndarray) -> np.ndarray:
    """``x / sum(x)``, or uniform weights when ``x`` sums to zero (R's ``sum_normalize``)."""
    total = x.sum()
    return x / total if total != 0 else np.full(len(x), 1.0 / len(x))


def frank_wolfe_batch(
    a: np.ndarray,
    b: np.ndarray,
    zeta: float,
    *,
    init: np.ndarray,
    n_rows: np.ndarray,
    min_decrease: float,
    max_iter: int,
    columns: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``ζ²‖x‖² + ‖A x − b‖²/n`` over the simplex for a batch of problems of one
    shape (R ``sc.weight.fw``); a single panel is a batch of one.

    Each step is R's ``fw.step``: exact line search from ``x`` towards the vertex with
    the smallest half-gradient ``A'(Ax − b) + nζ²x``. At least two steps; stop when a
    step lowers the objective by at most ``min_decrease**2``, or after ``max_iter``
    steps. Each problem keeps its own stopping rule. ``A x`` and the gradient are
    updated along each step instead of recomputed (``A'A`` is formed once), which
    changes nothing but rounding. The steps run in a compiled loop (:func:`_fw_kernel`),
    one sweep over the columns and one over the rows per step (:func:`_fw_steps`): a
    placebo problem takes up to 10,100 steps, and numpy's per-call overhead on every
    step was most of the synthetic DiD's time.

    ``a`` is R × n × k (padding rows zero; already demeaned when there is an intercept),
    ``b`` R × n, ``init`` R × k starting weights on the simplex, ``n_rows`` the R numbers
    of real rows (the divisor of the squared error), ``columns`` an R × k mask of real
    columns (``None``: all real). Returns R × k weights and R step counts. The loop of
    R's code, one problem in numpy, is kept as the tests' oracle
    (``tests/sdid_reference.py``): same step counts, weights equal to rounding.
    """
    n_rep, _, k = a.shape
    x = np.array(init, dtype=float)
    z2 = zeta**2
    a_cols = np.ascontiguousarray(a.transpose(0, 2, 1))
    ax = np.ascontiguousarray(np.einsum("rnk,rk->rn", a, x))
    atb = np.einsum("rnk,rn->rk", a, b)
    # row (r, i) of h: A_r'A_r[:, i] - A_r'b_r (the gram matrix is symmetric)
    h = np.ascontiguousarray(a_cols @ a - atb[:, None, :])
    g = np.ascontiguousarray(np.einsum("rnk,rn->rk", a, ax) - atb)  # A'(Ax - b)
    real = np.ones((n_rep, k), dtype=bool) if columns is None else columns
    steps = _fw_kernel()(
        a_cols,
        h,
        g,
        ax,
        x,
        np.ascontiguousarray(b, dtype=float),
        np.asarray(n_rows * z2, dtype=float),
        np.asarray(n_rows, dtype=float),
        np.ascontiguousarray(real),
        z2,
        min_decrease**2,
        max_iter,
    )
    return x, steps


def _fw_steps(
    a_cols: np.ndarray,
    h: np.ndarray,
    g: np.ndarray,
    ax: np.ndarray,
    x: np.ndarray,
    b: np.ndarray,
    eta: np.ndarray,
    n_rows: np.ndarray,
    columns: np.ndarray,
    z2: float,
    tol: float,
    max_iter: int,
) -> np.ndarray:
    """The steps of :func:`frank_wolfe_batch`, problem by problem; updates ``x``, ``g``
    and ``ax`` in place and returns the step counts.

    A step is one sweep over the k columns and one over the n rows. Every sum keeps
    the oracle's terms in its order (no expanded squares, which would cancel
    when the weights sit near a vertex), so the results are bit for bit those of one
    loop per quantity. The column sweep applies the last step to ``x`` and ``g``, sums
    ‖x‖² and finds the next vertex i; ‖d_x‖² and the slope (d_x = e_i − x) are summed
    along, restarted from the sums so far at each new candidate for i. The row sweep
    applies the last step to ``Ax``, sums the squared error and ‖A_i − Ax‖². The first
    sweeps of a problem only look ahead; the last look ahead in vain.
    """
    n_rep, k, n = a_cols.shape
    steps = np.zeros(n_rep, dtype=np.int64)
    for r in range(n_rep):
        xr, gr, axr, br, e, real = x[r], g[r], ax[r], b[r], eta[r], columns[r]
        step, i, cur = 0.0, 0, np.inf
        t = 0  # steps taken; the first sweep only looks ahead
        while True:
            last, hi = i, h[r, i]
            best, i = np.inf, 0
            xx, sl = 0.0, 0.0  # ‖x‖² and −Σ v_j x_j over the columns swept so far
            d_x2, slope = 0.0, 0.0  # the same, but from the candidate i on with its term
            for j in range(k):
                xj, gj = xr[j], gr[j]
                if t > 0:  # apply the last step, towards column `last`
                    xj -= step * xj
                    if j == last:
                        xj += step
                    gj += step * (hi[j] - gj)
                    xr[j], gr[j] = xj, gj
                v = e * xj + gj  # half-gradient
                if real[j] and v < best:
                    best, i = v, j
                if j == i:  # i's own term (i = 0 until a real column is found)
                    d_xi = 1.0 - xj
                    d_x2, slope = xx + d_xi * d_xi, sl + v * d_xi
                else:
                    d_x2 += xj * xj
                    slope -= v * xj
                xx += xj * xj
                sl -= v * xj
            col_last, col = a_cols[r, last], a_cols[r, i]
            ee, d_err2 = 0.0, 0.0
            for m in range(n):
                axm = axr[m]
                if t > 0:  # apply the last step; the error after it
                    axm += step * (col_last[m] - axm)
                    axr[m] = axm
                    d = axm - br[m]
                    ee += d * d
                d = col[m] - axm
                d_err2 += d * d
            if t > 0:
                prev, cur = cur, z2 * xx + ee / n_rows[r]
                if t >= 2 and not prev - cur > tol:
                    break
            if t == max_iter:
                break
            t += 1
            den = d_err2 + e * d_x2
            step = min(1.0, max(0.0, -slope / den)) if den > 0 else 0.0
        steps[r] = t
    return steps


_fw_kernel = compiled(_fw_steps)


def _solve(
    a: np.ndarray,
    b: np.ndarray,
    zeta: float,
    init: np.ndarray,
    n_rows: np.ndarray,
    opts: SolverOptions,
    columns: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two rounds as in R: ``max_iter_pre_sparsify`` steps, sparsify, ``max_iter`` steps."""
    rounds = ((init, opts.max_iter_pre_sparsify), (None, opts.max_iter))
    x, total = init, np.zeros(a.shape[0], dtype=int)
    for start, max_iter in rounds:
        x, t = frank_wolfe_batch(
            a,
            b,
            zeta,
            init=x if start is not None else sparsify(x),
            n_rows=n_rows,
            min_decrease=opts.min_decrease,
            max_iter=max_iter,
            columns=columns,
        )
        total = total + t
    return x, total


def _demean(a: np.ndarray, b: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subtract each column's mean over the real rows; padding rows stay zero."""
    w = rows[:, :, None].astype(float)
    n = w.sum(axis=1)
    a = (a - (a * w).sum(axis=1, keepdims=True) / n[:, None, :]) * w
    b = (b - (b * rows).sum(axis=1, keepdims=True) / n) * rows
    return a, b


def fit_weights_batch(
    ctrl: np.ndarray,
    treated_mean: np.ndarray,
    t0: int,
    opts: SolverOptions,
    *,
    controls: np.ndarray | None = None,
    omega_init: np.ndarray | None = None,
    lambda_init: np.ndarray | None = None,
) -> Weights:
    """Unit and time weights for a batch of panels (R ``synthdid_estimate``, no covariates).

    Parameters
    ----------
    ctrl
        R × N0 × T control outcomes (pre-periods first); rows beyond a panel's controls
        are padding.
    treated_mean
        R × T mean outcome of each panel's treated units.
    t0
        Number of pre-periods.
    opts
        Tuning from :func:`solver_options` (kept fixed across replicates).
    controls
        R × N0 mask of real control rows (``None``: all real).
    omega_init, lambda_init
        R × N0 and R × T0 warm starts (R passes the full-sample weights to its
        replicates); uniform when ``None``.

    Returns
    -------
    Weights
        Arrays with a leading batch axis. DiD: both uniform; SC: λ = 0.
    """
    n_rep, n0 = ctrl.shape[:2]
    rows = np.ones((n_rep, n0), dtype=bool) if controls is None else controls
    n_ctrl = rows.sum(axis=1).astype(float)
    if omega_init is None:
        omega_init = rows / n_ctrl[:, None]
    pre, post_mean = ctrl[:, :, :t0], ctrl[:, :, t0:].mean(axis=2)
    it_l = it_o = np.zeros(n_rep, dtype=int)
    if opts.update_lambda:
        a, b = _demean(pre, post_mean, rows)
        init = np.full((n_rep, t0), 1.0 / t0) if lambda_init is None else lambda_init
        lam, it_l = _solve(a, b, opts.zeta_lambda, init, n_ctrl, opts, None)
    else:
        lam = np.full((n_rep, t0), 0.0 if opts.estimator == "sc" else 1.0 / t0)
    if opts.update_omega:
        a = pre.transpose(0, 2, 1)
        b = treated_mean[:, :t0]
        if opts.omega_intercept:
            a, b = _demean(a, b, np.ones((n_rep, t0), dtype=bool))
        n_pre = np.full(n_rep, float(t0))
        omega, it_o = _solve(a, b, opts.zeta_omega, omega_init, n_pre, opts, controls)
    else:
        omega = np.where(rows, 1.0, 0.0) / n_ctrl[:, None]
    return Weights(omega=omega, lam=lam, iterations_omega=it_o, iterations_lambda=it_l)


def fit_weights(
    y: np.ndarray,
    n0: int,
    t0: int,
    opts: SolverOptions,
    *,
    omega_init: np.ndarray | None = None,
    lambda_init: np.ndarray | None = None,
) -> Weights:
    """Unit and time weights for one panel ``y`` (controls first, pre-periods first).

    :func:`fit_weights_batch` with a batch of one; ``n0``, ``t0`` count the controls and
    pre-periods; the warm starts are uniform when ``None``.
    """
    w = fit_weights_batch(
        y[None, :n0, :],
        y[None, n0:, :].mean(axis=1),
        t0,
        opts,
        omega_init=None if omega_init is None else omega_init[None, :],
        lambda_init=None if lambda_init is None else lambda_init[None, :],
    )
    return Weights(
        omega=w.omega[0],
        lam=w.lam[0],
        iterations_omega=int(w.iterations_omega[0]),
        iterations_lambda=int(w.iterations_lambda[0]),
    )


def att_batch(ctrl: np.ndarray, treated_mean: np.ndarray, t0: int, w: Weights) -> np.ndarray:
    """Weighted double differences for a batch (padding rows carry zero weight)."""
    gap = treated_mean - np.einsum("rn,rnt->rt", w.omega, ctrl)
    return gap[:, t0:].mean(axis=1) - np.einsum("rt,rt->r", gap[:, :t0], w.lam)


def att(y: np.ndarray, n0: int, t0: int, omega: np.ndarray, lam: np.ndarray) -> float:
    """Weighted double difference ``(−ω, 1/N1)ᵀ Y (−λ, 1/T1)``."""
    n1, t1 = y.shape[0] - n0, y.shape[1] - t0
    row = np.concatenate([-omega, np.full(n1, 1.0 / n1)])
    col = np.concatenate([-lam, np.full(t1, 1.0 / t1)])
    return float(row @ y @ col)
