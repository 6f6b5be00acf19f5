"""Assignment-level studentised RI for one coefficient of a linear model.

The permuted object is the set of treated districts (C(G, G1) choices, enumerated up to
10,000, else ``draws`` seeded samples, by
:func:`~sahel_eval.did.inference.randomization.placebo_assignments`); a design
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

from sahel_eval.did.inference.randomization import PlaceboAssignments, placebo_assignments
from sahel_eval.did.inference.studentized import StudentizedRI, studentized_ri

__all__ = ["AssignmentRI", "assignment_ri", "fwl_pieces", "studentized_assignment_ri"]


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
    """``[b, c, A, B, C]`` of one assignment, or of many, from partialled columns.

    ``xt`` is the placebo regressor (n,) or one column per assignment (n × M), ``yt``
    the outcome and ``dt`` the actual exposure, each with the other regressors
    partialled out (and √w-scaled); ``codes`` the variance cluster (facility, PSU) of
    each row; ``factor`` the CRV1 small-sample factor.  Returns (5,) or (M × 5).
    """
    x = xt[:, None] if xt.ndim == 1 else xt
    m = x.shape[1]
    xx = np.einsum("nm,nm->m", x, x)
    ok = xx > 0
    xx = np.where(ok, xx, np.nan)
    b = (yt @ x) / xx
    c = (dt @ x) / xx
    # Cluster sums of every column at once: one bincount over (cluster, column) pairs.
    flat = (codes[:, None] * m + np.arange(m)[None, :]).ravel()

    def sums(v: np.ndarray) -> np.ndarray:
        return np.bincount(flat, v.ravel(), minlength=n_codes * m).reshape(n_codes, m) / xx

    sy = sums(x * (yt[:, None] - b * x))
    sd = sums(x * (dt[:, None] - c * x))
    out = np.stack(
        [
            b,
            c,
            factor * np.einsum("gm,gm->m", sy, sy),
            factor * np.einsum("gm,gm->m", sy, sd),
            factor * np.einsum("gm,gm->m", sd, sd),
        ],
        axis=1,
    )
    return out[0] if xt.ndim == 1 else out


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
    scheme = placebo_assignments(
        assignment, max_permutations=max_permutations, draws=draws, seed=seed
    )
    placebo = np.array([pieces(a) for a in scheme.placebos])
    return studentized_assignment_ri(pieces(assignment), placebo, scheme, level=level)


def studentized_assignment_ri(
    actual: np.ndarray, placebo: np.ndarray, scheme: PlaceboAssignments, *, level: float
) -> AssignmentRI:
    """:class:`AssignmentRI` from ``[b, c, A, B, C]`` of the actual assignment (5,) and
    of every assignment of ``scheme`` (M × 5), in the order of ``scheme.placebos``."""
    a, m = actual, placebo
    res = studentized_ri(
        m[:, 0],
        m[:, 1],
        (m[:, 2], m[:, 3], m[:, 4]),
        a[0],
        a[1],
        (a[2], a[3], a[4]),
        enumerated=scheme.enumerated,
        level=level,
    )
    first = scheme.placebos[0]
    return AssignmentRI(
        result=res,
        permutations=len(placebo),
        enumerated=scheme.enumerated,
        seed=scheme.seed,
        clusters=len(first),
        treated_clusters=int(first.notna().sum()),
    )
