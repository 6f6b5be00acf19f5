"""What studentised randomisation inference needs from ``att_gt``, for many assignments.

For every placebo assignment m (unit cohorts) and every aggregated quantity q
(``att_gt(...).aggregate(kind)`` rows), the estimate on the outcome Y and on the
actual exposure D (:mod:`~sahel_eval.did.cs.randomization`; D_post in post-treatment
cells, D_pre in pre-treatment ones, since a quantity averages cells of one kind) and
the cross-products of their influence functions, ``Σ_i ψ_qo,i ψ_qp,i / n²``: the
facility-clustered variance of the estimate on ``Y − θD`` is then a quadratic in θ
(every ``att_gt`` method is linear in the outcome for a fixed assignment, and so are
its influence functions, the cohort-share ("wif") term included).

Two paths give the same numbers (to 1e-10, tested):

* **loop** — per assignment, the cell estimators and influence functions of
  :func:`~sahel_eval.did.cs.cells._estimate_cells` and the aggregation coefficients of
  :func:`~sahel_eval.did.cs.aggregate._term_coefficients`: exactly an ``att_gt`` fit
  and its aggregations.  Needed when the 2×2 models change with the assignment
  (covariates in dr/ipw/reg, repeated cross-sections) or DRDID's trimming may apply.
* **batched** — panels without covariates: every method is then the weighted mean
  change of the cohort minus that of its comparison units, with the influence function
  ``n·[w·1_T·(ΔY − μ_T)/Σ_T w − w·1_C·(ΔY − μ_C)/Σ_C w]``.  Units with the same cohort
  value play the same role in every cell, so a row's influence function on a unit is
  ``n·w_i·([ΔY_i, 1_i] · f_u)`` plus its cohort-share term: the long differences ΔY and
  observed-cell indicators (every outcome) are prepared once; per assignment, role
  sums give the cells, :class:`~sahel_eval.did.cs.term_matrices.TermMatrices` the rows'
  coefficients, and :mod:`~sahel_eval.did.cs.ri_kernel` the cross-products, unit by
  unit — neither influence function is ever stored.

The loop path is the reference: the test suite checks the batched one against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy import sparse

from sahel_eval.did.cs.aggregate import (
    _aggregation_plan,
    _term_coefficients,
    _term_estimates,
)
from sahel_eval.did.cs.cells import TRIM_GUARD, _comparison, _estimate_cells, _plan_cells
from sahel_eval.did.cs.data import _Data
from sahel_eval.did.cs.model import _cohorts
from sahel_eval.did.cs.ri_kernel import role_cross_kernel
from sahel_eval.did.cs.term_matrices import TermMatrices

Key = tuple[str, str]


class RIPieces:
    """Estimates and influence-function cross-products of ``att_gt`` aggregations.

    Parameters
    ----------
    datas
        Prepared data (:func:`~sahel_eval.did.cs.data._prepare`) of Y, D_post and
        D_pre, sharing units, periods and missing cells.
    options
        ``(control, method, base_period, anticipation)`` as for ``att_gt``.
    kinds
        Aggregations, in the order of the rows.
    group
        Name of the cohort column (for error messages).
    """

    def __init__(
        self,
        datas: Sequence[_Data],
        options: tuple[str, str, str, int],
        kinds: Sequence[str],
        group: str,
    ) -> None:
        self._datas = list(datas)
        self._options = options
        self._kinds = tuple(kinds)
        self._group = group
        first = self._datas[0]
        self.n = len(first.unit_group)
        self.batchable = first.mode == "panel" and first.X.shape[2] == 1
        self.batched_assignments = 0

    def compute(
        self, cohorts_by_assignment: np.ndarray, *, loop: bool = False, cross: bool = True
    ) -> list[tuple[list[Key], np.ndarray, np.ndarray, np.ndarray]]:
        """Per assignment (rows of ``cohorts_by_assignment``, units in data order).

        Returns, per assignment, ``(keys, event_time, est, cross)``: the rows
        ``(aggregation, term)``, their event times, ``est`` (rows × 2: Y, D) and
        ``cross`` (rows × 2 × 2).  ``loop=True`` forces the loop path.
        ``cross=False``: point estimates only (Conley–Taber); the batched path then
        skips the cross-products (most of its cost) and returns them NaN.
        """
        control = self._options[0]
        times = self._datas[0].times
        ug_all = np.where(cohorts_by_assignment > times[-1], 0.0, cohorts_by_assignment)
        by_key: dict[tuple[float, ...], list[int]] = {}
        for m, ug in enumerate(ug_all):
            key = tuple(_cohorts(ug, self._group, control).tolist())
            by_key.setdefault(key, []).append(m)
        out: list = [None] * len(ug_all)
        for key, members in by_key.items():
            plan = _Plan(times, np.array(key), self._options, self._kinds)
            batch = _Batch(self._datas, plan, self._options) if self.batchable else None
            for m in members:
                done = None if batch is None or loop else batch.pieces(ug_all[m], cross)
                if done is None:
                    att_psi = self._loop_cells(ug_all[m], plan)
                    done = _loop_pieces(att_psi, ug_all[m], self._datas[0].unit_weight, plan)
                else:
                    self.batched_assignments += 1
                out[m] = (plan.keys, plan.event, *done)
        return out

    def _loop_cells(self, ug: np.ndarray, plan: _Plan) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(att, psi)`` of Y and D by the 2×2 estimators, cell by cell (as att_gt)."""
        control, method, _, anticipation = self._options
        (ay, py), (apost, ppost), (apre, ppre) = (
            _estimate_cells(
                replace(d, unit_group=ug),
                plan.cells,
                control,
                method,
                anticipation,
                closed_form=False,
            )
            for d in self._datas
        )
        return [(ay, py), (np.where(plan.post, apost, apre), np.where(plan.post, ppost, ppre))]


class _Plan:
    """Cells and aggregation rows of one set of cohorts, with their sparsity pattern."""

    def __init__(
        self,
        times: np.ndarray,
        cohorts: np.ndarray,
        options: tuple[str, str, str, int],
        kinds: Sequence[str],
    ) -> None:
        self.cohorts = cohorts
        self.cells = _plan_cells(times, cohorts, options[2], options[3])
        g = np.array([c.g for c in self.cells])
        t = np.array([c.t for c in self.cells])
        self.gi = np.searchsorted(cohorts, g)
        self.post = t >= g
        self.plans = {
            k: _aggregation_plan(k, g, t, cohorts, balance_e=None, min_e=-np.inf, max_e=np.inf)
            for k in kinds
        }
        self.keys = [(k, x.label) for k in kinds for x in self.plans[k]]
        self.event = np.array([x.event_time for k in kinds for x in self.plans[k]], float)


class _Batch:
    """The batched path for one plan: per assignment, the estimates of every row and the
    cross-products of their influence functions, without forming either influence
    function.

    Units sharing a cohort value u (0 or a cohort of the plan) play the same role in
    every cell (σ = +1 cohort, −1 comparison, 0 neither), so the cell influence
    function of unit i is ``n·w_i·σ_uk·[ΔY_ik − μ_uk]/S_uk`` on its observed cells, and
    a row's is ``[ΔY_i, 1_i]`` (observed cells only, prepared once) times coefficients
    that depend on u alone; :mod:`~sahel_eval.did.cs.ri_kernel` sums their products.
    """

    def __init__(self, datas: Sequence[_Data], plan: _Plan, options: tuple) -> None:
        self._options = options
        self._plan = plan
        data = datas[0]
        cells = plan.cells
        self._k = len(cells)
        self._live = np.array([k for k, c in enumerate(cells) if not c.zero], dtype=int)
        ti = np.array([cells[k].ti for k in self._live], dtype=int)
        bi = np.array([cells[k].bi for k in self._live], dtype=int)
        g = np.array([cells[k].g for k in self._live])
        ref = np.maximum(data.times[ti], data.times[bi])
        both = np.isfinite(data.Y[:, ti]) & np.isfinite(data.Y[:, bi])  # units × live cells
        # Long differences of every cell, of Y and D (D_post in post cells, D_pre in pre
        # ones), zero where a period is missing, and the observed-cell indicator: the
        # same for every assignment.
        dy = [np.where(both, d.Y[:, ti] - d.Y[:, bi], 0.0) for d in datas]
        self._dy = np.ascontiguousarray(dy[0])
        self._dd = np.ascontiguousarray(np.where(plan.post[self._live], dy[1], dy[2]))
        self._observed = both.astype(float)
        self._w = data.unit_weight
        # Cohort values of the plan's assignments and their role in every live cell.
        self._values = np.concatenate([[0.0], plan.cohorts])
        u = self._values[:, None]
        self._treat = u == g[None, :]
        control, _, _, anticipation = options
        self._comp = _comparison(u, g, ref, control, anticipation)
        self._terms = TermMatrices(list(plan.plans.values()), plan.gi, self._k)

    def pieces(self, ug: np.ndarray, cross: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
        """Estimates (rows × (Y, D)) and cross-products (rows × 2 × 2, divided by n²;
        NaN without ``cross``), or None where the 2×2 estimators must decide (a cell
        without cohort or comparison units, or DRDID's trimming possible)."""
        plan, w, n = self._plan, self._w, len(ug)
        role = np.searchsorted(self._values, ug)
        if not np.array_equal(self._values[role], ug):
            raise AssertionError("a unit's cohort is not in its plan")
        weight_by_role = np.zeros((len(self._values), n))
        weight_by_role[role, np.arange(n)] = w
        # Per role and cell: Σ w over the observed units, and Σ w·ΔY of Y and of D.
        wsum = weight_by_role @ self._observed
        sum_t = (self._treat * wsum).sum(axis=0)
        sum_c = (self._comp * wsum).sum(axis=0)
        if not ((sum_t > 0).all() and (sum_c > 0).all()):
            return None
        if self._options[1] in ("dr", "ipw") and (sum_t / (sum_t + sum_c) >= TRIM_GUARD).any():
            return None
        pg = np.array([np.mean(w * (ug == g)) for g in plan.cohorts])
        means, ests, omegas = [], [], []
        for x in (self._dy, self._dd):
            s = weight_by_role @ x
            mean_t = (self._treat * s).sum(axis=0) / sum_t
            mean_c = (self._comp * s).sum(axis=0) / sum_c
            att = np.zeros(self._k)
            att[self._live] = mean_t - mean_c
            est, cell_coef, omega, combine, own = self._terms.parts(att, pg)
            means.append((mean_t, mean_c))
            ests.append(est)
            # Cohort-share terms per role: none for the never treated, then each cohort's
            # (cell rows' and the combined rows' own fill distinct columns).
            omegas.append(np.vstack([np.zeros(len(est)), omega + own]))
        n_rows = len(ests[0])
        if not cross:
            return np.stack(ests, axis=1), np.full((n_rows, 2, 2), np.nan)
        # The cell coefficients depend on the cohort shares only (Y's serve D), rows ×
        # live cells compressed by cell.
        coef = cell_coef[self._live].T
        cell = np.repeat(np.arange(len(self._live)), np.diff(coef.indptr))
        # One integer type whatever scipy chose: one compiled signature of the kernel.
        indptr, rows = coef.indptr.astype(np.int64), coef.indices.astype(np.int64)
        combine_ptr = combine.indptr.astype(np.int64)
        combine_rows = combine.indices.astype(np.int64)
        acc = np.zeros((n_rows, 3))
        consts = [pg @ omega[1:] for omega in omegas]
        kernel = role_cross_kernel()
        for r in range(len(self._values)):
            units = np.flatnonzero(role == r)
            if units.size == 0:
                continue
            # σ/S on the cell's ΔY, −σ·μ/S on its observed indicator.
            scale = self._treat[r] / sum_t - self._comp[r] / sum_c
            shifts = [-scale * np.where(self._treat[r], mt, mc) for mt, mc in means]
            kernel(
                self._dy,
                self._dd,
                self._observed,
                units,
                np.flatnonzero(scale != 0),  # the cells the role takes part in
                indptr,
                rows,
                coef.data * scale[cell],
                coef.data * shifts[0][cell],
                coef.data * shifts[1][cell],
                n * w[units],
                w[units],
                omegas[0][r],
                omegas[1][r],
                consts[0],
                consts[1],
                combine_ptr,
                combine_rows,
                combine.data,
                acc,
            )
        products = np.empty((n_rows, 2, 2))
        products[:, 0, 0], products[:, 0, 1], products[:, 1, 1] = acc.T / n**2
        products[:, 1, 0] = products[:, 0, 1]
        return np.stack(ests, axis=1), products


def _loop_pieces(
    att_psi: list[tuple[np.ndarray, np.ndarray]], ug: np.ndarray, w: np.ndarray, plan: _Plan
) -> tuple[np.ndarray, np.ndarray]:
    """Estimates (rows × outcomes) and cross-products (rows × 2 × 2, divided by n²).

    As ``att_gt(...).aggregate(kind)``: the basis ``[psi, omega]`` and the coefficients
    of :func:`~sahel_eval.did.cs.aggregate._term_coefficients`, applied sparsely.
    """
    cohorts, gi = plan.cohorts, plan.gi
    pg = np.array([np.mean(w * (ug == g)) for g in cohorts])
    omega = w[:, None] * (ug[:, None] == cohorts[None, :]) - pg[None, :]
    ests, infls = [], []
    for att, psi in att_psi:
        basis = np.hstack([psi, omega])
        est, coef = [], []
        for plan_k in plan.plans.values():
            e = _term_estimates(plan_k, att, pg, pg[gi])
            est.append(e)
            coef.append(_term_coefficients(plan_k, e, att, pg, pg[gi], gi, basis.shape[1]))
        ests.append(np.concatenate(est))
        infls.append(np.asarray((sparse.csc_matrix(np.hstack(coef)).T @ basis.T).T))
    inf = np.stack(infls, axis=2)
    cross = np.matmul(inf.transpose(1, 2, 0), inf.transpose(1, 0, 2)) / len(ug) ** 2
    return np.stack(ests, axis=1), cross
