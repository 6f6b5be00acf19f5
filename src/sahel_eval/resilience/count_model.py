"""The count model behind the expected volume (DESIGN §7): Poisson / NB2 fits of many
series at once by IRLS, and the parametric-bootstrap prediction interval.

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

import numpy as np

__all__ = ["draw_interval", "irls", "solve_nb2_alpha"]


def solve_nb2_alpha(
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


def irls(
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
            new_alpha = solve_nb2_alpha(w_i * (y_i - mu_i) ** 2, mu_i * w_i, df[idx], alpha[idx])
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


def draw_interval(
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
