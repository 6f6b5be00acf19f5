"""Assignment-level studentised RI for one coefficient of a linear model.

The permuted object is the set of treated districts (C(G, G1) choices, enumerated up to
10,000, else ``draws`` seeded samples, by
:func:`~sahel_eval.did.inference.randomization.randomization_inference`); a design
turns each choice into a placebo regressor.  Per assignment m the tested regressor
partialled out of the other regressors (FWL), x̃_m, gives five numbers: the estimate on
Y (``b_m``), on the actual exposure D (``c_m``), and the quadratic V_m(θ) of the
facility-clustered CRV1 variance of the estimate on Y − θD
(:mod:`~sahel_eval.did.inference.studentized`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sahel_eval.did.inference.randomization import randomization_inference
from sahel_eval.did.inference.studentized import StudentizedRI, studentized_ri

__all__ = ["AssignmentRI", "assignment_ri", "fwl_pieces"]


@dataclass(frozen=True)
class AssignmentRI:
    """Studentised RI of one coefficient with the facts of its permutation scheme."""

    result: StudentizedRI
    permutations: int
    enumerated: bool
    seed: int | None
    clusters: int
    treated_clusters: int


def fwl_pieces(
    xt: np.ndarray,
    yt: np.ndarray,
    dt: np.ndarray,
    codes: np.ndarray,
    n_codes: int,
    factor: float,
) -> np.ndarray:
    """``[b, c, A, B, C]`` of one assignment from partialled (and √w-scaled) columns.

    ``xt`` is the placebo regressor, ``yt`` the outcome and ``dt`` the actual exposure,
    each with the other regressors partialled out; ``codes`` the variance cluster
    (facility, PSU) of each row; ``factor`` the CRV1 small-sample factor.
    """
    xx = float(xt @ xt)
    if xx <= 0:
        return np.full(5, np.nan)
    b = float(xt @ yt) / xx
    c = float(xt @ dt) / xx
    sy = np.bincount(codes, xt * (yt - b * xt), minlength=n_codes) / xx
    sd = np.bincount(codes, xt * (dt - c * xt), minlength=n_codes) / xx
    return np.array([b, c, factor * sy @ sy, factor * sy @ sd, factor * sd @ sd])


def assignment_ri(
    pieces: Callable[[pd.Series], np.ndarray],
    assignment: pd.Series,
    *,
    level: float,
    max_permutations: int = 10_000,
    draws: int = 9999,
    seed: int | None = None,
) -> AssignmentRI:
    """Studentised RI with its exact test-inversion interval.

    Parameters
    ----------
    pieces
        ``placebo assignment -> [b, c, A, B, C]`` (:func:`fwl_pieces`); the placebo
        assignment is a Series over districts, non-NaN for placebo treated districts.
    assignment
        The actual one (index = district, 1.0 treated, NaN not).
    level, max_permutations, draws, seed
        Confidence level; enumeration limit; random draws and their seed otherwise.

    Returns
    -------
    AssignmentRI
    """
    ri = randomization_inference(
        pieces, assignment, max_permutations=max_permutations, draws=draws, seed=seed
    )
    a, m = ri.estimates, ri.placebo
    res = studentized_ri(
        m[:, 0],
        m[:, 1],
        (m[:, 2], m[:, 3], m[:, 4]),
        a[0],
        a[1],
        (a[2], a[3], a[4]),
        enumerated=ri.enumerated,
        level=level,
    )
    return AssignmentRI(
        result=res,
        permutations=ri.permutations,
        enumerated=ri.enumerated,
        seed=ri.seed,
        clusters=len(assignment),
        treated_clusters=int(assignment.notna().sum()),
    )
