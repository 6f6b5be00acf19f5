"""What studentised randomisation inference needs from ``att_gt``, for many assignments.

For every placebo assignment m (unit cohorts) and every aggregated quantity q
(``att_gt(...).aggregate(kind)`` rows), the estimate on each outcome column o (the
outcome Y and the actual exposures, :mod:`~sahel_eval.did.cs.randomization`) and the
cross-products of their influence functions, ``Σ_i ψ_qo,i ψ_qp,i / n²``: the
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
  ``n·[w·1_T·(ΔY − μ_T)/Σ_T w − w·1_C·(ΔY − μ_C)/Σ_C w]``.  The long differences ΔY of
  every cell and outcome are computed once; per assignment only the treated and
  comparison masks change, so all assignments (in memory-bounded chunks) are estimated
  with array operations, and the aggregation rows are built once per chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from sahel_eval.did.cs.aggregate import (
    _aggregation_plan,
    _Term,
    _term_coefficients,
    _term_estimates,
)
from sahel_eval.did.cs.cells import _comparison, _estimate_cells, _plan_cells
from sahel_eval.did.cs.data import _Data
from sahel_eval.did.cs.model import _cohort_shares, _cohorts

#: Treated shares from which DRDID's trimming of comparison units (p ≥ 0.995) could
#: apply (dr, ipw): such assignments are left to the loop, which trims exactly as R.
_TRIM_GUARD = 0.99
#: Floats held at once by the batched path (influence functions of one chunk).
_CHUNK_FLOATS = 4_000_000

Key = tuple[str, str]


class RIPieces:
    """Estimates and influence-function cross-products of ``att_gt`` aggregations.

    Parameters
    ----------
    datas
        Prepared data (:func:`~sahel_eval.did.cs.data._prepare`) of each outcome
        column, sharing units, periods and missing cells.
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
        ``(aggregation, term)``, their event times, ``est`` (rows × outcomes) and
        ``cross`` (rows × outcomes × outcomes).  ``loop=True`` forces the loop path.
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
            cohorts = np.array(key)
            cells = _plan_cells(times, cohorts, self._options[2], self._options[3])
            g = np.array([c.g for c in cells])
            t = np.array([c.t for c in cells])
            plans = {
                k: _aggregation_plan(k, g, t, cohorts, balance_e=None, min_e=-np.inf, max_e=np.inf)
                for k in self._kinds
            }
            keys = [(k, x.label) for k in self._kinds for x in plans[k]]
            event = np.array([x.event_time for k in self._kinds for x in plans[k]], float)
            todo = list(members)
            if self.batchable and not loop:
                todo = self._batched(ug_all, members, cells, cohorts, plans, keys, event, out)
            for m in todo:
                est, cross = self._loop_one(ug_all[m], cells, cohorts, plans)
                out[m] = (keys, event, est, cross)
        return out

    # ------------------------------------------------------------------ loop path

    def _loop_one(
        self, ug: np.ndarray, cells: list, cohorts: np.ndarray, plans: dict[str, list[_Term]]
    ) -> tuple[np.ndarray, np.ndarray]:
        control, method, _, anticipation = self._options
        gi = np.searchsorted(cohorts, np.array([c.g for c in cells]))
        ests, infls = [], []
        for data in self._datas:
            d = replace(data, unit_group=ug)
            att, psi = _estimate_cells(d, cells, control, method, anticipation)
            pg = _cohort_shares(d, cohorts)
            omega = d.unit_weight[:, None] * (ug[:, None] == cohorts[None, :]) - pg[None, :]
            basis = np.hstack([psi, omega])
            est_o, inf_o = [], []
            for kind in self._kinds:
                plan = plans[kind]
                est = _term_estimates(plan, att, pg, pg[gi])
                coef = _term_coefficients(plan, est, att, pg, pg[gi], gi, basis.shape[1])
                est_o.append(est)
                inf_o.append(basis @ coef)
            ests.append(np.concatenate(est_o))
            infls.append(np.hstack(inf_o))
        est = np.stack(ests, axis=1)  # rows × outcomes
        inf = np.stack(infls, axis=2)  # units × rows × outcomes
        return est, np.einsum("nqo,nqp->qop", inf, inf) / self.n**2

    # --------------------------------------------------------------- batched path

    def _batched(
        self,
        ug_all: np.ndarray,
        members: list[int],
        cells: list,
        cohorts: np.ndarray,
        plans: dict[str, list[_Term]],
        keys: list[Key],
        event: np.ndarray,
        out: list,
    ) -> list[int]:
        """Fill ``out`` for the assignments the batched path applies to; return the rest."""
        control, method, _, anticipation = self._options
        data = self._datas[0]
        live = np.array([k for k, c in enumerate(cells) if not c.zero], dtype=int)
        ti = np.array([cells[k].ti for k in live], dtype=int)
        bi = np.array([cells[k].bi for k in live], dtype=int)
        g = np.array([cells[k].g for k in live])
        ref = np.maximum(data.times[ti], data.times[bi])
        observed = np.isfinite(data.Y)
        both = observed[:, ti] & observed[:, bi]  # units × live cells
        # Long differences of every cell and outcome: the same for every assignment.
        dy = np.stack([np.where(both, d.Y[:, ti] - d.Y[:, bi], 0.0) for d in self._datas])
        dy = np.moveaxis(dy, 0, -1)  # units × cells × outcomes
        w = data.unit_weight
        n_o = len(self._datas)
        rows = max(len(cells), sum(len(p) for p in plans.values()))
        chunk = max(1, _CHUNK_FLOATS // (self.n * rows * n_o))
        left = []
        for s in range(0, len(members), chunk):
            ids = members[s : s + chunk]
            ug = ug_all[ids]  # assignments × units
            treat = (ug[:, :, None] == g[None, None, :]) & both[None]
            comp = _comparison(ug[:, :, None], g, ref, control, anticipation) & both[None]
            wt = np.where(treat, w[None, :, None], 0.0)
            wc = np.where(comp, w[None, :, None], 0.0)
            sum_t, sum_c = wt.sum(axis=1), wc.sum(axis=1)  # assignments × cells
            ok = (sum_t > 0).all(axis=1) & (sum_c > 0).all(axis=1)
            if method in ("dr", "ipw"):
                with np.errstate(invalid="ignore", divide="ignore"):
                    ok &= (sum_t / (sum_t + sum_c) < _TRIM_GUARD).all(axis=1)
            left += [m for m, good in zip(ids, ok, strict=True) if not good]
            if not ok.any():
                continue
            ids = [m for m, good in zip(ids, ok, strict=True) if good]
            wt, wc, sum_t, sum_c, ug = wt[ok], wc[ok], sum_t[ok], sum_c[ok], ug[ok]
            mean_t = np.einsum("mnk,nko->mko", wt, dy) / sum_t[:, :, None]
            mean_c = np.einsum("mnk,nko->mko", wc, dy) / sum_c[:, :, None]
            # Influence functions (units × cells × assignments × outcomes), zero-cells 0.
            psi = np.zeros((self.n, len(cells), len(ids), n_o))
            psi[:, live] = self.n * np.moveaxis(
                wt[..., None] * (dy[None] - mean_t[:, None]) / sum_t[:, None, :, None]
                - wc[..., None] * (dy[None] - mean_c[:, None]) / sum_c[:, None, :, None],
                0,
                2,
            )
            att = np.zeros((len(cells), len(ids), n_o))
            att[live] = np.moveaxis(mean_t - mean_c, 0, 1)
            pg = np.stack([np.mean(w * (ug == c), axis=1) for c in cohorts])  # G × m
            omega = w[:, None, None] * (ug.T[:, None, :] == cohorts[None, :, None])
            omega = omega - pg[None]  # units × cohorts × assignments
            gi = np.searchsorted(cohorts, np.array([c.g for c in cells]))
            est, cross = [], []
            for kind in self._kinds:
                e, c = _batched_rows(plans[kind], att, psi, pg, gi, omega)
                est.append(e)
                cross.append(c)
            est_all = np.concatenate(est, axis=1) if est else np.empty(0)
            cross_all = np.concatenate(cross, axis=1) / self.n**2
            for j, m in enumerate(ids):
                out[m] = (keys, event, est_all[j], cross_all[j])
            self.batched_assignments += len(ids)
        return left


def _batched_rows(
    plan: list[_Term],
    att: np.ndarray,
    psi: np.ndarray,
    pg: np.ndarray,
    gi: np.ndarray,
    omega: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of one aggregation for a chunk of assignments.

    The arithmetic of :func:`~sahel_eval.did.cs.aggregate._term_estimates` and
    :func:`~sahel_eval.did.cs.aggregate._term_coefficients` (the loop path's, which the
    tests compare with), applied to influence functions directly: ``att`` (cells ×
    m × o), ``psi`` (units × cells × m × o), ``pg`` (cohorts × m), ``omega`` (units ×
    cohorts × m).  Returns ``est`` (m × rows × o) and the unscaled cross-products
    ``Σ_i ψ ψ'`` (m × rows × o × o).
    """
    theta: list[np.ndarray | None] = [None] * len(plan)
    infl: list[np.ndarray | None] = [None] * len(plan)
    for j, term in enumerate(plan):
        keep = term.index
        if term.mode == "pg":
            pc = pg[gi[keep]]  # keep × m
            wts = pc / pc.sum(axis=0)
            theta[j] = np.einsum("km,kmo->mo", wts, att[keep])
            # Estimated cohort shares: coefficient Σ_{k: g_k = g} (att_k − θ) / Σ pg.
            onehot = (gi[keep][:, None] == np.arange(pg.shape[0])[None, :]).astype(float)
            wif = (
                np.einsum("kg,kmo->gmo", onehot, att[keep] - theta[j][None])
                / pc.sum(axis=0)[None, :, None]
            )
            infl[j] = np.einsum("km,nkmo->nmo", wts, psi[:, keep]) + np.einsum(
                "ngm,gmo->nmo", omega, wif
            )
        elif term.mode == "mean":
            theta[j] = att[keep].mean(axis=0)
            infl[j] = psi[:, keep].mean(axis=1)
    for j, term in enumerate(plan):
        idx = term.index
        if term.mode == "pg_rows":
            s = pg.sum(axis=0)
            sub = np.stack([theta[i] for i in idx])  # cohorts × m × o
            theta[j] = np.einsum("gm,gmo->mo", pg, sub) / s[:, None]
            wif = (sub - theta[j][None]) / s[None, :, None]
            infl[j] = np.einsum("gm,gnmo->nmo", pg / s, np.stack([infl[i] for i in idx]))
            infl[j] = infl[j] + np.einsum("ngm,gmo->nmo", omega, wif)
        elif term.mode == "mean_rows":
            theta[j] = np.mean([theta[i] for i in idx], axis=0)
            infl[j] = np.mean([infl[i] for i in idx], axis=0)
    est = np.stack(theta, axis=1)  # m × rows × o
    cross = np.stack([np.einsum("nmo,nmp->mop", f, f) for f in infl], axis=1)
    return est, cross
