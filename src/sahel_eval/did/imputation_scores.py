"""The refit machinery of the imputation estimator (:mod:`~sahel_eval.did.imputation`):
one assignment of cohorts, many outcomes and targets.

The untreated two-way design factored once (:class:`_TwoWay`), the rows' coding that no
assignment changes (:class:`_Panel`), and the estimates and cluster scores of every
target and outcome for one assignment (:class:`_ImputationScores`), which the
estimator and its randomisation inference (:mod:`~sahel_eval.did.imputation_ri`) share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components

from sahel_eval.did.imputation_kernel import kernels


class _TwoWay:
    """Unit and period dummies of some rows (weighted), factored once for many solves.

    Built from the rows' weight sums: ``cross`` (units × periods, each unit and period
    present), per unit ``wu`` and per period ``wp``; ``units`` names the units in the
    message when the design is not connected.
    """

    def __init__(
        self, cross: np.ndarray, wu: np.ndarray, wp: np.ndarray, units: np.ndarray
    ) -> None:
        nu, n_periods = cross.shape
        self.nu, self.n_periods = nu, n_periods
        # Units × periods is small: dense, so that the products below are BLAS calls.
        if not _connected(cross):
            cu, cp = np.nonzero(cross)
            graph = sparse.coo_matrix(
                (np.ones(len(cu)), (cu, nu + cp)), shape=(nu + n_periods,) * 2
            )
            n_comp, labels = connected_components(graph, directed=False)
            small = labels[:nu] != np.bincount(labels).argmax()
            names = ", ".join(map(str, units[small][:5]))
            raise ValueError(
                f"imputation: the untreated observations form {n_comp} groups with no "
                f"period in common (units {names} …): unit and period effects are not "
                "identified; drop those units or add untreated periods that link them"
            )
        # Drop the first period's dummy: the connected design then has full rank. The
        # unit block is diagonal, so it is eliminated (Schur complement on the periods):
        # a dense factor of size periods − 1, whatever the number of units.
        self.wu = wu
        # A view: BLAS reads it with its row stride, no copy needed.
        self.c = cross[:, 1:]
        schur = np.diag(wp[1:]) - self.c.T @ (self.c / self.wu[:, None])
        self.chol = linalg.cho_factor(schur)

    @classmethod
    def of(
        cls, unit: np.ndarray, period: np.ndarray, w: np.ndarray
    ) -> tuple[_TwoWay, np.ndarray, np.ndarray]:
        """The design of rows given by their unit and period values, and the rows'
        unit and period codes."""
        units, u = _sorted_codes(unit)
        periods, p = _sorted_codes(period)
        nu, n_p = len(units), len(periods)
        cross = np.bincount(u * n_p + p, w, nu * n_p).reshape(nu, n_p)
        wu = np.bincount(u, weights=w, minlength=nu)
        return cls(cross, wu, np.bincount(p, weights=w, minlength=n_p), units), u, p

    def solve(self, by_unit: np.ndarray, by_period: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Z'WZ)⁻¹ applied to the unit and period sums of a vector."""
        a, b = self.solve_many(by_unit[:, None], by_period[:, None])
        return a[:, 0], b[:, 0]

    def solve_many(
        self, by_unit: np.ndarray, by_period: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`solve` for many columns (units × J, periods × J); overwrites ``by_unit``."""
        scaled = np.divide(by_unit, self.wu[:, None], out=by_unit)
        b = linalg.cho_solve(self.chol, by_period[1:] - self.c.T @ scaled)
        shift = self.c @ b
        shift /= self.wu[:, None]
        scaled -= shift
        return scaled, np.vstack([np.zeros((1, b.shape[1])), b])

    def residualize(self, x: np.ndarray, u: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``x`` minus its projection on the dummies (rows' codes ``u``, ``p``, weights ``w``)."""
        xw = x * w
        a, b = self.solve(
            np.bincount(u, weights=xw, minlength=self.nu),
            np.bincount(p, weights=xw, minlength=self.n_periods),
        )
        return x - a[u] - b[p]


def _connected(cross: np.ndarray) -> bool:
    """Whether units and periods linked by the nonzero cells of ``cross`` (units ×
    periods, nonnegative, no empty row or column) form one group.

    Grown from the first unit, two dense products a step, until it stops growing: a
    few steps, where a sparse graph search cost a tenth of a refit.
    """
    reach = np.zeros(cross.shape[0], dtype=bool)
    reach[0] = True
    while True:
        grown = cross @ (reach @ cross > 0) > 0
        if (grown == reach).all():
            return bool(reach.all())
        reach = grown


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` by hashing, not sorting every row."""
    codes, distinct = pd.factorize(values, sort=True)
    return distinct, codes


def _ranks(seen: np.ndarray) -> np.ndarray:
    """Per code its rank among the codes ``seen`` (−1: not seen)."""
    return np.where(seen, np.cumsum(seen) - 1, -1)


@dataclass(frozen=True)
class _Panel:
    """The coding of the rows that no assignment of cohorts changes: found once, not
    in each refit of the randomisation inference."""

    unit: np.ndarray
    units: np.ndarray
    period: np.ndarray
    n_periods: int
    w: np.ndarray
    cl: np.ndarray
    n_cl: int
    # Each row's (cluster, unit) pair, and the cluster and unit of each pair.
    pair: np.ndarray
    pair_cl: np.ndarray
    pair_unit: np.ndarray

    @classmethod
    def of(
        cls,
        unit: np.ndarray,
        period: np.ndarray,
        w: np.ndarray,
        clusters: np.ndarray | None = None,
    ) -> _Panel:
        """Sorted unit and period codes, cluster codes (in order of appearance; no
        ``clusters``: the units, coded from their codes rather than their names)."""
        units, u = _sorted_codes(unit)
        periods, p = _sorted_codes(period)
        cl = pd.factorize(u if clusters is None else clusters)[0]
        pair, first = pd.factorize(cl * len(units) + u)
        pair_cl, pair_unit = np.divmod(first, len(units))
        n_p, n_cl = len(periods), int(cl.max()) + 1
        return cls(u, units, p, n_p, w, cl, n_cl, pair, pair_cl, pair_unit)


class _ImputationScores:
    """Estimates and cluster scores of many targets and outcomes for one
    assignment of cohorts.

    For fixed cohorts (``treated`` rows) the estimator and its residuals ε̃ are linear
    in the outcome, so one factorisation serves every outcome (Y, and the exposure D of
    the randomisation inference) and every target (overall, horizons).
    """

    def __init__(self, panel: _Panel, treated: np.ndarray) -> None:
        self.panel, self.treated = panel, treated
        k = kernels()
        seen_u = np.zeros(len(panel.units), dtype=bool)
        seen_p = np.zeros(panel.n_periods, dtype=bool)
        k.untreated_seen(treated, panel.unit, panel.period, seen_u, seen_p)
        # Design codes of every row (−1: a unit or period without untreated rows). When
        # every period has untreated rows (the rule) they are the panel's own codes.
        unit_of, period_of = _ranks(seen_u), _ranks(seen_p)
        self.unit_of = unit_of
        self.all_periods = bool(seen_p.all())
        self.u_idx = unit_of[panel.unit]
        self.p_idx = panel.period if self.all_periods else period_of[panel.period]
        nu, n_p = int(seen_u.sum()), int(seen_p.sum())
        cross, wu, wp = np.zeros((nu, n_p)), np.zeros(nu), np.zeros(n_p)
        k.untreated_weights(treated, self.u_idx, self.p_idx, panel.w, cross, wu, wp)
        self.design = _TwoWay(cross, wu, wp, panel.units[seen_u])
        self.imputable = treated & (self.u_idx >= 0) & (self.p_idx >= 0)

    def compute(
        self,
        ys: np.ndarray,
        pairs: tuple[np.ndarray, np.ndarray],
        n_k: int,
        by_cell: np.ndarray,
        by_cluster_cell: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Estimates (J × K) and cluster scores Σ v·ε̃ (J × G × K) of K targets for the J
        outcomes ``ys`` (J × n, one outcome a row).

        ``pairs`` (rows, targets) lists every imputable row with each target containing
        it (n_k targets). ``by_cell`` codes the pairs' groups of target × cell of
        ``avg_effects_by`` (any nonnegative labels: only the grouping counts), and
        ``by_cluster_cell`` those of target × cell × cluster; None when no cluster has
        two rows in one cell (clusters are units, cells hold one period), so that a
        row's cluster total of v in its cell is its own v (:func:`_cell_groups`). A
        target without rows has NaN estimates and zero scores.
        """
        d, pn = self.design, self.panel
        k = kernels()
        n_j = len(ys)
        # The untreated fit of each outcome (one outcome a row: contiguous memory).
        by_unit, by_period = np.zeros((d.nu, n_j)), np.zeros((d.n_periods, n_j))
        k.untreated_sums(ys, self.treated, self.u_idx, self.p_idx, pn.w, by_unit, by_period)
        a, b = d.solve_many(by_unit, by_period)
        a, b = np.ascontiguousarray(a.T), np.ascontiguousarray(b.T)
        # Aggregation weights ω: one entry per (imputable row, target containing it);
        # every other entry is 0, so each step runs over these pairs only (a dense rows ×
        # targets array was most of the cost of a refit).
        row, col = pairs
        total, v1 = np.zeros(n_k), np.empty(len(row))
        tau, est = np.empty((n_j, len(row))), np.zeros((n_j, n_k))
        v_by_unit, v_by_period = np.zeros((d.nu, n_k)), np.zeros((d.n_periods, n_k))
        k.treated_sums(
            ys,
            row,
            col,
            pn.w,
            self.u_idx,
            self.p_idx,
            a,
            b,
            total,
            v1,
            tau,
            est,
            v_by_unit,
            v_by_period,
        )
        est[:, total <= 0] = np.nan
        # Weights on the untreated outcomes implied by the imputation:
        # v0 = −w·(a_u[unit] + a_p[period]), kept in that factored form.
        a_u, a_p = d.solve_many(v_by_unit, v_by_period)
        # Treated residuals: τ̂ minus its cell average with Stata's cluster-aware weights
        # (each v_it times its cluster's total v in the cell).
        sw = v1 * (v1 if by_cluster_cell is None else _within(by_cluster_cell, v1))
        den = _within(by_cell, sw)
        # Σ over a cluster's untreated rows of v0·ε̃ = −(its w·ε̃ by unit)·a_u
        # − (its w·ε̃ by period)·a_p: by period, dense cluster × period sums of w·ε̃ times
        # a_p, written straight into the scores (J × G × K); by unit, sums over the
        # (cluster, unit) pairs, each cluster's in the order of their units.
        by_cl_period = np.zeros((n_j, pn.n_cl * d.n_periods))
        by_pair = np.zeros((n_j, len(pn.pair_cl)))
        k.residual_sums(
            ys,
            self.treated,
            self.u_idx,
            self.p_idx,
            pn.w,
            a,
            b,
            pn.cl,
            pn.pair,
            d.n_periods,
            by_cl_period,
            by_pair,
        )
        pair_u = self.unit_of[pn.pair_unit]
        linked = np.flatnonzero(pair_u >= 0)
        linked = linked[np.lexsort((pair_u[linked], pn.pair_cl[linked]))]
        n_cells = int(by_cell.max()) + 1 if len(by_cell) else 0
        score = np.empty((n_j, pn.n_cl, n_k))
        for j in range(n_j):
            np.matmul(by_cl_period[j].reshape(pn.n_cl, d.n_periods), a_p, out=score[j])
            k.cluster_scores(
                tau[j],
                v1,
                sw,
                by_cell,
                n_cells,
                den,
                pn.cl[row],
                col,
                by_pair[j, linked],
                pn.pair_cl[linked],
                pair_u[linked],
                a_u,
                score[j],
            )
        return est, score


def _within(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each entry's group total of ``values`` (groups: ``codes``)."""
    return np.bincount(codes, values)[codes] if len(codes) else values.copy()


def _cell_groups(
    cell: np.ndarray, cl: np.ndarray, n_cl: int, pairs: tuple[np.ndarray, np.ndarray], n_k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the ``pairs``' groups target × cell and target × cell × cluster (rows'
    ``cell`` and cluster ``cl`` codes), as :meth:`_ImputationScores.compute` takes them."""
    row, col = pairs
    cell1 = cell[row]
    return (
        pd.factorize(cell1 * n_k + col)[0],
        pd.factorize((cell1 * n_cl + cl[row]) * n_k + col)[0],
    )


def _target_pairs(
    rows: np.ndarray, rel: np.ndarray, horizons: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """(row, target) pairs of the imputable ``rows`` (event times ``rel``): each in the
    overall target 0, and in target k + 1 when ``rel`` is ``horizons[k]``.

    Row by row, as ``np.nonzero`` of a rows × targets mask would list them, without
    building that mask (rows × ~100 horizons at national scale).
    """
    h = np.asarray(horizons, dtype=float)
    order = np.argsort(h, kind="stable")
    first = np.searchsorted(h[order], rel, "left")
    hits = np.searchsorted(h[order], rel, "right") - first
    per_row = 1 + hits
    start = np.cumsum(per_row) - per_row
    col = np.zeros(int(per_row.sum()), dtype=np.intp)
    # A row's horizon entries follow its overall one: the matching horizons in order.
    at = np.ones(len(col), dtype=bool)
    at[start] = False
    at = np.flatnonzero(at)
    col[at] = order[np.repeat(first - start - 1, hits) + at] + 1
    return np.repeat(rows, per_row), col
