"""Earlier implementations of the C-LF test, kept as test oracles.

* The vertex enumeration used before :class:`DualCone`: for one ``sd``, every support of
  ``k + 1`` moments is solved for the basic solution of ``[sd'; X'] γ = e_1`` and kept
  when it is well conditioned and non-negative. The tests check that
  :class:`~sahel_eval.did.honest.arp.DualCone` finds the same vertices, in the same order,
  at any ``sd``.
* One hybrid test at a time (:class:`HybridTest`, ``np.quantile`` for its critical value),
  inverted on its own (:func:`invert_test`, :func:`interval_sides`), as
  ``RelativeMagnitude`` did before :class:`~sahel_eval.did.honest.arp.HybridTests`
  evaluated its tests together (:func:`reference_interval`,
  :func:`reference_excludes_zero`). The tests check that both give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sahel_eval.did.honest.arp import (
    _COND_MAX,
    _DEN_TOL,
    _FEAS_TOL,
    _VAR_TOL,
    DualCone,
    _first_of_each,
    _supports,
    truncnorm_quantile,
)
from sahel_eval.did.honest.relative_magnitude import GRID_HALF_WIDTH, RelativeMagnitude

_BATCH = 20_000


def dual_vertices(sd: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Vertices of ``{γ ≥ 0 : sd'γ = 1, X'γ = 0}``, one per row, duplicates removed.

    Parameters
    ----------
    sd
        (m,) positive standard deviations of the moments.
    x
        (m, k) nuisance columns, full column rank with ``sd`` appended.

    Returns
    -------
    numpy.ndarray
        (V, m) vertices; (0, m) when the polytope is empty (the program is unbounded below).
        :class:`DualCone` gives the same for many ``sd`` at once (the tests check it).
    """
    m, k = x.shape
    basis = np.vstack([sd[None, :], x.T])  # (k + 1, m)
    r = k + 1
    if np.linalg.matrix_rank(basis) < r:
        raise ValueError("the nuisance columns and the moment scales are linearly dependent")
    rhs = np.zeros(r)
    rhs[0] = 1.0
    found = []
    all_supports = _supports(m, r)
    for start in range(0, len(all_supports), _BATCH):
        chunk = all_supports[start : start + _BATCH]
        mats = np.transpose(basis[:, chunk], (1, 0, 2))  # (C, r, r), column j = moment chunk[j]
        ok = _well_conditioned(mats)
        if not np.any(ok):
            continue
        sol = np.linalg.solve(mats[ok], np.broadcast_to(rhs, (int(ok.sum()), r))[..., None])[..., 0]
        feasible = np.all(sol * sd[chunk[ok]] >= -_FEAS_TOL, axis=1)
        idx, vals = chunk[ok][feasible], sol[feasible]
        g = np.zeros((len(idx), m))
        np.put_along_axis(g, idx, np.clip(vals, 0.0, None), axis=1)
        found.append(g)
    verts = np.concatenate(found) if found else np.zeros((0, m))
    if not len(verts):
        return verts
    return verts[_first_of_each(np.round(verts * sd[None, :], 9))]


def _well_conditioned(mats: np.ndarray) -> np.ndarray:
    """Which (C, r, r) matrices have ``cond_2 < _COND_MAX``, as ``np.linalg.cond`` says.

    Bounds from ``|det|`` (one batched LU, no SVD) settle most matrices:
    ``‖M‖_F / (√r |det|^{1/r}) ≤ cond_2 ≤ ‖M‖_F^r / |det|``. Only those the bounds leave
    in doubt get the SVD.
    """
    r = mats.shape[-1]
    fro = np.linalg.norm(mats, axis=(1, 2))
    absdet = np.abs(np.linalg.det(mats))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        upper = fro**r / absdet
        lower = fro / (math.sqrt(r) * absdet ** (1.0 / r))
    ok = upper < _COND_MAX
    doubt = ~ok & ~(lower >= _COND_MAX)
    if np.any(doubt):
        ok[doubt] = np.linalg.cond(mats[doubt]) < _COND_MAX
    return ok


def reference_interval(rm: RelativeMagnitude, mbar: float) -> tuple[float, float]:
    """``rm.interval(mbar)`` as computed before: each choice's test inverted on its own."""
    es, lows, highs = rm.es, [], []
    for test in reference_tests(rm, mbar):
        lo, hi = invert_test(test.accepts, es.theta_hat, GRID_HALF_WIDTH * es.theta_se)
        if not math.isnan(lo):
            lows.append(lo)
            highs.append(hi)
    if not lows:
        return math.nan, math.nan
    return min(lows), max(highs)


def reference_excludes_zero(rm: RelativeMagnitude, mbar: float) -> bool:
    """``rm.excludes_zero(mbar)`` as computed before: choice by choice."""
    es = rm.es
    above = below = True
    tested = False
    for test in reference_tests(rm, mbar):
        sides = interval_sides(test.accepts, es.theta_hat, GRID_HALF_WIDTH * es.theta_se)
        if sides is None:
            continue
        tested = True
        above, below = above and sides[0], below and sides[1]
        if not (above or below):
            return False
    return tested and (above or below)


def reference_tests(rm: RelativeMagnitude, mbar: float) -> list[HybridTest]:
    """The tests of ``rm`` at ``mbar``, one per choice of the maximal pre-period."""
    es = rm.es
    return [
        HybridTest(
            y0=a_mat @ es.betahat,
            a=choice.a,
            cone=choice.cone,
            sigma_y=a_mat @ es.sigma @ a_mat.T,
            a_mat=a_mat,
            draws=rm.draws,
            alpha=es.alpha,
            kappa=es.alpha / 10.0,
        )
        for a_mat, choice in zip(rm.constraints(mbar), rm._choices, strict=True)
    ]


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
