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
  ``n·[w·1_T·(ΔY − μ_T)/Σ_T w − w·1_C·(ΔY − μ_C)/Σ_C w]``.  The cells, their long
  differences ΔY (every outcome) and the aggregation plans are prepared once; per
  assignment only the treated and comparison masks change, and all cells and outcomes
  are estimated in a few array operations instead of one 2×2 fit per cell.

Both paths then aggregate with the same code (:func:`_aggregated`): the coefficients of
every row on the influence-function basis, applied as a sparse matrix (a row averages
a few cells).
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
from sahel_eval.did.cs.cells import _comparison, _estimate_cells, _plan_cells
from sahel_eval.did.cs.data import _Data
from sahel_eval.did.cs.model import _cohorts

#: Treated shares from which DRDID's trimming of comparison units (p ≥ 0.995) could
#: apply (dr, ipw): such assignments are left to the loop, which trims exactly as R.
_TRIM_GUARD = 0.99

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
        self, cohorts_by_assignment: np.ndarray, *, loop: bool = False
    ) -> list[tuple[list[Key], np.ndarray, np.ndarray, np.ndarray]]:
        """Per assignment (rows of ``cohorts_by_assignment``, units in data order).

        Returns, per assignment, ``(keys, event_time, est, cross)``: the rows
        ``(aggregation, term)``, their event times, ``est`` (rows × 2: Y, D) and
        ``cross`` (rows × 2 × 2).  ``loop=True`` forces the loop path.
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
                att_psi = None if batch is None or loop else batch.cells(ug_all[m])
                if att_psi is None:
                    att_psi = self._loop_cells(ug_all[m], plan)
                else:
                    self.batched_assignments += 1
                est, inf = _aggregated(att_psi, ug_all[m], self._datas[0].unit_weight, plan)
                cross = np.matmul(inf.transpose(1, 2, 0), inf.transpose(1, 0, 2)) / self.n**2
                out[m] = (plan.keys, plan.event, est, cross)
        return out

    def _loop_cells(self, ug: np.ndarray, plan: _Plan) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(att, psi)`` of Y and D by the 2×2 estimators, cell by cell (as att_gt)."""
        control, method, _, anticipation = self._options
        (ay, py), (apost, ppost), (apre, ppre) = (
            _estimate_cells(replace(d, unit_group=ug), plan.cells, control, method, anticipation)
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
    """The batched cell estimates of one plan: long differences prepared once."""

    def __init__(self, datas: Sequence[_Data], plan: _Plan, options: tuple) -> None:
        self._options = options
        data = datas[0]
        cells = plan.cells
        self._k = len(cells)
        self._live = np.array([k for k, c in enumerate(cells) if not c.zero], dtype=int)
        ti = np.array([cells[k].ti for k in self._live], dtype=int)
        bi = np.array([cells[k].bi for k in self._live], dtype=int)
        self._g = np.array([cells[k].g for k in self._live])
        self._ref = np.maximum(data.times[ti], data.times[bi])
        observed = np.isfinite(data.Y)
        self._both = observed[:, ti] & observed[:, bi]  # units × live cells
        # Long differences of every cell, of Y and D: the same for every assignment.
        dy = [np.where(self._both, d.Y[:, ti] - d.Y[:, bi], 0.0) for d in datas]
        d_cell = np.where(plan.post[self._live], dy[1], dy[2])
        self._dy = np.stack([dy[0], d_cell], axis=2)  # units × cells × (Y, D)
        # The same differences outcome by outcome: the influence functions are then made
        # from contiguous units × cells arrays (the einsums above keep their layout, so
        # their sums, and every number, are unchanged).
        self._dy_by_outcome = np.stack([dy[0], d_cell])
        self._w = data.unit_weight

    def cells(self, ug: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """``(att, psi)`` of Y and D, or None where the 2×2 estimators must decide
        (a cell without cohort or comparison units, or DRDID's trimming possible)."""
        control, method, _, anticipation = self._options
        treat = (ug[:, None] == self._g[None, :]) & self._both
        comp = _comparison(ug[:, None], self._g, self._ref, control, anticipation) & self._both
        wt = np.where(treat, self._w[:, None], 0.0)
        wc = np.where(comp, self._w[:, None], 0.0)
        sum_t, sum_c = wt.sum(axis=0), wc.sum(axis=0)
        if not ((sum_t > 0).all() and (sum_c > 0).all()):
            return None
        if method in ("dr", "ipw") and (sum_t / (sum_t + sum_c) >= _TRIM_GUARD).any():
            return None
        dy = self._dy
        mean_t = np.einsum("nk,nko->ko", wt, dy) / sum_t[:, None]
        mean_c = np.einsum("nk,nko->ko", wc, dy) / sum_c[:, None]
        n = len(ug)
        scale_t, scale_c = wt * (n / sum_t), wc * (n / sum_c)
        out = []
        for o, dy_o in enumerate(self._dy_by_outcome):
            att = np.zeros(self._k)
            att[self._live] = mean_t[:, o] - mean_c[:, o]
            # scale_t·(ΔY − μ_T) − scale_c·(ΔY − μ_C), in place (the same operations).
            psi_live = np.subtract(dy_o, mean_t[:, o], out=np.empty_like(dy_o))
            psi_live *= scale_t
            comp_part = np.subtract(dy_o, mean_c[:, o], out=np.empty_like(dy_o))
            comp_part *= scale_c
            psi_live -= comp_part
            if len(self._live) == self._k:
                psi = psi_live
            else:
                psi = np.zeros((n, self._k))
                psi[:, self._live] = psi_live
            out.append((att, psi))
        return out


def _aggregated(
    att_psi: list[tuple[np.ndarray, np.ndarray]], ug: np.ndarray, w: np.ndarray, plan: _Plan
) -> tuple[np.ndarray, np.ndarray]:
    """Estimates (rows × outcomes) and influence functions (units × rows × outcomes).

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
    return np.stack(ests, axis=1), np.stack(infls, axis=2)
