"""Fixed-length confidence interval (FLCI) under smoothness, ΔSD(M).

Rambachan & Roth (2023, §2.4.2 and §4.1), after Armstrong & Kolesár (2018, "Optimal
inference in a class of regression models", *Econometrica* 86:655): ``ΔSD(M)`` bounds every
change of slope of the differential trend, ``|(δ_{t+1} − δ_t) − (δ_t − δ_{t−1})| ≤ M``
(``δ_0 = 0``). The FLCI is ``v'β̂ ± χ`` for the affine estimator with post-period weights
``l_vec`` and pre-period weights ``v_pre`` chosen to make ``χ`` as small as possible, where

    χ(v) = sd(v) · cv_α(M · b(v) / sd(v)),     sd(v) = sqrt(v'Σv),

``cv_α(r)`` is the ``1 − α`` quantile of ``|N(r, 1)|`` and ``M · b(v)`` the largest bias of
``v'β̂`` over ``ΔSD(M)``. The bias is bounded only if ``v`` ignores linear trends
(``Σ_t t · v_t = 0``); writing ``δ`` through its slope changes ``s_t ∈ [−M, M]`` (slope fixed
by ``δ_{−1} = 0``) gives ``b(v) = Σ_t |c_t(v)|`` with ``c_t`` linear in ``v``. This is R
HonestDiD's ``findOptimalFLCI`` (R/flci.R), which traces the bias–variance frontier with
CVXR/ECOS and a folded-normal quantile simulated from 10⁶ draws; here ``cv_α`` is solved
exactly and ``χ``, convex in ``(v_pre, |c|)`` (a convex, non-decreasing perspective of convex
functions), is minimised directly by SLSQP with the absolute values as slack variables.
For ``M = 0`` the minimiser is the minimum-variance trend-robust estimator, in closed form.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import optimize, special

from sahel_eval.did.honest.inputs import EventStudy

__all__ = ["flci", "folded_normal_cv", "optimal_weights", "post_bias_per_m"]


def folded_normal_cv(r: float, alpha: float) -> float:
    """``1 − alpha`` quantile of ``|N(r, 1)|`` (``r ≥ 0``), by root finding."""
    r = abs(float(r))
    # −ndtri(q) is what scipy.stats.norm.isf(q) computes, without its per-call overhead
    # (this runs thousands of times per FLCI).
    lo = r - float(special.ndtri(alpha))
    hi = r - float(special.ndtri(alpha / 2.0))

    def excess(c: float) -> float:
        return float(special.ndtr(r - c) + special.ndtr(-c - r) - alpha)

    if excess(lo) <= 0.0:  # far from zero the lower tail has vanished: c = r + z_{1−α}
        return lo
    return optimize.brentq(excess, lo, hi, xtol=1e-14, rtol=1e-15)


#: √(2π), the divisor of the normal density as scipy.stats.norm.pdf computes it.
_SQRT_2PI = np.sqrt(2 * np.pi)


def _cv_slope(r: float, c: float) -> float:
    """Derivative of ``cv_α`` at ``r`` (implicit function theorem), given ``c = cv_α(r)``."""
    # The normal densities at c ∓ r with scipy.stats.norm.pdf's operations (the same
    # bits) but not its per-call cost: this runs at every step of every FLCI search.
    p, q = np.exp(-(np.array([c - r, c + r]) ** 2) / 2.0) / _SQRT_2PI
    return float((p - q) / (p + q))


def _bias_maps(n_pre: int, l_vec: np.ndarray) -> tuple[np.ndarray, float]:
    """Pre-period slope-change coefficients ``c = C v_pre`` and the fixed post-period bias.

    With ``δ_0 = δ_{−1} = 0``, ``δ_u = Σ_{t=u+1}^{−1} (t − u) s_t`` before the reference
    period and ``δ_t = Σ_{k=0}^{t−1} (t − k) s_k`` after it, so the bias of ``v'β̂`` is
    ``Σ_t s_t c_t`` with ``c_t = Σ_{u<t} (t − u) v_u`` for ``t = −n_pre + 1, …, −1`` and
    ``c_k = Σ_{t>k} (t − k) l_t`` for ``k = 0, …, n_post − 1``.
    """
    t_pre = np.arange(-n_pre, 0)
    rows = np.arange(-n_pre + 1, 0)
    c_pre = np.clip(rows[:, None] - t_pre[None, :], 0, None).astype(float)
    t_post = np.arange(1, l_vec.size + 1)
    ks = np.arange(l_vec.size)
    c_post = np.clip(t_post[None, :] - ks[:, None], 0, None) @ l_vec
    return c_pre, float(np.sum(np.abs(c_post)))


def post_bias_per_m(l_vec: np.ndarray) -> float:
    """Worst-case bias per unit of ``M`` from the post-period slope changes (any ``v_pre``)."""
    return _bias_maps(1, np.asarray(l_vec, dtype=float))[1]


def flci(es: EventStudy, m: float) -> tuple[float, float]:
    """FLCI for ``θ = l_vec' τ_post`` under ΔSD(M).

    Parameters
    ----------
    es
        Validated event study.
    m
        The bound ``M ≥ 0`` on slope changes, in outcome units.

    Returns
    -------
    tuple of float
        ``(lower, upper)``.
    """
    if not m >= 0:
        raise ValueError(f"M must be >= 0; got {m!r}")
    v_pre, half = optimal_weights(es, m)
    center = float(v_pre @ es.betahat[: es.n_pre] + es.theta_hat)
    return center - half, center + half


def optimal_weights(es: EventStudy, m: float) -> tuple[np.ndarray, float]:
    """Pre-period weights of the optimal FLCI and its half-length ``χ``."""
    n_pre, l_vec = es.n_pre, es.l_vec
    scale = es.theta_se**2  # work with Σ / scale so that sd(v) is of order one
    sig = es.sigma / scale
    s_pp, s_pl = sig[:n_pre, :n_pre], sig[:n_pre, n_pre:] @ l_vec
    s_ll = float(l_vec @ sig[n_pre:, n_pre:] @ l_vec)
    t_pre = np.arange(-n_pre, 0, dtype=float)
    k_post = float(np.arange(1, l_vec.size + 1) @ l_vec)  # v't = 0  ⇔  t_pre'v_pre = −k_post
    c_pre, b_post = _bias_maps(n_pre, l_vec)
    m_scaled = m / math.sqrt(scale)
    alpha = es.alpha

    def sd_of(v: np.ndarray) -> float:
        return math.sqrt(max(float(v @ s_pp @ v + 2.0 * v @ s_pl + s_ll), 0.0))

    # SLSQP asks for the gradient where it has just asked for the value: sd(v), r and
    # the critical value (a root search) are found once per point.
    seen: dict[bytes, tuple[float, float, float]] = {}

    def parts(x: np.ndarray) -> tuple[float, float, float]:
        key = x.tobytes()
        if key not in seen:
            seen.clear()
            sd = sd_of(x[:n_pre])
            r = m_scaled * (b_post + x[n_pre:].sum()) / sd
            seen[key] = sd, r, folded_normal_cv(r, alpha)
        return seen[key]

    def half_length(x: np.ndarray) -> float:
        sd, _, c = parts(x)
        return sd * c

    def gradient(x: np.ndarray) -> np.ndarray:
        v, u = x[:n_pre], x[n_pre:]
        sd, r, c = parts(x)
        slope = _cv_slope(r, c)
        d_sd = (s_pp @ v + s_pl) / sd
        return np.concatenate([d_sd * (c - r * slope), np.full(u.size, m_scaled * slope)])

    # Minimum-variance weights with t_pre'v = −k_post (KKT system; Σ_pp is positive definite).
    kkt = np.block([[s_pp, t_pre[:, None]], [t_pre[None, :], np.zeros((1, 1))]])
    v_minvar = np.linalg.solve(kkt, np.concatenate([-s_pl, [-k_post]]))[:n_pre]
    if m == 0 or n_pre == 1:  # no bias to trade, or the constraint fixes v (v_−1 = k_post)
        return v_minvar, half_length(
            np.concatenate([v_minvar, np.abs(c_pre @ v_minvar)])
        ) * math.sqrt(scale)

    n_u = n_pre - 1
    # The constraints are linear: their Jacobians are built once.
    jac_eq = np.concatenate([t_pre, np.zeros(n_u)])[None, :]
    jac_ineq = np.block([[-c_pre, np.eye(n_u)], [c_pre, np.eye(n_u)]])

    def slack(x: np.ndarray) -> np.ndarray:  # u ≥ |C v|
        u, cv = x[n_pre:], c_pre @ x[:n_pre]
        return np.concatenate([u - cv, u + cv])

    constraints = [
        {"type": "eq", "fun": lambda x: [t_pre @ x[:n_pre] + k_post], "jac": lambda x: jac_eq},
        {"type": "ineq", "fun": slack, "jac": lambda x: jac_ineq},
    ]
    v_minbias = np.zeros(n_pre)
    v_minbias[-1] = k_post  # all weight on t = −1: the extrapolation with the least bias

    # Candidates: the two ends of the bias–variance frontier as they are, then SLSQP from
    # each. SLSQP may stop at its precision floor ("positive directional derivative"), e.g.
    # stuck at the kink of the least-bias weights; the problem is convex, so the minimum is
    # taken as found when a run succeeds, when both runs end at the same value, or when a
    # restart from the best point does not improve it.
    def value_of(v: np.ndarray) -> float:
        return half_length(np.concatenate([v, np.abs(c_pre @ v)]))

    def polish(v0: np.ndarray) -> tuple[np.ndarray, float, bool]:
        x0 = np.concatenate([v0, np.abs(c_pre @ v0)])
        res = optimize.minimize(
            half_length, x0, jac=gradient, method="SLSQP", constraints=constraints,
            options={"ftol": 1e-15, "maxiter": 1000},
        )  # fmt: skip
        v = res.x[:n_pre] - t_pre * (t_pre @ res.x[:n_pre] + k_post) / (t_pre @ t_pre)
        return v, value_of(v), bool(res.success)

    candidates = [(v, value_of(v)) for v in (v_minvar, v_minbias)]
    runs = [polish(v0) for v0 in (v_minvar, v_minbias)]
    candidates += [(v, value) for v, value, _ in runs]
    best = min(candidates, key=lambda c: c[1])
    converged = any(ok for *_, ok in runs) or abs(runs[0][1] - runs[1][1]) <= 1e-9 * best[1]
    if not converged:
        v, value, ok = polish(best[0])
        converged = ok or value >= best[1] * (1 - 1e-9)
        best = min(best, (v, value), key=lambda c: c[1])
    if not converged:  # any weights give a valid interval; these may not give the shortest
        warnings.warn(
            f"FLCI optimiser did not converge at M = {m:g}; the interval is valid but may be "
            "longer than the optimal one",
            RuntimeWarning,
            stacklevel=3,
        )
    return best[0], best[1] * math.sqrt(scale)
