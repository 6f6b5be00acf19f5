"""Randomisation inference permuting roll-out dates over clusters.

Generic over the estimator: it takes an *estimate function* ``assignment -> estimate(s)``
that re-estimates the model under a placebo assignment of roll-out dates to clusters.

The observed multiset of cluster start dates (never-treated included) is permuted over
clusters: every placebo treated cluster takes a real treated cluster's roll-out date.
All distinct assignments are enumerated when there are at most ``max_permutations`` of
them (p = share of |θ̂_m| ≥ |θ̂|, the actual assignment included, smallest attainable
p = 1/M); otherwise ``draws`` random permutations are used with
p = (1 + #{|θ̂_b| ≥ |θ̂|}) / (B + 1) and smallest attainable p = 1/(B + 1).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.inference import TIE, resolve_seed

__all__ = [
    "PlaceboAssignments",
    "RandomizationResult",
    "placebo_assignments",
    "randomization_inference",
]


@dataclass
class RandomizationResult:
    """Outcome of randomisation inference.

    ``estimates`` are the actual estimates (one per term), ``placebo`` the M × terms
    matrix of placebo estimates (actual assignment included when enumerated),
    ``p`` the p-values per term and ``p_min`` the smallest attainable p-value.
    """

    estimates: np.ndarray
    placebo: np.ndarray
    p: np.ndarray
    p_min: float
    permutations: int
    enumerated: bool
    seed: int | None


def _n_distinct_assignments(counts: list[int]) -> int:
    total = math.factorial(sum(counts))
    for c in counts:
        total //= math.factorial(c)
    return total


def _multiset_permutations(codes: np.ndarray) -> Iterator[np.ndarray]:
    """Every distinct rearrangement of ``codes`` (positions chosen value by value)."""
    values, counts = np.unique(codes, return_counts=True)
    g = len(codes)

    def rec(free: tuple[int, ...], level: int, out: np.ndarray) -> Iterator[np.ndarray]:
        if level == len(values) - 1:
            out[list(free)] = values[level]
            yield out.copy()
            return
        for chosen in itertools.combinations(free, int(counts[level])):
            out[list(chosen)] = values[level]
            taken = set(chosen)
            rest = tuple(i for i in free if i not in taken)
            yield from rec(rest, level + 1, out)

    yield from rec(tuple(range(g)), 0, np.empty(g, dtype=codes.dtype))


@dataclass(frozen=True)
class PlaceboAssignments:
    """The assignments a randomisation test compares with the actual one.

    ``placebos``: every distinct rearrangement of the cluster start dates (the actual
    one included) when ``enumerated``, else ``draws`` seeded random permutations;
    ``seed`` is the seed used (None when enumerated).
    """

    placebos: list[pd.Series]
    enumerated: bool
    seed: int | None

    @property
    def p_min(self) -> float:
        """Smallest attainable p-value: 1/M enumerated, 1/(B + 1) sampled."""
        m = len(self.placebos)
        return 1.0 / m if self.enumerated else 1.0 / (m + 1)


def placebo_assignments(
    assignment: pd.Series,
    *,
    max_permutations: int = 10_000,
    draws: int = 9999,
    seed: int | None = None,
) -> PlaceboAssignments:
    """All rearrangements of ``assignment`` over clusters, or a seeded sample of them.

    Parameters
    ----------
    assignment
        The actual start date per cluster (index = cluster, NaN = never treated).
    max_permutations
        Enumerate all distinct assignments when there are at most this many.
    draws
        Random permutations used otherwise.
    seed
        Seed of the numpy Generator for the random permutations.

    Returns
    -------
    PlaceboAssignments
    """
    if assignment.index.has_duplicates:
        raise ValueError("assignment must have one entry per cluster")
    # Codes so that NaN (never treated) is one value like any date.
    codes, uniques = pd.factorize(assignment.to_numpy(), use_na_sentinel=False)
    m = _n_distinct_assignments(np.bincount(codes).tolist())
    enumerated = m <= max_permutations
    if enumerated:
        perms: Iterator[np.ndarray] = _multiset_permutations(codes)
        used_seed = None
    else:
        used_seed = resolve_seed(seed)
        rng = np.random.default_rng(used_seed)
        perms = (rng.permutation(codes) for _ in range(draws))
    placebos = [pd.Series(uniques[c], index=assignment.index) for c in perms]
    return PlaceboAssignments(placebos, enumerated, used_seed)


def randomization_inference(
    estimate: Callable[[pd.Series], Any],
    assignment: pd.Series,
    *,
    max_permutations: int = 10_000,
    draws: int = 9999,
    seed: int | None = None,
) -> RandomizationResult:
    """Randomisation inference permuting roll-out dates over clusters.

    H0 (sharp): the programme has no effect in any cluster, so every rearrangement of
    the observed start dates over clusters was as likely as the actual one; statistic
    |θ̂|, p = share of |θ̂_placebo| ≥ |θ̂_actual|.

    Parameters
    ----------
    estimate
        ``assignment -> estimate`` (float or 1-D array, one entry per term): re-fits
        the model with treatment defined by a cluster → start-date Series (NaN = never
        treated).
    assignment
        The actual start date per cluster (index = cluster, NaN = never treated).
    max_permutations, draws, seed
        As :func:`placebo_assignments`.

    Returns
    -------
    RandomizationResult
    """
    scheme = placebo_assignments(
        assignment, max_permutations=max_permutations, draws=draws, seed=seed
    )
    actual = np.atleast_1d(np.asarray(estimate(assignment), dtype=float))
    placebo = np.array(
        [np.atleast_1d(np.asarray(estimate(a), dtype=float)) for a in scheme.placebos]
    )
    hits = (np.abs(placebo) >= np.abs(actual)[None, :] * (1 - TIE)).sum(axis=0)
    m = len(placebo)
    p = hits / m if scheme.enumerated else (1 + hits) / (m + 1)
    return RandomizationResult(
        estimates=actual,
        placebo=placebo,
        p=p,
        p_min=scheme.p_min,
        permutations=m,
        enumerated=scheme.enumerated,
        seed=scheme.seed,
    )
