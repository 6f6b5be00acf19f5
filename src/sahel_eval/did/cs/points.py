"""Point estimates of ``att_gt`` aggregations for many cohort assignments of a panel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd

from sahel_eval.did.cs.aggregate import _aggregation_plan, _Term, _term_estimates
from sahel_eval.did.cs.cells import _Cell, _cell_points, _plan_cells
from sahel_eval.did.cs.data import _prepare
from sahel_eval.did.cs.model import _check_options, _cohort_shares, _cohorts

__all__ = ["AttGtPoints"]


class AttGtPoints:
    """Point estimates of ``att_gt`` aggregations for many cohort assignments of a panel.

    Randomisation inference re-fits ``att_gt`` under every placebo assignment and uses
    only the aggregated point estimates.  This prepares the panel once (units, periods,
    outcomes and their missing cells do not depend on the assignment) and, per
    assignment, estimates the same cell samples as
    :func:`~sahel_eval.did.cs.model.att_gt` (:func:`~sahel_eval.did.cs.cells._cell_points`:
    without covariates all cells and outcomes at once as differences of mean changes,
    which is what every 2×2 method reduces to; equal to the 2×2 estimators to 1e-10)
    and runs the same aggregation arithmetic
    (:func:`~sahel_eval.did.cs.aggregate._term_estimates`), skipping influence
    functions, standard errors, the bootstrap and the pre-test.  The estimates are
    therefore those of ``att_gt(...).aggregate(kind)`` up to rounding.

    Parameters
    ----------
    df
        Long panel, as for :func:`att_gt`.
    outcomes
        Outcome columns estimated together; they must share missing cells (each 2×2
        sample is built once for all of them).
    unit, time, group
        Column names, as for :func:`att_gt`; ``group`` gives the cohorts used to
        prepare the data (rows with a missing value in it are dropped, as ``att_gt``
        does), :meth:`aggregates` takes the cohorts of each assignment.
    control, method, unbalanced, base_period, anticipation
        As for :func:`att_gt`. No covariates, weights or repeated cross-sections.

    Raises
    ------
    ValueError
        Invalid options, or outcomes with different missing cells.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcomes: Sequence[str],
        unit: str,
        time: str,
        group: str,
        *,
        control: Literal["never_treated", "not_yet_treated"] = "never_treated",
        method: Literal["dr", "ipw", "reg"] = "dr",
        unbalanced: Literal["repeated_cross_section", "pairwise"] = "repeated_cross_section",
        base_period: Literal["varying", "universal"] = "varying",
        anticipation: int = 0,
    ) -> None:
        _check_options(control, method, base_period, anticipation, unbalanced)
        if not outcomes:
            raise ValueError("AttGtPoints: no outcome column given")
        self._datas = [
            _prepare(df, y, unit, time, group, (), True, None, None, unbalanced)[0]
            for y in outcomes
        ]
        first = self._datas[0]
        for y, d in zip(outcomes, self._datas, strict=True):
            same = np.array_equal(d.unit_ids, first.unit_ids) and np.array_equal(
                d.times, first.times
            )
            if same and d.mode == "panel":
                same = np.array_equal(np.isnan(d.Y), np.isnan(first.Y))
            elif same:
                same = np.array_equal(d.rc_unit, first.rc_unit) and np.array_equal(
                    d.rc_t, first.rc_t
                )
            if not same:
                raise ValueError(
                    f"AttGtPoints: outcome {y!r} is missing in other unit-periods than "
                    f"{outcomes[0]!r}; points are estimated on one shared sample"
                )
        self.outcomes = list(outcomes)
        self.unit_ids = first.unit_ids
        self._group = group
        self._options = (control, method, base_period, anticipation)
        # Placebo assignments reuse the real roll-out, so most share one set of
        # cohorts: cells and aggregation plans are planned once per cohort set.
        self._cells: dict[tuple[float, ...], list[_Cell]] = {}
        self._plans: dict[tuple[str, tuple[float, ...]], list[_Term]] = {}

    def aggregates(
        self,
        unit_group: np.ndarray,
        kinds: Sequence[str] = ("simple", "group", "calendar", "dynamic"),
    ) -> pd.DataFrame:
        """Aggregated point estimates under one cohort assignment.

        Parameters
        ----------
        unit_group
            Cohort (first exposed period, 0 = never) per unit, in ``unit_ids`` order.
        kinds
            Aggregations, in the order of the rows returned.

        Returns
        -------
        pd.DataFrame
            ``aggregation, term, event_time`` and one column of estimates per outcome
            (named as the outcome), rows as ``att_gt(...).aggregate(kind).table`` with
            default options, kinds stacked.

        Raises
        ------
        ValueError
            As :func:`att_gt` would for this assignment (no treated cohort, no
            comparison units for a cell, a cohort without a pre-treatment period).
        """
        control, method, base_period, anticipation = self._options
        ug = np.asarray(unit_group, dtype=float)
        if ug.shape != self.unit_ids.shape:
            raise ValueError("aggregates: unit_group must have one entry per unit_ids")
        # R did recodes cohorts first treated after the sample as never treated.
        ug = np.where(ug > self._datas[0].times[-1], 0.0, ug)
        datas = [replace(d, unit_group=ug) for d in self._datas]
        cohorts = _cohorts(ug, self._group, control)
        key = tuple(cohorts.tolist())
        if key not in self._cells:
            self._cells[key] = _plan_cells(datas[0].times, cohorts, base_period, anticipation)
        cells = self._cells[key]
        att = _cell_points(datas, cells, control, method, anticipation)
        pg = _cohort_shares(datas[0], cohorts)
        g = np.array([c.g for c in cells])
        t = np.array([c.t for c in cells])
        pg_cell = pg[np.searchsorted(cohorts, g)]
        frames = []
        for kind in kinds:
            if (kind, key) not in self._plans:
                self._plans[kind, key] = _aggregation_plan(
                    kind, g, t, cohorts, balance_e=None, min_e=-np.inf, max_e=np.inf
                )
            plan = self._plans[kind, key]
            cols = {
                y: _term_estimates(plan, att[:, j], pg, pg_cell)
                for j, y in enumerate(self.outcomes)
            }
            frames.append(
                pd.DataFrame(
                    {
                        "aggregation": kind,
                        "term": [x.label for x in plan],
                        "event_time": np.array([x.event_time for x in plan], float),
                        **cols,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)
