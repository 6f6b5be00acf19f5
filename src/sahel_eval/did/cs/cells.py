"""The ATT(g, t) cells of a Callaway–Sant'Anna fit: plan, 2×2 samples, estimates.

Every cohort ``g`` and period ``t`` is one cell with a base period; its 2×2 sample is
the cohort and its comparison group observed in both periods; each 2×2 is estimated by
:mod:`~sahel_eval.did.cs.drdid` with its influence function (:func:`_estimate_cells`).
"""

from __future__ import annotations

from collections.abc import Iterator
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


#: Treated shares from which DRDID's trimming of comparison units (p ≥ 0.995) could
#: apply (dr, ipw): such cells are left to the 2×2 estimators, which trim exactly as R.
TRIM_GUARD = 0.99


def mean_difference(
    dy: np.ndarray, d: np.ndarray, w: np.ndarray, method: str
) -> tuple[float, np.ndarray] | None:
    """Any panel 2×2 estimator without covariates, in closed form, or None.

    With an intercept only, dr, ipw and reg all reduce to the cohort's weighted mean
    change minus the comparison units' (the propensity score is the treated share and
    the outcome regression the comparison mean), with the influence function
    ``w·d·(ΔY − μ_T)/Σ_T w − w·(1 − d)·(ΔY − μ_C)/Σ_C w`` (times the number of units).
    None where DRDID's trimming could apply (dr, ipw with a treated share ≥
    :data:`TRIM_GUARD`).
    """
    wt, wc = w * d, w * (1.0 - d)
    sum_t, sum_c = wt.sum(), wc.sum()
    if method in ("dr", "ipw") and sum_t / (sum_t + sum_c) >= TRIM_GUARD:
        return None
    mean_t, mean_c = wt @ dy / sum_t, wc @ dy / sum_c
    return float(mean_t - mean_c), wt * (dy - mean_t) / sum_t - wc * (dy - mean_c) / sum_c


def _estimate_cells(
    data: _Data,
    cells: list[_Cell],
    control: str,
    method: str,
    anticipation: int,
    *,
    closed_form: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """ATT and unit influence function of every cell; panels without covariates take
    :func:`mean_difference` unless ``closed_form=False`` (the 2×2 estimators, the
    reference it is tested against)."""
    n = len(data.unit_group)
    att = np.zeros(len(cells))
    psi = np.zeros((n, len(cells)))
    closed_form = closed_form and data.mode == "panel" and data.X.shape[2] == 1
    for k, c, rows, d, post in _cell_samples(data, cells, control, anticipation):
        if post is None:
            dy = data.Y[rows, c.ti] - data.Y[rows, c.bi]
            w = data.unit_weight[rows]
            fit = mean_difference(dy, d, w, method) if closed_form else None
            if fit is not None:
                att[k], psi[rows, k] = fit[0], n * fit[1]
                continue
            # Covariates from the earlier of the two periods, as R did's panel2cs.
            X = data.X[rows, min(c.ti, c.bi)]
            a, p = drdid.PANEL_ESTIMATORS[method](dy, d, X, w)
            psi[rows, k] = (n / len(rows)) * p
        else:
            a, p = drdid.RC_ESTIMATORS[method](
                data.rc_y[rows], post, d, data.rc_X[rows], data.rc_w[rows]
            )
            psi[:, k] = np.bincount(data.rc_unit[rows], weights=(n / len(rows)) * p, minlength=n)
        att[k] = a
    return att, psi
