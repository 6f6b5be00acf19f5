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
from collections.abc import Sequence
from itertools import combinations
from typing import NamedTuple

import numpy as np
from scipy import special

__all__ = [
    "DualCone",
    "HybridTests",
    "MomentProblem",
    "truncnorm_quantile",
    "upper_quantile",
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
        # For the rank check of vertices(): X = Q S W', Q orthonormal (m, k).
        q, s, _ = np.linalg.svd(x, full_matrices=False)
        self._q, self._s_min = q, float(s[-1]) if k else math.inf
        self._x_norm2 = float(np.sum(x**2))

    def vertices(self, sd: np.ndarray) -> np.ndarray:
        """(V, m) the vertices of ``{γ ≥ 0 : sd'γ = 1, X'γ = 0}``, one per row."""
        if not self._full_rank(sd):
            raise ValueError("the nuisance columns and the moment scales are linearly dependent")
        with np.errstate(divide="ignore", invalid="ignore"):
            verts = self.rays / (self.rays @ sd)[:, None]
        feasible = np.all(verts * sd[None, :] >= -_FEAS_TOL, axis=1)
        return np.clip(verts[feasible], 0.0, None)

    def _full_rank(self, sd: np.ndarray) -> bool:
        """Whether ``[sd'; X']`` has full row rank as ``np.linalg.matrix_rank`` finds it;
        without its SVD when a lower bound on the smallest singular value leaves no doubt.

        With ``r`` the part of ``sd`` outside the span of ``X``, ``p`` the part inside and
        ``σ`` the smallest singular value of ``X``, every unit ``(a, b)`` has
        ``|a sd + X b|² = a²|r|² + |a p + X b|²``, which gives
        ``σ_min ≥ min(σ|r| / (2(σ + |p|)), 0.36 σ)`` (split at ``|a| = σ / (2(σ + |p|))``).
        Far above ``matrix_rank``'s tolerance (``~1e-15 ‖·‖``) the SVD would agree.
        """
        inside = self._q.T @ sd
        outside = sd - self._q @ inside
        p, r = math.sqrt(float(inside @ inside)), math.sqrt(float(outside @ outside))
        s = self._s_min
        bound = r if math.isinf(s) else min(s * r / (2.0 * (s + p)), 0.36 * s)
        if bound > 1e-8 * math.sqrt(float(sd @ sd) + self._x_norm2):
            return True
        basis = np.vstack([sd[None, :], self.x.T])
        return bool(np.linalg.matrix_rank(basis) == len(basis))


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


def upper_quantile(x: np.ndarray, q: float) -> float:
    """``np.quantile(x, q)`` (linear interpolation) of a finite sample, for ``q`` near 1.

    Only the two order statistics the interpolation uses are needed, and they are among
    the largest values: those at or above a threshold taken from a strided subsample are
    selected and sorted, instead of partitioning all of ``x`` (whose cost depends on the
    data: 0.1–4 ms for 10,000 draws). The interpolation is numpy's, operation for operation,
    so the result is the same number (tests/did/test_honest.py); when fewer values pass
    the threshold than needed, ``np.quantile`` itself is used.
    """
    n = x.size
    virtual = (n - 1) * q
    below = math.floor(virtual)
    need = n - below  # order statistics below … n − 1
    if need < 2 or 8 * need > n:
        return float(np.quantile(x, q))
    sub = x[::8]
    # ~4 × need values of x are expected at or above the subsample's (need / 2)-th largest.
    thresh = np.partition(sub, sub.size - need // 2 - 1)[sub.size - need // 2 - 1]
    top = x[x >= thresh]
    if top.size < need:
        return float(np.quantile(x, q))
    top.sort()
    a, b = top[-need], top[-need + 1]
    gamma = virtual - below
    diff = b - a
    # numpy's _lerp: from the nearer end.
    return float(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma)


class MomentProblem(NamedTuple):
    """One moment problem: ``y(θ) = y0 − a θ``, ``Y = A β̂ − d ~ N(μ, Σ_Y)``.

    Attributes
    ----------
    y0
        (m,) moments at ``θ = 0``: ``A β̂ − d``.
    a
        (m,) how the moments move with ``θ``.
    cone
        The cone ``{γ ≥ 0 : X'γ = 0}`` of the (m, k) nuisance columns ``X``; its rays,
        scaled by ``sd = sqrt(diag Σ_Y)``, are the vertices of the dual polytope.
    sigma_y
        (m, m) covariance of the moments.
    a_mat
        (m, n) the moments as rows of coefficients.
    """

    y0: np.ndarray
    a: np.ndarray
    cone: DualCone
    sigma_y: np.ndarray
    a_mat: np.ndarray


class HybridTests:
    """Conditional least-favourable hybrid tests of ``θ``, one per moment problem, evaluated
    together: their dual vertices are stacked (padded to the largest count with vertices
    that never bind: ``γ'y = −∞``, ``γ'b = 0``), so that one call tests any number of
    ``θ`` for any of them, with the same numbers as a call per test.

    Parameters
    ----------
    problems
        The moment problems, one test each (index = position).
    draws
        (N, n) draws ``ξ ~ N(0, Σ)`` of the coefficients' noise; the moments' noise is
        ``A ξ``. They give the least-favourable critical value and are fixed by the caller,
        so that results are deterministic. Fortran order is fastest (``draws.T`` is then
        C-contiguous).
    alpha, kappa
        Level of the tests and of their first (least-favourable) stage.
    """

    def __init__(
        self, problems: Sequence[MomentProblem], draws: np.ndarray, alpha: float, kappa: float
    ) -> None:
        pieces = [_test_pieces(p, draws, kappa) for p in problems]
        self.n_vertices = np.array([len(gy) for gy, *_ in pieces], dtype=int)
        k, n_v = len(pieces), max([1, *self.n_vertices.tolist()])
        self.gy = np.full((k, n_v), -np.inf)
        self.ga = np.zeros((k, n_v))
        self.gsg = np.zeros((k, n_v, n_v))
        self.gb = np.zeros((k, n_v, n_v))  # [test, v, optimal vertex]: γ_v'b
        self.lf_cv = np.empty(k)
        for i, (gy, ga, gsg, gb, lf_cv) in enumerate(pieces):
            v = len(gy)
            self.gy[i, :v], self.ga[i, :v], self.lf_cv[i] = gy, ga, lf_cv
            self.gsg[i, :v, :v], self.gb[i, :v, :v] = gsg, gb
        self.mod_size = (alpha - kappa) / (1.0 - kappa)

    def __len__(self) -> int:
        return len(self.lf_cv)

    def first_stage_span(
        self, tests: np.ndarray, grid: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each test, ``[start, stop)``: the indices of the non-decreasing ``grid``
        whose ``θ`` the first stage does not reject (``η̂ ≤ c_LF``); it rejects all others.

        Each vertex's ``γ_v'y(θ) = γ_v'y0 − (γ_v'a) θ``, computed as :meth:`accepts`
        computes it, is monotone in ``θ`` (rounding is monotone), so the ``θ`` a vertex
        rejects are a prefix of the grid (``γ_v'a ≥ 0``) or a suffix; a bisection per
        vertex finds where, with the same numbers: the span is exact.
        """
        gy, ga, cv = self.gy[tests], self.ga[tests], self.lf_cv[tests, None]  # (K, V)
        prefix = ga >= 0
        n = len(grid)
        lo, hi = np.zeros(gy.shape, dtype=int), np.full(gy.shape, n)
        for _ in range(n.bit_length()):  # the first index past a prefix, or of a suffix
            mid = (lo + hi) // 2
            past = (gy - ga * grid[np.minimum(mid, n - 1)] > cv) != prefix
            searching = lo < hi
            hi = np.where(searching & past, mid, hi)
            lo = np.where(searching & ~past, mid + 1, lo)
        start = np.max(np.where(prefix, lo, 0), axis=1)
        stop = np.min(np.where(prefix, n, lo), axis=1)
        return start, np.maximum(start, stop)

    def accepts(self, tests: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """(R, T): whether test ``tests[r]`` fails to reject ``theta[r, t]``."""
        tests = np.asarray(tests, dtype=int)
        theta = np.asarray(theta, dtype=float)
        vals = self.gy[tests, :, None] - self.ga[tests, :, None] * theta[:, None, :]  # γ_v'y(θ)
        eta = np.max(vals, axis=1)
        reject = eta > self.lf_cv[tests, None]
        # The optimal vertex (argmax, slower than max) only where the first stage does
        # not reject: most θ of a grid are rejected there.
        row, col = np.nonzero(~reject)
        vals, eta, test = vals[row, :, col], eta[row, col], tests[row]  # (P, V), (P,), (P,)
        best = np.argmax(vals, axis=1)
        var_b = self.gsg[test, best, best]
        degenerate = var_b < _VAR_TOL
        hit = degenerate & (eta > 0)
        reject[row[hit], col[hit]] = True
        todo = ~degenerate
        vals, best, eta, var_b, test = vals[todo], best[todo], eta[todo], var_b[todo], test[todo]
        row, col = row[todo], col[todo]
        gb = self.gb[test, :, best]  # (P, V): γ_v'b
        gs = vals - gb * eta[:, None]  # γ_v's
        den = 1.0 - gb
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = gs / den
        v_lo = np.max(np.where(den > _DEN_TOL, ratio, -np.inf), axis=1)
        v_up = np.min(np.where(den < -_DEN_TOL, ratio, np.inf), axis=1)
        sigma_b = np.sqrt(var_b)
        stat = eta / sigma_b
        z_lo = v_lo / sigma_b
        z_up = np.minimum(v_up, self.lf_cv[test]) / sigma_b
        inside = np.flatnonzero((z_lo <= stat) & (stat <= z_up))
        if inside.size:
            lo, up = z_lo[inside], z_up[inside]
            cval = np.where(up > lo, truncnorm_quantile(1.0 - self.mod_size, lo, up), lo)
            inside = inside[stat[inside] > np.maximum(0.0, cval)]
            reject[row[inside], col[inside]] = True
        accept = ~reject
        accept[self.n_vertices[tests] == 0] = True  # η̂ = −∞: every θ is consistent
        return accept


def _test_pieces(
    problem: MomentProblem, draws: np.ndarray, kappa: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """``γ_v'y0``, ``γ_v'a``, ``γ_v'Σ_Y γ_w``, ``γ_v'b`` (b for each optimal vertex
    ``w``, a column) and the least-favourable critical value of one test."""
    y0, a, cone, sigma_y, a_mat = problem
    sd = np.sqrt(np.diag(sigma_y))
    if not np.all(sd > 0):
        raise ValueError("a moment has zero variance; sigma must be positive definite")
    verts = cone.vertices(sd)
    gsg = verts @ sigma_y @ verts.T
    with np.errstate(divide="ignore", invalid="ignore"):
        gb = gsg / np.diag(gsg)[None, :]
    if not len(verts):
        return verts @ y0, verts @ a, gsg, gb, math.inf
    # (V, N), the maximum over its rows: a reduction along the long axis, 5–10× faster
    # than over the V columns of (N, V), and the same numbers.
    eta_null = np.max((verts @ a_mat) @ draws.T, axis=0)
    return verts @ y0, verts @ a, gsg, gb, upper_quantile(eta_null, 1.0 - kappa)
