"""Breakdown value: the largest restriction size at which the robust interval excludes 0.

DESIGN §6.1: found by bisection to two significant digits; 0 when the interval at ``M̄ = 0``
(or ``M = 0``) already contains 0; ``math.inf`` ("at least the end of the search") when it
never does. The result is rounded *down* on two significant digits, so that the interval at
the returned value still excludes 0 (intervals widen with the restriction's size; the
bisection assumes so).

Search bounds. Relative magnitudes: up to ``M̄ = MBAR_SEARCH_MAX`` (10: a post-period drift
ten times the largest seen before is far beyond any reading of the grid 0–2 of DESIGN
§6.1), so ``inf`` means "≥ 10". Smoothness: ``M`` is in outcome units, so the search starts
at ``SD_START`` × the standard error of ``θ̂`` divided by the post-period part of the
worst-case bias per unit of ``M``, and doubles; the worst-case bias grows linearly in ``M``,
so the interval always contains 0 eventually and ``inf`` (after ``MAX_DOUBLINGS``
doublings) only flags a degenerate input. ``search_max`` replaces either end, e.g. with a
report grid's last value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sahel_eval.did.honest.inputs import EventStudy, check_event_study
from sahel_eval.did.honest.relative_magnitude import RelativeMagnitude
from sahel_eval.did.honest.sensitivity import (
    check_grid,
    check_restriction,
    grid_table,
    intervals_at,
)
from sahel_eval.did.honest.smoothness import post_bias_per_m

__all__ = ["MBAR_SEARCH_MAX", "breakdown", "floor_2sig", "sensitivity_with_breakdown"]

MBAR_SEARCH_MAX = 10.0
MBAR_START = 0.25
SD_START = 0.05
MAX_DOUBLINGS = 60
_MAX_BISECTIONS = 200


def breakdown(
    betahat: Iterable[float],
    sigma: Iterable[Iterable[float]],
    *,
    n_pre: int,
    n_post: int,
    restriction: str,
    l_vec: Iterable[float] | None = None,
    alpha: float = 0.05,
    search_max: float | None = None,
) -> float:
    """Largest ``M̄`` (or ``M``) at which the robust interval for ``θ`` excludes 0.

    Parameters
    ----------
    betahat, sigma, n_pre, n_post, l_vec, alpha
        As for :func:`sensitivity`.
    restriction
        ``"relative_magnitude"`` (C-LF interval, returns ``M̄``) or ``"smoothness"``
        (FLCI, returns ``M`` in outcome units).
    search_max
        End of the search; default ``MBAR_SEARCH_MAX`` for relative magnitudes and none
        (doubling) for smoothness.

    Returns
    -------
    float
        Two significant digits, rounded down; ``0.0`` when the interval at 0 contains 0;
        ``math.inf`` when the interval still excludes 0 at the end of the search.
    """
    check_restriction(restriction)
    es = check_event_study(betahat, sigma, n_pre, n_post, l_vec, alpha)
    return _search(es, restriction, _Intervals(es, restriction), search_max)


def sensitivity_with_breakdown(
    betahat: Iterable[float],
    sigma: Iterable[Iterable[float]],
    *,
    n_pre: int,
    n_post: int,
    restriction: str,
    grid: Iterable[float],
    l_vec: Iterable[float] | None = None,
    alpha: float = 0.05,
) -> tuple[pd.DataFrame, float]:
    """:func:`sensitivity` on ``grid`` and :func:`breakdown` searched up to the grid's end.

    Both share one cache of intervals, so the grid values the search visits (``M̄`` = 0,
    0.5, 1, 2 on the default grid) are computed once; the results equal separate calls
    with ``search_max = max(grid)``.
    """
    check_restriction(restriction)
    es = check_event_study(betahat, sigma, n_pre, n_post, l_vec, alpha)
    values = check_grid(grid)
    interval = _Intervals(es, restriction)
    rows = zip(values, interval.many(values), strict=True)
    table = grid_table(es, restriction, [(v, *ends) for v, ends in rows])
    return table, _search(es, restriction, interval, max(values))


class _Intervals:
    """``intervals_at`` for one event study, each value computed once; and on which side
    of 0 an interval lies, which is all the breakdown search asks."""

    def __init__(self, es: EventStudy, restriction: str) -> None:
        self._es, self._restriction = es, restriction
        self._rm = RelativeMagnitude(es) if restriction == "relative_magnitude" else None
        self._cache: dict[float, tuple[float, float]] = {}
        self._excludes: dict[float, bool] = {}

    def __call__(self, value: float) -> tuple[float, float]:
        return self.many([value])[0]

    def many(self, values: list[float]) -> list[tuple[float, float]]:
        """The intervals at ``values``, those not yet computed in one batch."""
        todo = list(dict.fromkeys(v for v in values if v not in self._cache))
        if todo:
            found = intervals_at(self._es, self._restriction, todo, self._rm)
            self._cache.update(zip(todo, found, strict=True))
        return [self._cache[v] for v in values]

    def excludes_zero(self, value: float) -> bool:
        """Whether the interval at ``value`` lies above or below 0 (nan: it does not)."""
        if value in self._cache or self._rm is None:
            lower, upper = self(value)
            return bool(lower > 0 or upper < 0)
        # Off the report grid only the side matters: the C-LF intervals' ends are then
        # refined only where 0 is within a grid step of them (the same answer).
        if value not in self._excludes:
            self._excludes[value] = self._rm.excludes_zero(value)
        return self._excludes[value]


def _search(
    es: EventStudy,
    restriction: str,
    interval: _Intervals,
    search_max: float | None,
) -> float:
    excludes_zero = interval.excludes_zero
    if not excludes_zero(0.0):
        return 0.0
    if restriction == "relative_magnitude":
        start = MBAR_START
        end = MBAR_SEARCH_MAX if search_max is None else float(search_max)
    else:
        start = SD_START * es.theta_se / post_bias_per_m(es.l_vec)
        end = math.inf if search_max is None else float(search_max)
    start = min(start, end)
    lo, hi, probe = 0.0, math.nan, start
    for _ in range(MAX_DOUBLINGS):
        if not excludes_zero(probe):
            hi = probe
            break
        lo = probe
        if probe >= end:
            return math.inf
        probe = min(2.0 * probe, end)
    if math.isnan(hi):
        return math.inf
    for _ in range(_MAX_BISECTIONS):
        if lo > 0 and floor_2sig(lo) == floor_2sig(float(np.nextafter(hi, 0.0))):
            break
        mid = 0.5 * (lo + hi)
        if excludes_zero(mid):
            lo = mid
        else:
            hi = mid
    return floor_2sig(lo)


def floor_2sig(x: float) -> float:
    """``x`` rounded down to two significant digits (``0.0287 → 0.028``, ``1.93 → 1.9``)."""
    if not x > 0:
        return 0.0
    exponent = math.floor(math.log10(x)) - 1
    unit = 10.0**exponent
    digits = math.floor(x / unit * (1 + 1e-12))
    if digits >= 100:  # log10 rounding at a power of ten
        exponent, digits = exponent + 1, digits // 10
    return round(digits * 10.0**exponent, max(0, -exponent))
