"""The synthetic-DiD solver of one problem in numpy, kept as the tests' oracle.

It is R's loop (``R/solver.R``, ``sc.weight.fw``) step for step. The pipeline solves
every weight problem, a single panel included, in the compiled batch loop
(:func:`sahel_eval.did.sdid.solver.frank_wolfe_batch`); the tests check that it takes the
same steps and lands on the same weights to rounding.
"""

from __future__ import annotations

import numpy as np


def frank_wolfe(
    a: np.ndarray,
    b: np.ndarray,
    zeta: float,
    *,
    init: np.ndarray,
    min_decrease: float,
    max_iter: int,
) -> tuple[np.ndarray, int]:
    """Minimise ``ζ²‖x‖² + ‖A x − b‖²/n`` over the simplex (R ``sc.weight.fw``).

    Each step is R's ``fw.step``: exact line search from ``x`` towards the vertex
    with the smallest half-gradient ``A'(Ax − b) + nζ²x``. At least two steps; stop
    when a step lowers the objective by at most ``min_decrease**2``, or after
    ``max_iter`` steps.

    Parameters
    ----------
    a, b
        n × k design and n targets (already demeaned when there is an intercept).
    zeta
        Ridge penalty ζ.
    init
        Starting weights on the simplex.
    min_decrease, max_iter
        Stopping rule.

    Returns
    -------
    tuple
        Weights and the number of steps taken.
    """
    n = a.shape[0]
    a_cols = np.ascontiguousarray(a.T)
    x = np.array(init, dtype=float)
    z2 = zeta**2
    eta = n * z2
    tol = min_decrease**2
    ax = a @ x
    err = ax - b  # kept for the next step's gradient: it changes only when x does
    prev = cur = np.inf
    t = 0
    while t < max_iter and (t < 2 or prev - cur > tol):
        t += 1
        half_grad = err @ a + eta * x
        i = int(half_grad.argmin())
        d_x = -x
        d_x[i] = 1.0 - x[i]
        d_err = a_cols[i] - ax
        den = float(d_err @ d_err + eta * (d_x @ d_x))
        if den > 0:
            step = -float(half_grad @ d_x) / den
            x = x + min(1.0, max(0.0, step)) * d_x
            ax = a @ x
            err = ax - b
        prev, cur = cur, z2 * float(x @ x) + float(err @ err) / n
    return x, t
