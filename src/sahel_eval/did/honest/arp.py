"""Conditional least-favourable hybrid test of moment inequalities with nuisance parameters.

The test of Andrews, Roth & Pakes (2023, "Inference for linear conditional moment
inequalities", *Review of Economic Studies* 90:2763, §3–§5; "ARP") as Rambachan & Roth
(2023, *Review of Economic Studies* 90:2555, §5.2) use it for the relative-magnitudes
restriction, following R HonestDiD's ``.lp_conditional_test_fn`` and ``.ARP_computeCI``
(github.com/asheshrambachan/HonestDiD, R/arp-nuisance.R). For a candidate ``θ`` the moments
are ``y(θ) = Y − a θ`` with ``Y ~ N(μ, Σ_Y)``, and the null is that some nuisance ``ν`` has
``μ − a θ − X ν ≤ 0``. The statistic is the linear program

    η̂ = min_{η, ν} η   s.t.   y − X ν ≤ η · sd,      sd = sqrt(diag Σ_Y),

whose dual is ``max γ'y`` over the polytope ``{γ ≥ 0, sd'γ = 1, X'γ = 0}``. R solves both
programs with a solver at every grid point and finds the conditioning bounds by bisection;
here the polytope, which does not depend on ``y``, is enumerated once (its vertices are
basic solutions with ``k + 1`` non-zero weights; :class:`DualCone` keeps them, as the rays
of ``{γ ≥ 0, X'γ = 0}``, for problems that differ only in ``sd``), so that

* ``η̂(y) = max_v γ_v'y`` exactly, for the data and for every simulation draw;
* the optimal vertex ``γ̃`` stays optimal, with ``y = s + b c``, ``b = Σ_Y γ̃ / γ̃'Σ_Y γ̃``,
  exactly for ``c ∈ [V_lo, V_up]``, the bounds ARP's Algorithm 1 (their Appendix D)
  approximates by bisection: ``γ_v's ≤ (1 − γ_v'b) c`` for every vertex ``v``.

Hybrid (ARP §5, "LF"): reject when ``η̂`` exceeds the ``1 − κ`` quantile of ``η̂`` under
``μ = 0`` (the least-favourable critical value, simulated); otherwise reject when
``η̂ / σ_B`` exceeds the ``1 − (α − κ)/(1 − κ)`` quantile of a standard normal truncated
to ``[V_lo, min(V_up, c_LF)] / σ_B`` (and at least 0). R uses this cap only when there are
nuisance parameters (``n_post ≥ 2``); its single-post-period path omits it, which widens that
interval (for ``M̄ = 0``: ``±2.00 σ`` instead of ``±1.96 σ``). The cap is applied throughout.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from itertools import combinations

import numpy as np
from scipy import special

__all__ = [
    "DualCone",
    "HybridTest",
    "interval_sides",
    "invert_test",
    "truncnorm_quantile",
]

#: Largest number of candidate supports enumerated (C(2·n_post, n_post) for ΔRM: n_post ≤ 10).
MAX_SUPPORTS = 200_000
_COND_MAX = 1e12  # a support whose basis matrix is worse conditioned is skipped as singular
_FEAS_TOL = 1e-10  # γ_i · sd_i ≥ −tol counts as non-negative
_DEN_TOL = 1e-9  # |1 − γ_v'b| below this: the vertex moves with γ̃ and does not bound c
_VAR_TOL = 1e-12  # γ̃'Σ_Y γ̃ (≤ 1 with this normalisation) below this counts as zero


class DualCone:
    """The cone ``{γ ≥ 0 : X'γ = 0}``: its extreme rays, found once, scaled to ``sd'γ = 1``
    are the vertices a support-by-support enumeration finds at any ``sd``
    (``tests/honest_reference.py``, which the C-LF test used before).

    Relative magnitudes test the same ``X`` at every ``M̄``, with other ``sd``. A basic
    solution on support ``S`` solves ``[sd_S'; X_S'] γ_S = e_1``: it is the null vector
    ``n_S`` of ``X_S'`` scaled by ``1 / sd_S'n_S``. The ``n_S`` are found here, once, and
    :meth:`vertices` only rescales them. The tolerances keep their meaning:

    * conditioning: a support counts when ``cond(X_S') < _COND_MAX``. The enumeration
      asks it of ``[sd_S'; X_S']``, whose condition number is at least ``cond(X_S')``; for
      a feasible ray ``sd_S'n_S`` sums terms of one sign, so the rest of that test could
      fail only through ratios of ``sd`` near ``_COND_MAX``;
    * feasibility: at each ``sd``, on the weight shares ``γ_i sd_i ≥ −_FEAS_TOL``, as there;
    * de-duplication: once, on the rays scaled to unit 1-norm and rounded to 9 decimals
      (there: the shares ``γ_i sd_i``, the same direction scaled by ``sd``), keeping the
      first support's ray, so that the vertices come in the same order.

    The vertices equal the enumeration's up to rounding (tests/did/test_honest.py).
    """

    def __init__(self, x: np.ndarray) -> None:
        m, k = x.shape
        supports = _supports(m, k + 1)
        rays = np.zeros((len(supports), m))
        if k == 0:  # one moment per support: n_S = 1
            np.put_along_axis(rays, supports, 1.0, axis=1)
        else:
            _, sv, vt = np.linalg.svd(np.transpose(x.T[:, supports], (1, 0, 2)))  # (C, k, k+1)
            spanning = sv[:, -1] * _COND_MAX > sv[:, 0]
            np.put_along_axis(rays, supports, vt[:, -1, :], axis=1)
            rays = rays[spanning]
        # One orientation (the largest weight positive) and unit 1-norm for the key.
        big = np.take_along_axis(rays, np.argmax(np.abs(rays), axis=1)[:, None], axis=1)
        unit = rays / (np.sign(big) * np.sum(np.abs(rays), axis=1, keepdims=True))
        self.x = x
        self.rays = unit[_first_of_each(np.round(unit, 9))]  # (U, m)

    def vertices(self, sd: np.ndarray) -> np.ndarray:
        """(V, m) the vertices of ``{γ ≥ 0 : sd'γ = 1, X'γ = 0}``, one per row."""
        basis = np.vstack([sd[None, :], self.x.T])
        if np.linalg.matrix_rank(basis) < len(basis):
            raise ValueError("the nuisance columns and the moment scales are linearly dependent")
        with np.errstate(divide="ignore", invalid="ignore"):
            verts = self.rays / (self.rays @ sd)[:, None]
        feasible = np.all(verts * sd[None, :] >= -_FEAS_TOL, axis=1)
        return np.clip(verts[feasible], 0.0, None)


def _first_of_each(keys: np.ndarray) -> np.ndarray:
    """Rows of ``keys`` not equal to an earlier row, in order.

    What ``np.sort(np.unique(keys, axis=0, return_index=True)[1])`` gives (a stable
    sort, so the first of equal rows), by a lexicographic sort of the columns:
    ``np.unique`` with ``axis`` was a third of the vertex enumeration.
    """
    order = np.lexsort(keys.T[::-1])
    ranked = keys[order]
    new = np.ones(len(keys), dtype=bool)
    new[1:] = np.any(ranked[1:] != ranked[:-1], axis=1)
    return np.sort(order[new])


def _supports(m: int, r: int) -> np.ndarray:
    """(C(m, r), r) every ``r``-subset of ``range(m)`` in lexicographic order (read-only);
    ``ValueError`` beyond ``MAX_SUPPORTS``."""
    n_supports = math.comb(m, r)
    if n_supports > MAX_SUPPORTS:
        raise ValueError(
            f"{n_supports} candidate vertices ({m} moments, {r - 1} nuisance parameters) exceed "
            f"the limit of {MAX_SUPPORTS}; use fewer post-periods (n_post <= 10)"
        )
    return _subsets(m, r)


@functools.cache
def _subsets(m: int, r: int) -> np.ndarray:
    """(C(m, r), r) every ``r``-subset of ``range(m)`` in lexicographic order (read-only)."""
    out = np.array(list(combinations(range(m), r)), dtype=int).reshape(-1, r)
    out.setflags(write=False)
    return out


def truncnorm_quantile(p: float, lo: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``p`` quantile of a standard normal truncated to ``[lo, up]``, in log space.

    ``Φ(q) = (1 − p) Φ(lo) + p Φ(up)``, evaluated with ``log Φ`` (and its mirror image when
    ``lo > 0``) so that truncation far in a tail loses no precision, as R's
    ``TruncatedNormal::norminvp`` does.
    """
    lo, up = np.asarray(lo, dtype=float), np.asarray(up, dtype=float)
    upper_tail = lo > 0
    a = np.where(upper_tail, -up, lo)  # mirror: quantile 1 − p of [−up, −lo]
    b = np.where(upper_tail, -lo, up)
    w_a = np.where(upper_tail, p, 1.0 - p)
    with np.errstate(divide="ignore"):
        log_mass = np.logaddexp(
            np.log(w_a) + special.log_ndtr(a), np.log1p(-w_a) + special.log_ndtr(b)
        )
    q = special.ndtri_exp(log_mass)
    return np.where(upper_tail, -q, q)


class HybridTest:
    """The conditional least-favourable hybrid test of ``θ`` for one moment problem.

    Parameters
    ----------
    y0
        (m,) moments at ``θ = 0``: ``A β̂ − d``.
    a
        (m,) how the moments move with ``θ``: ``y(θ) = y0 − a θ``.
    cone
        The cone ``{γ ≥ 0 : X'γ = 0}`` of the (m, k) nuisance columns ``X``; its rays,
        scaled by ``sd = sqrt(diag Σ_Y)``, are the vertices of the dual polytope.
    sigma_y
        (m, m) covariance of the moments.
    a_mat
        (m, n) the moments as rows of coefficients: ``Y = A β̂ − d``.
    draws
        (N, n) draws ``ξ ~ N(0, Σ)`` of the coefficients' noise; the moments' noise is
        ``A ξ``. They give the least-favourable critical value and are fixed by the caller,
        so that results are deterministic. Fortran order is fastest (``draws.T`` is then
        C-contiguous).
    alpha, kappa
        Level of the test and of its first (least-favourable) stage.
    """

    def __init__(
        self,
        y0: np.ndarray,
        a: np.ndarray,
        cone: DualCone,
        sigma_y: np.ndarray,
        a_mat: np.ndarray,
        draws: np.ndarray,
        alpha: float,
        kappa: float,
    ) -> None:
        sd = np.sqrt(np.diag(sigma_y))
        if not np.all(sd > 0):
            raise ValueError("a moment has zero variance; sigma must be positive definite")
        verts = cone.vertices(sd)
        self.n_vertices = len(verts)
        self.gy = verts @ y0
        self.ga = verts @ a
        self.gsg = verts @ sigma_y @ verts.T
        var = np.diag(self.gsg)
        with np.errstate(divide="ignore", invalid="ignore"):
            # γ_v'b for each optimal vertex (column) γ̃: a function of γ̃ alone.
            self.gb = self.gsg / var[None, :]
        self.mod_size = (alpha - kappa) / (1.0 - kappa)
        if self.n_vertices:
            # (V, N), the maximum over its rows: a reduction along the long axis, 5–10×
            # faster than over the V columns of (N, V), and the same numbers.
            eta_null = np.max((verts @ a_mat) @ draws.T, axis=0)
            self.lf_cv = float(np.quantile(eta_null, 1.0 - kappa))
        else:
            self.lf_cv = math.inf

    def accepts(self, theta: np.ndarray) -> np.ndarray:
        """Whether the test fails to reject each ``θ`` in ``theta`` (vectorised)."""
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        if self.n_vertices == 0:  # η̂ = −∞: every θ is consistent with the moments
            return np.ones(theta.shape, dtype=bool)
        vals = self.gy[:, None] - self.ga[:, None] * theta[None, :]  # (V, T): γ_v'y(θ)
        eta = np.max(vals, axis=0)
        reject = eta > self.lf_cv
        # The optimal vertex (argmax, slower than max across the rows) only where the
        # first stage does not reject: most θ of a grid are rejected there.
        cand = np.flatnonzero(~reject)
        vals, eta = vals[:, cand], eta[cand]
        best = np.argmax(vals, axis=0)
        var_b = self.gsg[best, best]
        degenerate = var_b < _VAR_TOL
        reject[cand[degenerate & (eta > 0)]] = True
        todo = ~degenerate
        if not np.any(todo):
            return ~reject
        vals, best, eta, var_b, cand = vals[:, todo], best[todo], eta[todo], var_b[todo], cand[todo]
        gb = self.gb[:, best]  # γ_v'b
        gs = vals - gb * eta[None, :]  # γ_v's
        den = 1.0 - gb
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = gs / den
        v_lo = np.max(np.where(den > _DEN_TOL, ratio, -np.inf), axis=0)
        v_up = np.min(np.where(den < -_DEN_TOL, ratio, np.inf), axis=0)
        sigma_b = np.sqrt(var_b)
        stat = eta / sigma_b
        z_lo = v_lo / sigma_b
        z_up = np.minimum(v_up, self.lf_cv) / sigma_b
        inside = (z_lo <= stat) & (stat <= z_up)
        rej2 = np.zeros(stat.shape, dtype=bool)
        if np.any(inside):
            lo, up = z_lo[inside], z_up[inside]
            cval = np.where(up > lo, truncnorm_quantile(1.0 - self.mod_size, lo, up), lo)
            rej2[inside] = stat[inside] > np.maximum(0.0, cval)
        reject[cand[rej2]] = True
        return ~reject


def invert_test(
    accepts: Callable[[np.ndarray], np.ndarray],
    center: float,
    half_width: float,
    *,
    n_grid: int = 1001,
    max_doublings: int = 40,
) -> tuple[float, float]:
    """Smallest and largest ``θ`` a test accepts: a grid, then refinement at each end.

    The grid ``center ± half_width`` (``n_grid`` points, deterministic) locates the accepted
    set. When an end of the grid is accepted the search steps outward, doubling the step;
    an end still accepted after ``max_doublings`` steps is infinite. Each end is then refined
    between its last accepted and first rejected point by ``_REFINE_ROUNDS`` rounds of
    ``_REFINE_POINTS`` equally spaced tests (a factor 129 per round: ~4e-9 of the grid step).
    R instead reports the outermost accepted point of a 1,000-point grid on ``±20 σ_θ``.
    No accepted point: ``(nan, nan)``.
    """
    found = _brackets(accepts, center, half_width, n_grid, max_doublings)
    if found is None:
        return math.nan, math.nan
    ends, brackets = found
    for end, value in _refine(accepts, brackets).items():
        ends[end] = value
    return ends[0], ends[1]


def interval_sides(
    accepts: Callable[[np.ndarray], np.ndarray],
    center: float,
    half_width: float,
    *,
    n_grid: int = 1001,
    max_doublings: int = 40,
) -> tuple[bool, bool] | None:
    """``(lower > 0, upper < 0)`` of the interval :func:`invert_test` returns, or None
    where it returns ``(nan, nan)``; the same answer, at a fraction of the cost.

    Refinement keeps each end between its bracket's accepted and rejected points, so an
    end whose bracket lies on one side of 0 is on that side: only an end whose bracket
    holds 0 is refined (a breakdown search asks only on which side of 0 intervals lie).
    """
    found = _brackets(accepts, center, half_width, n_grid, max_doublings)
    if found is None:
        return None
    ends, brackets = found
    straddle = {k: b for k, b in brackets.items() if min(b) <= 0.0 <= max(b)}
    for k, b in brackets.items():
        # An end inside a bracket that does not hold 0 is on the bracket's side of it.
        ends[k] = b[0] if k not in straddle else ends[k]
    ends.update(_refine(accepts, straddle))
    return ends[0] > 0, ends[1] < 0


def _brackets(
    accepts: Callable[[np.ndarray], np.ndarray],
    center: float,
    half_width: float,
    n_grid: int,
    max_doublings: int,
) -> tuple[dict[int, float], dict[int, tuple[float, float]]] | None:
    """The grid search of :func:`invert_test`: ends found infinite (``±inf``), and the
    others' (last accepted, first rejected) points; None when no grid point is accepted."""
    grid = center + half_width * np.linspace(-1.0, 1.0, n_grid)
    acc = np.asarray(accepts(grid), dtype=bool)
    if not np.any(acc):
        return None
    hits = np.flatnonzero(acc)
    ends: dict[int, float] = {}
    brackets: dict[int, tuple[float, float]] = {}
    for end, (idx, direction) in enumerate(((int(hits[0]), -1), (int(hits[-1]), 1))):
        inside = float(grid[idx])
        nxt = idx + direction
        if 0 <= nxt < n_grid:
            outside = float(grid[nxt])
        else:
            outside = math.nan
            step = 2.0 * half_width / (n_grid - 1)
            for _ in range(max_doublings):
                probe = inside + direction * step
                if not bool(accepts(np.array([probe]))[0]):
                    outside = probe
                    break
                inside, step = probe, 2.0 * step
        ends[end] = direction * math.inf
        if not math.isnan(outside):
            brackets[end] = (inside, outside)
    return ends, brackets


_REFINE_ROUNDS = 4
_REFINE_POINTS = 128


def _refine(
    accepts: Callable[[np.ndarray], np.ndarray], brackets: dict[int, tuple[float, float]]
) -> dict[int, float]:
    """Last accepted point between each accepted ``inside`` and rejected ``outside``.

    Both ends of an interval are refined in one test call per round: the test treats
    each ``θ`` on its own, so this halves the calls and changes no result.
    """
    brackets = dict(brackets)
    keys = list(brackets)
    for _ in range(_REFINE_ROUNDS if keys else 0):
        pts = [np.linspace(*brackets[k], _REFINE_POINTS + 2)[1:-1] for k in keys]
        accepted = np.asarray(accepts(np.concatenate(pts)), dtype=bool)
        for i, k in enumerate(keys):
            inside, outside = brackets[k]
            rejected = np.flatnonzero(~accepted[i * _REFINE_POINTS : (i + 1) * _REFINE_POINTS])
            if rejected.size == 0:
                inside = float(pts[i][-1])
            else:
                first = int(rejected[0])
                outside = float(pts[i][first])
                if first > 0:
                    inside = float(pts[i][first - 1])
            brackets[k] = (inside, outside)
    return {k: brackets[k][0] for k in keys}
