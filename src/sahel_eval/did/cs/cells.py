"""The ATT(g, t) cells of a Callaway–Sant'Anna fit: plan, 2×2 samples, estimates.

Every cohort ``g`` and period ``t`` is one cell with a base period; its 2×2 sample is
the cohort and its comparison group observed in both periods; each 2×2 is estimated by
:mod:`~sahel_eval.did.cs.drdid`, with influence functions (:func:`_estimate_cells`) or
points only (:func:`_cell_points`, for randomisation inference; batched over cells and
outcomes for panels without covariates).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from sahel_eval.did.cs import drdid
from sahel_eval.did.cs.data import _Data


@dataclass
class _Cell:
    g: float
    t: float
    ti: int
    bi: int  # base-period index
    zero: bool  # universal base period cell: ATT = 0 by construction


def _plan_cells(
    times: np.ndarray, cohorts: np.ndarray, base_period: str, anticipation: int
) -> list[_Cell]:
    cells = []
    for g in cohorts:
        pre = np.flatnonzero(times + anticipation < g)
        if pre.size == 0:
            raise ValueError(
                f"att_gt: cohort {g:g} has no pre-treatment period in the data (first "
                f"period {times[0]:g}, anticipation {anticipation}); its units are treated "
                "from the start, so no ATT can be identified. Drop these units (or this "
                "cohort) before calling att_gt."
            )
        last_pre = int(pre[-1])
        start = 0 if base_period == "universal" else 1
        for ti in range(start, len(times)):
            t = times[ti]
            if g - anticipation <= t or base_period == "universal":
                bi = last_pre
            else:
                bi = ti - 1
            cells.append(_Cell(g=g, t=t, ti=ti, bi=bi, zero=bi == ti))
    return cells


def _comparison(
    unit_group: np.ndarray, g: float, ref_time: float, control: str, anticipation: int
) -> np.ndarray:
    never = unit_group == 0
    if control == "never_treated":
        return never
    return never | ((unit_group > ref_time + anticipation) & (unit_group != g))


def _no_comparison(g: float, t: float, base: float, control: str) -> ValueError:
    hint = (
        "use control='not_yet_treated' or add never-treated units"
        if control == "never_treated"
        else "add never-treated units or end the analysis window before this period"
    )
    return ValueError(
        f"att_gt: cohort {g:g} has no valid comparison group for period {t:g} "
        f"(base period {base:g}, control={control!r}): no unit is untreated in both "
        f"periods. {hint}."
    )


def _cell_samples(
    data: _Data, cells: list[_Cell], control: str, anticipation: int
) -> Iterator[tuple[int, _Cell, np.ndarray, np.ndarray, np.ndarray | None]]:
    """The 2×2 sample of every estimable cell: ``(k, cell, rows, d, post)``.

    Panel: ``rows`` are the units of the cohort or comparison group observed in both
    periods (``post`` is None); repeated cross-sections: the data rows of those units
    in the two periods, ``post = 1`` for period ``t``.  ``d`` is the treated dummy.
    Universal-base cells (ATT = 0 by construction) are skipped.  Both the full fit and
    the points-only fit draw their samples here, so they estimate the same 2×2s.

    Raises
    ------
    ValueError
        A cell without comparison or cohort units in its two periods (first such cell).
    """
    times = data.times
    for k, c in enumerate(cells):
        if c.zero:
            continue
        ref = max(c.t, times[c.bi])
        comp_u = _comparison(data.unit_group, c.g, ref, control, anticipation)
        treat_u = data.unit_group == c.g
        if data.mode == "panel":
            both = np.isfinite(data.Y[:, c.ti]) & np.isfinite(data.Y[:, c.bi])
            if not (comp_u & both).any():
                raise _no_comparison(c.g, c.t, times[c.bi], control)
            if not (treat_u & both).any():
                raise ValueError(
                    f"att_gt: no unit of cohort {c.g:g} is observed in both period "
                    f"{c.t:g} and its base period {times[c.bi]:g}"
                )
            idx = np.flatnonzero((treat_u | comp_u) & both)
            yield k, c, idx, treat_u[idx].astype(float), None
        else:
            rows = np.flatnonzero(
                ((data.rc_t == c.ti) | (data.rc_t == c.bi)) & (treat_u | comp_u)[data.rc_unit]
            )
            d = treat_u[data.rc_unit[rows]].astype(float)
            post = (data.rc_t[rows] == c.ti).astype(float)
            if min(np.sum(d * post), np.sum(d * (1 - post))) == 0:
                raise ValueError(
                    f"att_gt: cohort {c.g:g} has no observations in period {c.t:g} or in "
                    f"its base period {times[c.bi]:g}"
                )
            if min(np.sum((1 - d) * post), np.sum((1 - d) * (1 - post))) == 0:
                raise _no_comparison(c.g, c.t, times[c.bi], control)
            yield k, c, rows, d, post


def _estimate_cells(
    data: _Data, cells: list[_Cell], control: str, method: str, anticipation: int
) -> tuple[np.ndarray, np.ndarray]:
    n = len(data.unit_group)
    att = np.zeros(len(cells))
    psi = np.zeros((n, len(cells)))
    for k, c, rows, d, post in _cell_samples(data, cells, control, anticipation):
        if post is None:
            dy = data.Y[rows, c.ti] - data.Y[rows, c.bi]
            # Covariates from the earlier of the two periods, as R did's panel2cs.
            X = data.X[rows, min(c.ti, c.bi)]
            a, p = drdid.PANEL_ESTIMATORS[method](dy, d, X, data.unit_weight[rows])
            psi[rows, k] = (n / len(rows)) * p
        else:
            a, p = drdid.RC_ESTIMATORS[method](
                data.rc_y[rows], post, d, data.rc_X[rows], data.rc_w[rows]
            )
            psi[:, k] = np.bincount(data.rc_unit[rows], weights=(n / len(rows)) * p, minlength=n)
        att[k] = a
    return att, psi


#: Treated shares from which DRDID's trimming of comparison units (p ≥ 0.995) could
#: apply: such cells are left to the 2×2 estimators, which trim exactly as R does.
_TRIM_GUARD = 0.99


def _cell_points(
    datas: Sequence[_Data],
    cells: list[_Cell],
    control: str,
    method: str,
    anticipation: int,
    *,
    batched: bool = True,
) -> np.ndarray:
    """ATT(g, t) only, (n_cells × len(datas)): one column per outcome of ``datas``.

    ``datas`` share units, periods, cohorts and missing cells (they differ in the
    outcome only), so each 2×2 sample is built once and used for every outcome.

    Panels without covariates take the batched path (:func:`_mean_differences`): with
    an intercept-only X every method (dr, ipw, reg) is the weighted mean change of the
    cohort minus that of its comparison units, computed for all cells and outcomes at
    once.  Cells where DRDID's trimming could apply (treated share ≥ ``_TRIM_GUARD``,
    dr and ipw) and everything else (covariates, repeated cross-sections) run the 2×2
    estimators cell by cell; ``batched=False`` forces that for every cell (the
    reference the batched path is tested against, to 1e-10).
    """
    att = np.zeros((len(cells), len(datas)))
    todo: set[int] | None = None  # cells left to the estimators (None: every cell)
    first = datas[0]
    if batched and first.mode == "panel" and first.X.shape[2] == 1:
        fast = _mean_differences(datas, cells, control, anticipation)
        if fast is not None:
            att, share = fast
            trim = share >= _TRIM_GUARD if method in ("dr", "ipw") else np.zeros_like(share, bool)
            todo = set(np.flatnonzero(trim).tolist())
            if not todo:
                return att
    for k, c, rows, d, post in _cell_samples(first, cells, control, anticipation):
        if todo is not None and k not in todo:
            continue
        for j, dj in enumerate(datas):
            if post is None:
                dy = dj.Y[rows, c.ti] - dj.Y[rows, c.bi]
                X = dj.X[rows, min(c.ti, c.bi)]
                est = drdid.PANEL_ESTIMATORS[method]
                att[k, j] = est(dy, d, X, dj.unit_weight[rows], influence=False)[0]
            else:
                # The RC estimators have no points-only branch: the influence function
                # is computed and dropped (no hot path uses repeated cross-sections).
                att[k, j] = drdid.RC_ESTIMATORS[method](
                    dj.rc_y[rows], post, d, dj.rc_X[rows], dj.rc_w[rows]
                )[0]
    return att


def _mean_differences(
    datas: Sequence[_Data], cells: list[_Cell], control: str, anticipation: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Batched no-covariate panel ATT(g, t): weighted mean ΔY of cohort minus comparison.

    With X the intercept alone, DRDID's propensity score is the (weighted) treated share
    ``p`` of the 2×2 sample and its outcome regression the comparison mean, so
    ``drdid_panel``, ``std_ipw_did_panel`` and ``reg_did_panel`` all equal
    ``Σ_T w ΔY / Σ_T w − Σ_C w ΔY / Σ_C w`` (up to rounding; dr and ipw unless ``p ≥
    0.995``, where DRDID trims the comparison units).  The samples are those of
    :func:`_cell_samples` (cohort and comparison units observed in both periods), as
    (units × cells) masks; universal-base cells stay 0.

    Returns
    -------
    tuple of np.ndarray or None
        ``(att, share)``: (n_cells × len(datas)) estimates and the treated share ``p``
        per cell (0 for universal-base cells); None when a cell has no cohort or no
        comparison unit, so that the per-cell path raises its error.
    """
    data = datas[0]
    att = np.zeros((len(cells), len(datas)))
    share = np.zeros(len(cells))
    live = np.array([k for k, c in enumerate(cells) if not c.zero], dtype=int)
    if live.size == 0:
        return att, share
    ti = np.array([cells[k].ti for k in live])
    bi = np.array([cells[k].bi for k in live])
    g = np.array([cells[k].g for k in live])
    ref = np.maximum(data.times[ti], data.times[bi])
    ug = data.unit_group[:, None]
    observed = np.isfinite(data.Y)
    both = observed[:, ti] & observed[:, bi]  # (units × cells)
    treat = (ug == g[None, :]) & both
    comp = _comparison(ug, g[None, :], ref[None, :], control, anticipation) & both
    if not (treat.any(axis=0).all() and comp.any(axis=0).all()):
        return None
    w = data.unit_weight[:, None]
    wt = np.where(treat, w, 0.0)
    wc = np.where(comp, w, 0.0)
    sum_t, sum_c = wt.sum(axis=0), wc.sum(axis=0)
    dy = np.stack([np.where(both, d.Y[:, ti] - d.Y[:, bi], 0.0) for d in datas])
    mean_t = np.einsum("jnk,nk->kj", dy, wt) / sum_t[:, None]
    mean_c = np.einsum("jnk,nk->kj", dy, wc) / sum_c[:, None]
    att[live] = mean_t - mean_c
    share[live] = sum_t / (sum_t + sum_c)
    return att, share
