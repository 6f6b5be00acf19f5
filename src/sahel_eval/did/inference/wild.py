"""Wild cluster restricted bootstrap (WCR) of one coefficient of a linear model.

Generic over the estimator: it takes the estimator's
:class:`~sahel_eval.stats.linear.LinearDesign` (TWFE, event-study terms and the 2×2 all
produce one) and a term name.

Model y = x_j β_j + Zγ + α_unit + ε with the unit effects absorbed (they must be nested
in the bootstrap clusters, so that multiplying residuals by a cluster-constant weight
commutes with the within transformation).  Under H0: β_j = β0 the restricted residuals
are ü(β0) = ỹ − β0 x̃ with ỹ = M_Z y, x̃ = M_Z x_j (FWL), linear in β0.  A bootstrap
sample is y* = Zγ̃ + x_j β0 + ü ∘ v, v constant within cluster.  Following Roodman,
MacKinnon, Nielsen & Webb (2019, "Fast and wild", the ``boottest`` algorithm) everything
is reduced to cluster-level pieces computed once:

    β̂* − β0 = Σ_g v_g (p_g − β0 q_g) / x̃'x̃,        p_g = x̃_g'ỹ_g, q_g = x̃_g'x̃_g,
    score*_g = [(D0 − β0 D1) v]_g,   D0 = diag(p)/x̃'x̃ − H'A F/x̃'x̃,
                                     D1 = diag(q)/x̃'x̃ − H'A H/x̃'x̃,

with A = (X'X)⁻¹, F_g = X_g'ỹ_g and H_g = X_g'x̃_g (K-vectors).  score*_g is the cluster
g contribution x̃_g'û*_g / x̃'x̃ of the bootstrap CRV1 variance, so

    t*(β0) = (n0 − β0 n1) / sqrt(c (a − 2β0 b + β0² d))

where (n0, n1, a, b, d) are five numbers per draw.  Each draw costs one G×G product
(never an N × B matrix), and after that p(β0) costs O(B) for any β0, which makes the
confidence interval by test inversion cheap.  c is the CRV1 factor (it cancels).

p-values are symmetric: share of draws with |t*| ≥ |t|.  With all 2^G Rademacher
vectors enumerated, v = 1 reproduces the sample and v = −1 its mirror image, so
p ≥ 2/2^G: that is the smallest attainable p-value.  With B random draws the identity
draw is added (p = (1 + #{|t*| ≥ |t|}) / (B + 1)) and the smallest attainable p-value is
max(1/(B+1), 2/|support|), |support| = 2^G (Rademacher) or 6^G (Webb).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sahel_eval.did.inference import TIE, resolve_seed
from sahel_eval.stats.covariance import crv1
from sahel_eval.stats.linear import LinearDesign

__all__ = [
    "ENUMERATION_MAX_CLUSTERS",
    "WildBootstrapResult",
    "wild_cluster_bootstrap",
]

#: Rademacher weights are enumerated (exact, seed-free) up to this many clusters.
ENUMERATION_MAX_CLUSTERS = 12

_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
_CHUNK = 4096


@dataclass
class WildBootstrapResult:
    """Outcome of a WCR bootstrap test of one coefficient.

    ``p`` tests β = 0; ``ci`` is the test-inversion interval at ``level`` (NaN ends when
    the interval is unbounded); ``p_min`` the smallest attainable p-value.
    """

    term: str
    estimate: float
    se: float
    t: float
    p: float
    ci: tuple[float, float]
    p_min: float
    draws: int
    weights: str
    enumerated: bool
    clusters: int
    seed: int | None
    p_at: Callable[[float], float] = field(repr=False)


@dataclass
class _Draws:
    """Five numbers per draw from which t*(β0) follows for any β0."""

    n0: np.ndarray
    n1: np.ndarray
    a: np.ndarray
    b: np.ndarray
    d: np.ndarray


def _rademacher_enumeration(g: int) -> np.ndarray:
    codes = np.arange(2**g)[:, None] >> np.arange(g)[None, :] & 1
    # Row 0 is v = +1 (the sample itself).
    return (1 - 2 * codes).T.astype(float)


def _wild_draw_summaries(
    d0: np.ndarray,
    d1: np.ndarray,
    pn: np.ndarray,
    qn: np.ndarray,
    *,
    kind: str,
    enumerate_all: bool,
    draws: int,
    rng: np.random.Generator | None,
) -> _Draws:
    g = d0.shape[0]
    parts: list[tuple[np.ndarray, ...]] = []

    def summarise(v: np.ndarray) -> None:
        s0 = d0 @ v
        s1 = d1 @ v
        parts.append(
            (
                pn @ v,
                qn @ v,
                np.einsum("gb,gb->b", s0, s0),
                np.einsum("gb,gb->b", s0, s1),
                np.einsum("gb,gb->b", s1, s1),
            )
        )

    if enumerate_all:
        summarise(_rademacher_enumeration(g))
    else:
        assert rng is not None
        done = 0
        while done < draws:
            m = min(_CHUNK, draws - done)
            if kind == "webb":
                v = _WEBB[rng.integers(0, 6, size=(g, m))]
            else:
                v = rng.choice(np.array([-1.0, 1.0]), size=(g, m))
            summarise(v)
            done += m
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    return _Draws(*cols)


def wild_cluster_bootstrap(
    design: LinearDesign,
    term: str,
    clusters: np.ndarray | pd.Series,
    *,
    level: float = 0.95,
    draws: int = 9999,
    weights: str | None = None,
    seed: int | None = None,
    k: int | None = None,
) -> WildBootstrapResult:
    """Wild cluster restricted bootstrap test and CI for one coefficient.

    Model: y = x_term·β + Zγ + α_unit + ε, H0: β = β0, bootstrap clusters ``clusters``;
    statistic t = (β̂ − β0)/se_CRV1.  See the module docstring for the algorithm.

    Parameters
    ----------
    design
        The estimator's within-transformed design; its absorbed effects must be nested
        in ``clusters``.
    term
        Name of the tested column of ``design.x``.
    clusters
        Bootstrap (and variance) cluster per row.
    level
        Confidence level of the test-inversion interval.
    draws
        Random draws B when the weights are not enumerated.
    weights
        ``"rademacher"`` or ``"webb"``; default: Rademacher enumerated when
        G ≤ 12, Webb draws otherwise.  Rademacher with G ≤ 12 is always enumerated.
    seed
        Seed of the numpy Generator (unused, and recorded as ``None``, when enumerated).
    k
        K of the CRV1 factor (default ``design.k(clusters)``).

    Returns
    -------
    WildBootstrapResult
    """
    clusters = np.asarray(clusters)
    if not design.absorbed_nested_in(clusters):
        raise ValueError(
            "wild cluster bootstrap: the absorbed fixed effects (units) are not nested in "
            "the bootstrap clusters; cluster at the unit level or above"
        )
    if term not in design.names:
        raise KeyError(f"term {term!r} not among the regressors {design.names}")
    j = design.names.index(term)
    codes, uniques = pd.factorize(clusters, sort=True)
    g = len(uniques)
    if g < 2:
        raise ValueError(f"wild cluster bootstrap needs at least 2 clusters, got {g}")
    if weights is None:
        weights = "rademacher" if g <= ENUMERATION_MAX_CLUSTERS else "webb"
    if weights not in ("rademacher", "webb"):
        raise ValueError(f"weights must be 'rademacher' or 'webb', got {weights!r}")
    enumerate_all = weights == "rademacher" and g <= ENUMERATION_MAX_CLUSTERS
    k = design.k(clusters) if k is None else k

    y, x = design.sqrt_weighted()
    n = len(y)
    xj = x[:, j]
    z = np.delete(x, j, axis=1)
    if z.shape[1]:
        q, r = np.linalg.qr(z)
        keep = np.abs(np.diag(r)) > 1e-10 * max(1.0, np.abs(np.diag(r)).max())
        q = q[:, keep]
        xt = xj - q @ (q.T @ xj)
        yt = y - q @ (q.T @ y)
    else:
        xt, yt = xj, y
    xx = float(xt @ xt)
    if xx <= 1e-12 * max(1.0, float(xj @ xj)):
        raise ValueError(f"term {term!r} is collinear with the other regressors")
    beta = float(xt @ yt) / xx
    resid = yt - beta * xt
    c = g / (g - 1) * (n - 1) / (n - k)
    se = float(np.sqrt(crv1(xt[:, None], resid, codes, k=k).vcov[0, 0]))
    # crv1's factor uses the same k, so se equals the full-model CRV1 SE of β_term.

    # Cluster-level pieces, computed once.
    pg = np.bincount(codes, weights=xt * yt, minlength=g)
    qg = np.bincount(codes, weights=xt * xt, minlength=g)
    f = np.zeros((g, x.shape[1]))
    h = np.zeros((g, x.shape[1]))
    np.add.at(f, codes, x * yt[:, None])
    np.add.at(h, codes, x * xt[:, None])
    a_inv = np.linalg.pinv(x.T @ x)
    d0 = np.diag(pg / xx) - h @ a_inv @ f.T / xx
    d1 = np.diag(qg / xx) - h @ a_inv @ h.T / xx

    used_seed = None if enumerate_all else resolve_seed(seed)
    rng = None if enumerate_all else np.random.default_rng(used_seed)
    summ = _wild_draw_summaries(
        d0, d1, pg / xx, qg / xx, kind=weights, enumerate_all=enumerate_all, draws=draws, rng=rng
    )
    n_draws = len(summ.n0)

    def p_at(beta0: float) -> float:
        t_obs = abs(beta - beta0) / se
        num = summ.n0 - beta0 * summ.n1
        var = c * (summ.a - 2 * beta0 * summ.b + beta0**2 * summ.d)
        t_star = np.abs(num) / np.sqrt(np.maximum(var, 1e-300))
        hits = int(np.count_nonzero(t_star >= t_obs * (1 - TIE)))
        if enumerate_all:
            return hits / n_draws
        return (1 + hits) / (n_draws + 1)

    if enumerate_all:
        p_min = 2.0 / 2**g
    else:
        # 2/|support| in logs: 6^G overflows a float for G > 396.
        log_support = g * np.log(2.0 if weights == "rademacher" else 6.0)
        p_min = max(1.0 / (n_draws + 1), float(2.0 * np.exp(-log_support)))
    alpha = 1 - level
    ci = (
        (np.nan, np.nan)
        if p_min > alpha
        else (_invert(p_at, beta, -se, alpha), _invert(p_at, beta, se, alpha))
    )
    return WildBootstrapResult(
        term=term,
        estimate=beta,
        se=se,
        t=beta / se,
        p=p_at(0.0),
        ci=ci,
        p_min=p_min,
        draws=n_draws,
        weights=weights,
        enumerated=enumerate_all,
        clusters=g,
        seed=used_seed,
        p_at=p_at,
    )


def _invert(p_at: Callable[[float], float], beta: float, step: float, alpha: float) -> float:
    """End of {β0 : p(β0) > α} on the side of ``step``; NaN when it does not close."""
    inside = beta
    outside = None
    for i in range(40):
        cand = beta + step * 2.0 ** (i - 1)
        if p_at(cand) <= alpha:
            outside = cand
            break
        inside = cand
    if outside is None:
        return float("nan")
    # p(β0) is a step function; bisect to far below any reportable precision.
    for _ in range(60):
        mid = 0.5 * (inside + outside)
        if p_at(mid) > alpha:
            inside = mid
        else:
            outside = mid
        if abs(outside - inside) <= 1e-10 * abs(step):
            break
    return 0.5 * (inside + outside)
