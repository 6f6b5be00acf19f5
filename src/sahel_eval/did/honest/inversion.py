"""Confidence sets by test inversion: the ``θ`` a family of tests accepts, on a grid.

For relative magnitudes (:mod:`~sahel_eval.did.honest.relative_magnitude`) the interval is
the union, over the choices of the maximal pre-period, of the sets each choice's C-LF test
(:class:`~sahel_eval.did.honest.arp.HybridTests`) accepts; the breakdown search asks only
on which side of 0 that union lies. Both are found here for many tests at once, with the
numbers of inverting each test on its own (tests/honest_reference.py keeps that code).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["Accepts", "Span", "interval_sides", "union_intervals"]

#: ``accepts(tests, theta)``: (R,) test indices and (R, T) values → (R, T) acceptances.
Accepts = Callable[[np.ndarray, np.ndarray], np.ndarray]
#: ``span(tests, grid)``: for each test, ``[start, stop)``, the grid indices it may accept.
Span = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def union_intervals(
    accepts: Accepts,
    groups: Sequence[Sequence[int]],
    center: float,
    half_width: float,
    *,
    n_grid: int = 1001,
    max_doublings: int = 40,
    span: Span | None = None,
) -> list[tuple[float, float]]:
    """For each group of tests, the smallest and largest ``θ`` one of them accepts.

    Each test is inverted on its own: the grid ``center ± half_width`` (``n_grid`` points,
    deterministic) locates its accepted set. When an end of the grid is accepted the search
    steps outward, doubling the step; an end still accepted after ``max_doublings`` steps
    is infinite. Each end is then refined between its last accepted and first rejected
    point by ``_REFINE_ROUNDS`` rounds of ``_REFINE_POINTS`` equally spaced tests (a factor
    129 per round: ~4e-9 of the grid step). R instead reports the outermost accepted point
    of a 1,000-point grid on ``±20 σ_θ``. A group's interval is ``(min lower, max upper)``
    over its tests that accept a grid point; none: ``(nan, nan)``.

    All tests share each call of ``accepts``. Grid points outside a test's ``span`` (by
    default the whole grid) are taken as rejected; the first and last accepted ones are
    found by scanning inwards from the span's ends. A refined end stays inside its bracket, so
    an end is refined only while its bracket reaches beyond every other end of its group
    (the others cannot be the group's): the result is that of refining every end.
    """
    found = _grid_brackets(accepts, span, groups, center, half_width, n_grid, max_doublings)
    contests: list[list[float]] = []  # per group and end: the ends found
    rows: list[tuple[int, int, int, float, float]] = []  # (contest, test, end, bracket)
    for group in groups:
        hits = [(k, found[k]) for k in group if found[k] is not None]
        for end in (0, 1):
            infinite = [ends[end] for _, (ends, brackets) in hits if end not in brackets]
            contests.append(infinite)
            if not infinite:
                rows += [(len(contests) - 1, k, end, *brackets[end]) for k, (_, brackets) in hits]
    if rows:
        contest, tests, ends, inside, outside = map(np.array, zip(*rows, strict=True))
        sign = np.where(ends == 0, 1.0, -1.0)  # lower ends as they are, upper ends negated

        def open_(inside: np.ndarray, outside: np.ndarray) -> np.ndarray:
            best = np.full(len(contests), np.inf)
            np.minimum.at(best, contest, sign * inside)
            return sign * outside < best[contest]

        for c, value in zip(contest, _refine(accepts, tests, inside, outside, open_), strict=True):
            contests[c].append(float(value))
    return [
        (min(lows), max(highs)) if lows else (math.nan, math.nan)
        for lows, highs in zip(contests[::2], contests[1::2], strict=True)
    ]


def interval_sides(
    accepts: Accepts,
    tests: Sequence[int],
    center: float,
    half_width: float,
    *,
    need: tuple[bool, bool] = (True, True),
    n_grid: int = 1001,
    max_doublings: int = 40,
    span: Span | None = None,
) -> list[tuple[bool, bool] | None]:
    """For each test, ``(lower > 0, upper < 0)`` of the interval :func:`union_intervals`
    finds for it (None: no accepted point), as far as they matter to a union of intervals
    lying above 0 (every lower end above) or below (every upper end below): a side not in
    ``need`` (ruled out by earlier tests) or ruled out by one of ``tests`` may read False
    where an end was not refined. The union's sides, ``all`` over the tests, are exact.

    A refined end stays inside its bracket, so it is on the side of 0 its bracket is on:
    ends are refined only while their bracket holds 0, and only on a side still possible.
    """
    found = _grid_brackets(accepts, span, [tests], center, half_width, n_grid, max_doublings)
    sides: dict[int, list[bool]] = {k: [False, False] for k in tests if found[k] is not None}
    rows = []
    for end in (0, 1):
        straddle, possible = [], need[end] and bool(sides)
        for k in sides:
            b = found[k][1].get(end)
            if b is None:  # an infinite end
                possible = False
            elif min(b) <= 0.0 <= max(b):
                straddle.append((end, k, *b))
            else:
                sides[k][end] = b[0] > 0 if end == 0 else b[0] < 0
                possible = possible and sides[k][end]
        if not possible:
            for k in sides:
                sides[k][end] = False
        rows += straddle if possible else []
    if rows:
        ends, tests_, inside, outside = map(np.array, zip(*rows, strict=True))

        def open_(inside: np.ndarray, outside: np.ndarray) -> np.ndarray:
            return (np.minimum(inside, outside) <= 0.0) & (np.maximum(inside, outside) >= 0.0)

        value = _refine(accepts, tests_, inside, outside, open_)
        for end, k, v in zip(ends.tolist(), tests_.tolist(), value.tolist(), strict=True):
            sides[k][end] = v > 0 if end == 0 else v < 0
    return [(sides[k][0], sides[k][1]) if k in sides else None for k in tests]


def _grid_brackets(
    accepts: Accepts,
    span: Span | None,
    groups: Sequence[Sequence[int]],
    center: float,
    half_width: float,
    n_grid: int,
    max_doublings: int,
) -> dict[int, tuple[dict[int, float], dict[int, tuple[float, float]]] | None]:
    """For each test of ``groups``: the grid search of :func:`union_intervals`, its ends
    found infinite (``±inf``) and the others' (last accepted, first rejected) points; None
    when no grid point is accepted."""
    tests = np.array(sorted({int(k) for group in groups for k in group}), dtype=int)
    grid = center + half_width * np.linspace(-1.0, 1.0, n_grid)
    if span is None:
        start, stop = np.zeros(len(tests), dtype=int), np.full(len(tests), n_grid)
    else:
        start, stop = span(tests, grid)
    first = _scan(accepts, tests, grid, start, stop, 1)
    last = np.full(len(tests), -1)
    hit = first >= 0
    last[hit] = _scan(accepts, tests[hit], grid, stop[hit] - 1, first[hit] - 1, -1)
    step = 2.0 * half_width / (n_grid - 1)
    out: dict[int, tuple[dict[int, float], dict[int, tuple[float, float]]] | None] = {}
    for k, lo, hi in zip(tests.tolist(), first.tolist(), last.tolist(), strict=True):
        if lo < 0:
            out[k] = None
            continue
        ends: dict[int, float] = {}
        brackets: dict[int, tuple[float, float]] = {}
        for end, (idx, direction) in enumerate(((lo, -1), (hi, 1))):
            inside = float(grid[idx])
            nxt = idx + direction
            outside = float(grid[nxt]) if 0 <= nxt < n_grid else math.nan
            probe_step = step
            for _ in range(max_doublings if math.isnan(outside) else 0):
                probe = inside + direction * probe_step
                if not bool(accepts(np.array([k]), np.array([[probe]]))[0, 0]):
                    outside = probe
                    break
                inside, probe_step = probe, 2.0 * probe_step
            ends[end] = direction * math.inf
            if not math.isnan(outside):
                brackets[end] = (inside, outside)
        out[k] = ends, brackets
    return out


_SCAN_CHUNK = 32


def _scan(
    accepts: Accepts,
    tests: np.ndarray,
    grid: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    direction: int,
) -> np.ndarray:
    """For each test, the first grid index from ``start`` on, stepping by ``direction``
    and stopping before ``stop``, whose point it accepts; −1 if none. All tests share each
    call of ``accepts``, on chunks of points that double in size."""
    found = np.full(len(tests), -1)
    pos = np.array(start, dtype=int)
    size = _SCAN_CHUNK
    active = np.flatnonzero((stop - pos) * direction > 0)
    while active.size:
        counts = np.minimum(size, (stop - pos)[active] * direction)
        heads = np.cumsum(counts) - counts
        rows = np.repeat(active, counts)
        offset = np.arange(rows.size) - np.repeat(heads, counts)
        idx = pos[rows] + direction * offset
        acc = np.asarray(accepts(tests[rows], grid[idx][:, None]), dtype=bool)[:, 0]
        first = np.minimum.reduceat(np.where(acc, offset, size), heads)
        hit = first < size
        found[active[hit]] = pos[active[hit]] + direction * first[hit]
        pos[active] += direction * counts
        active = active[~hit & ((stop - pos)[active] * direction > 0)]
        size *= 2
    return found


_REFINE_ROUNDS = 4
_REFINE_POINTS = 128


def _refine(
    accepts: Accepts,
    tests: np.ndarray,
    inside: np.ndarray,
    outside: np.ndarray,
    still_open: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Last accepted point between each accepted ``inside`` and rejected ``outside``
    (``tests[r]``'s), for the rows ``still_open`` selects before each round; the others
    keep their ``inside``. All rows share one call of ``accepts`` per round, and the
    points are ``np.linspace(inside, outside, _REFINE_POINTS + 2)[1:-1]``'s.
    """
    inside, outside = np.array(inside, dtype=float), np.array(outside, dtype=float)
    steps = np.arange(1.0, _REFINE_POINTS + 1.0)
    for _ in range(_REFINE_ROUNDS):
        rows = np.flatnonzero(still_open(inside, outside))
        if not rows.size:
            break
        start = inside[rows]
        pts = start[:, None] + steps * ((outside[rows] - start) / (_REFINE_POINTS + 1))[:, None]
        rejected = ~np.asarray(accepts(tests[rows], pts), dtype=bool)
        first = np.argmax(rejected, axis=1)  # 0 where none is rejected
        some = rejected[np.arange(rows.size), first]
        at = np.arange(rows.size)
        outside[rows[some]] = pts[at[some], first[some]]
        # The last point when none is rejected; the one before the first rejected else.
        later = ~some | (first > 0)
        inside[rows[later]] = pts[at[later], np.where(some, first - 1, -1)[later]]
    return inside
