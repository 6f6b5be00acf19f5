"""Sant'Anna & Zhao (2020) 2×2 DiD estimators with their influence functions.

Each function estimates the ATT of one 2×2 comparison (treated ``D = 1`` vs comparison
``D = 0``, base period vs period ``t``) and returns ``(att, psi)`` where ``psi`` is the
observation-level influence function, scaled as in R ``DRDID`` so that
``se = sqrt(sum(psi**2)) / n``.

Panel estimators take the unit-level long difference ``dy = Y_t - Y_base``; repeated
cross-section estimators take the stacked rows ``y`` with ``post = 1`` for period ``t``.
``X`` always carries the intercept as its first column and ``w`` are sampling weights
(normalised to mean one here, as in ``DRDID``).

Estimators (names as in R ``DRDID``, which R ``did::att_gt`` calls):

* ``drdid_panel`` — locally efficient doubly robust, logit propensity score and OLS
  outcome regression with the estimation effect of both in the influence function
  (``est_method = "dr"`` in R ``did``; ``dripw`` in Stata ``csdid``);
* ``std_ipw_did_panel`` / ``std_ipw_did_rc`` — normalised (Hajek) IPW;
* ``reg_did_panel`` / ``reg_did_rc`` — outcome regression (Heckman, Ichimura & Todd);
* ``drdid_rc`` — locally efficient doubly robust for repeated cross-sections.

Propensity scores are capped at ``1 - 1e-6`` and comparison units with
``p(X) >= 0.995`` are trimmed, exactly as ``DRDID`` does.
"""

from __future__ import annotations

import numpy as np

TRIM_LEVEL = 0.995


def _normalise(w: np.ndarray) -> np.ndarray:
    return w / w.mean()


def _wls(y: np.ndarray, X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares coefficients; raises on a singular design."""
    xtwx = X.T @ (X * w[:, None])
    if np.linalg.cond(xtwx) > 1 / np.finfo(float).eps:
        raise np.linalg.LinAlgError("outcome-regression design is singular")
    return np.linalg.solve(xtwx, X.T @ (w * y))


def _ols_asy_lin_rep(resid: np.ndarray, X: np.ndarray, w_ols: np.ndarray, n: int) -> np.ndarray:
    """Asymptotic linear representation of weighted OLS coefficients (n × k)."""
    xpx = X.T @ (X * w_ols[:, None]) / n
    return (X * (w_ols * resid)[:, None]) @ np.linalg.inv(xpx)


def logit(d: np.ndarray, X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logit by Newton–Raphson; returns fitted probabilities and (X'WX/n)⁻¹.

    An intercept-only model has the closed form ``p = Σwd / Σw``; that case is the
    common one (no covariates) and skips the iterations.
    """
    n, k = X.shape
    if k == 1:
        p = np.full(n, np.sum(w * d) / np.sum(w))
    else:
        beta = np.zeros(k)
        pbar = np.sum(w * d) / np.sum(w)
        beta[0] = np.log(pbar / (1 - pbar))
        for _ in range(100):
            eta = X @ beta
            p = 1.0 / (1.0 + np.exp(-eta))
            grad = X.T @ (w * (d - p))
            hess = X.T @ (X * (w * p * (1 - p))[:, None])
            step = np.linalg.solve(hess, grad)
            beta = beta + step
            if np.max(np.abs(step)) < 1e-12 * (1 + np.max(np.abs(beta))):
                break
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
    info = X.T @ (X * (w * p * (1 - p))[:, None])
    return p, np.linalg.inv(info) * n


def _pscore(d: np.ndarray, X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Propensity score with DRDID's cap and trimming, plus its linear representation."""
    ps, hess_inv = logit(d, X, w)
    ps = np.minimum(ps, 1 - 1e-6)
    trim = np.where(d == 0, ps < TRIM_LEVEL, True).astype(float)
    asy_lin_rep_ps = (X * (w * (d - ps))[:, None]) @ hess_inv
    return ps, trim, asy_lin_rep_ps


# --------------------------------------------------------------------------- panel


def drdid_panel(
    dy: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Locally efficient DR DiD for panel data (R ``DRDID::drdid_panel``).

    ``ATT = E[w1 (ΔY − m(X))] / E[w1] − E[w0 (ΔY − m(X))] / E[w0]`` with
    ``w1 = D``, ``w0 = p(X)(1−D)/(1−p(X))`` and ``m(X)`` the OLS fit of ΔY on X among
    comparison units.
    """
    n = len(d)
    w = _normalise(w)
    ps, trim, alr_ps = _pscore(d, X, w)
    ctrl = d == 0
    beta = _wls(dy[ctrl], X[ctrl], w[ctrl])
    out_delta = X @ beta
    w_treat = trim * w * d
    w_cont = trim * w * ps * (1 - d) / (1 - ps)
    resid = dy - out_delta
    dr_treat = w_treat * resid
    dr_cont = w_cont * resid
    eta_treat = dr_treat.mean() / w_treat.mean()
    eta_cont = dr_cont.mean() / w_cont.mean()
    att = eta_treat - eta_cont

    alr_ols = _ols_asy_lin_rep(resid, X, w * (1 - d), n)
    inf_treat = (dr_treat - w_treat * eta_treat - alr_ols @ (w_treat @ X / n)) / w_treat.mean()
    m2 = (w_cont * (resid - eta_cont)) @ X / n
    m3 = w_cont @ X / n
    inf_cont = (dr_cont - w_cont * eta_cont + alr_ps @ m2 - alr_ols @ m3) / w_cont.mean()
    return float(att), inf_treat - inf_cont


def std_ipw_did_panel(
    dy: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Normalised (Hajek) IPW DiD for panel data (R ``DRDID::std_ipw_did_panel``)."""
    n = len(d)
    w = _normalise(w)
    ps, trim, alr_ps = _pscore(d, X, w)
    w_treat = trim * w * d
    w_cont = trim * w * ps * (1 - d) / (1 - ps)
    att_treat = w_treat * dy
    att_cont = w_cont * dy
    eta_treat = att_treat.mean() / w_treat.mean()
    eta_cont = att_cont.mean() / w_cont.mean()
    inf_treat = (att_treat - w_treat * eta_treat) / w_treat.mean()
    m2 = (w_cont * (dy - eta_cont)) @ X / n
    inf_cont = (att_cont - w_cont * eta_cont + alr_ps @ m2) / w_cont.mean()
    return float(eta_treat - eta_cont), inf_treat - inf_cont


def reg_did_panel(
    dy: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD for panel data (R ``DRDID::reg_did_panel``)."""
    n = len(d)
    w = _normalise(w)
    ctrl = d == 0
    beta = _wls(dy[ctrl], X[ctrl], w[ctrl])
    out_delta = X @ beta
    w_treat = w * d
    reg_treat = w_treat * dy
    reg_cont = w_treat * out_delta
    eta_treat = reg_treat.mean() / w_treat.mean()
    eta_cont = reg_cont.mean() / w_treat.mean()
    alr_ols = _ols_asy_lin_rep(dy - out_delta, X, w * (1 - d), n)
    inf_treat = (reg_treat - w_treat * eta_treat) / w_treat.mean()
    inf_cont = (reg_cont - w_treat * eta_cont + alr_ols @ (w_treat @ X / n)) / w_treat.mean()
    return float(eta_treat - eta_cont), inf_treat - inf_cont


# ------------------------------------------------------------- repeated cross-sections


def drdid_rc(
    y: np.ndarray, post: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Locally efficient DR DiD for repeated cross-sections (R ``DRDID::drdid_rc``)."""
    n = len(d)
    w = _normalise(w)
    ps, trim, alr_ps = _pscore(d, X, w)
    masks = {(dd, pp): (d == dd) & (post == pp) for dd in (0, 1) for pp in (0, 1)}
    fit = {key: X @ _wls(y[m], X[m], w[m]) for key, m in masks.items()}
    out_c_pre, out_c_post = fit[(0, 0)], fit[(0, 1)]
    out_t_pre, out_t_post = fit[(1, 0)], fit[(1, 1)]
    out_c = post * out_c_post + (1 - post) * out_c_pre

    w_t_pre = trim * w * d * (1 - post)
    w_t_post = trim * w * d * post
    odds = trim * w * ps * (1 - d) / (1 - ps)
    w_c_pre = odds * (1 - post)
    w_c_post = odds * post
    w_d = trim * w * d
    w_dt1 = w_t_post
    w_dt0 = w_t_pre

    def ratio(wt: np.ndarray, v: np.ndarray) -> np.ndarray:
        return wt * v / wt.mean()

    eta_t_pre = ratio(w_t_pre, y - out_c)
    eta_t_post = ratio(w_t_post, y - out_c)
    eta_c_pre = ratio(w_c_pre, y - out_c)
    eta_c_post = ratio(w_c_post, y - out_c)
    eta_d_post = ratio(w_d, out_t_post - out_c_post)
    eta_dt1_post = ratio(w_dt1, out_t_post - out_c_post)
    eta_d_pre = ratio(w_d, out_t_pre - out_c_pre)
    eta_dt0_pre = ratio(w_dt0, out_t_pre - out_c_pre)

    a_t_pre, a_t_post = eta_t_pre.mean(), eta_t_post.mean()
    a_c_pre, a_c_post = eta_c_pre.mean(), eta_c_post.mean()
    a_d_post, a_dt1_post = eta_d_post.mean(), eta_dt1_post.mean()
    a_d_pre, a_dt0_pre = eta_d_pre.mean(), eta_dt0_pre.mean()
    att = (
        (a_t_post - a_t_pre)
        - (a_c_post - a_c_pre)
        + (a_d_post - a_dt1_post)
        - (a_d_pre - a_dt0_pre)
    )

    alr = {key: _ols_asy_lin_rep(y - fit[key], X, w * m, n) for key, m in masks.items()}
    alr_c_pre, alr_c_post = alr[(0, 0)], alr[(0, 1)]
    alr_t_pre, alr_t_post = alr[(1, 0)], alr[(1, 1)]

    inf_t_pre = eta_t_pre - w_t_pre * a_t_pre / w_t_pre.mean()
    inf_t_post = eta_t_post - w_t_post * a_t_post / w_t_post.mean()
    m1_post = -(w_t_post * post) @ X / n / w_t_post.mean()
    m1_pre = -(w_t_pre * (1 - post)) @ X / n / w_t_pre.mean()
    inf_t_or = alr_c_post @ m1_post - alr_c_pre @ m1_pre

    inf_c_pre = eta_c_pre - w_c_pre * a_c_pre / w_c_pre.mean()
    inf_c_post = eta_c_post - w_c_post * a_c_post / w_c_post.mean()
    m2_pre = (w_c_pre * (y - out_c - a_c_pre)) @ X / n / w_c_pre.mean()
    m2_post = (w_c_post * (y - out_c - a_c_post)) @ X / n / w_c_post.mean()
    inf_c_ps = alr_ps @ (m2_post - m2_pre)
    m3_post = -(w_c_post * post) @ X / n / w_c_post.mean()
    m3_pre = -(w_c_pre * (1 - post)) @ X / n / w_c_pre.mean()
    inf_c_or = alr_c_post @ m3_post - alr_c_pre @ m3_pre

    inf_eff = (
        (eta_d_post - w_d * a_d_post / w_d.mean())
        - (eta_dt1_post - w_dt1 * a_dt1_post / w_dt1.mean())
        - (eta_d_pre - w_d * a_d_pre / w_d.mean())
        + (eta_dt0_pre - w_dt0 * a_dt0_pre / w_dt0.mean())
    )
    mom_post = (w_d / w_d.mean() - w_dt1 / w_dt1.mean()) @ X / n
    mom_pre = (w_d / w_d.mean() - w_dt0 / w_dt0.mean()) @ X / n
    inf_or = (alr_t_post - alr_c_post) @ mom_post - (alr_t_pre - alr_c_pre) @ mom_pre

    inf_treat = inf_t_post - inf_t_pre + inf_t_or
    inf_cont = inf_c_post - inf_c_pre + inf_c_ps + inf_c_or
    return float(att), inf_treat - inf_cont + inf_eff + inf_or


def std_ipw_did_rc(
    y: np.ndarray, post: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Normalised IPW DiD for repeated cross-sections (R ``DRDID::std_ipw_did_rc``)."""
    n = len(d)
    w = _normalise(w)
    ps, trim, alr_ps = _pscore(d, X, w)
    odds = trim * w * ps * (1 - d) / (1 - ps)
    wts = {
        "t_pre": trim * w * d * (1 - post),
        "t_post": trim * w * d * post,
        "c_pre": odds * (1 - post),
        "c_post": odds * post,
    }
    eta = {k: v * y / v.mean() for k, v in wts.items()}
    a = {k: v.mean() for k, v in eta.items()}
    att = (a["t_post"] - a["t_pre"]) - (a["c_post"] - a["c_pre"])
    inf = {k: eta[k] - wts[k] * a[k] / wts[k].mean() for k in wts}
    m2_pre = (wts["c_pre"] * (y - a["c_pre"])) @ X / n / wts["c_pre"].mean()
    m2_post = (wts["c_post"] * (y - a["c_post"])) @ X / n / wts["c_post"].mean()
    inf_treat = inf["t_post"] - inf["t_pre"]
    inf_cont = inf["c_post"] - inf["c_pre"] + alr_ps @ (m2_post - m2_pre)
    return float(att), inf_treat - inf_cont


def reg_did_rc(
    y: np.ndarray, post: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD for repeated cross-sections (R ``DRDID::reg_did_rc``)."""
    n = len(d)
    w = _normalise(w)
    m_pre = (d == 0) & (post == 0)
    m_post = (d == 0) & (post == 1)
    out_pre = X @ _wls(y[m_pre], X[m_pre], w[m_pre])
    out_post = X @ _wls(y[m_post], X[m_post], w[m_post])
    w_t_pre = w * d * (1 - post)
    w_t_post = w * d * post
    w_t = w * d
    reg_t_pre = w_t_pre * y
    reg_t_post = w_t_post * y
    reg_cont = w_t * (out_post - out_pre)
    eta_t_pre = reg_t_pre.mean() / w_t_pre.mean()
    eta_t_post = reg_t_post.mean() / w_t_post.mean()
    eta_cont = reg_cont.mean() / w_t.mean()
    att = eta_t_post - eta_t_pre - eta_cont
    alr_pre = _ols_asy_lin_rep(y - out_pre, X, w * m_pre, n)
    alr_post = _ols_asy_lin_rep(y - out_post, X, w * m_post, n)
    inf_t_pre = (reg_t_pre - w_t_pre * eta_t_pre) / w_t_pre.mean()
    inf_t_post = (reg_t_post - w_t_post * eta_t_post) / w_t_post.mean()
    moment = w_t @ X / n
    inf_control = (reg_cont - w_t * eta_cont + (alr_post - alr_pre) @ moment) / w_t.mean()
    return float(att), inf_t_post - inf_t_pre - inf_control


PANEL_ESTIMATORS = {"dr": drdid_panel, "ipw": std_ipw_did_panel, "reg": reg_did_panel}
RC_ESTIMATORS = {"dr": drdid_rc, "ipw": std_ipw_did_rc, "reg": reg_did_rc}
