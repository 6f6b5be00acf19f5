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
