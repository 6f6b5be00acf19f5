"""Assignment-level studentised RI of the static TWFE coefficient (DESIGN §6.1).

y_it = α_i + λ_t + β·D_it + ε_it.  The permuted object is the set of treated districts;
every placebo treated district takes a real treated district's roll-out
(:class:`~sahel_eval.did.assignment.PlaceboRollouts`, which also covers roll-outs in
waves within a district).  Statistic: t = β̂ / se, se CRV1 clustered by facility; the
interval inverts the test of a constant additive effect
(:mod:`~sahel_eval.did.inference.studentized`).

Unit and period effects are partialled out (FWL) of all placebo exposures at once
(:class:`~sahel_eval.stats.linear.TwoWayWithin`): the period effects through the
(T−1) × (T−1) normal equations of the unit-demeaned period dummies, which are built
from counts, so no N × T matrix is formed or factorised.  Per assignment only its
exposure column is new: the roll-outs come from one
:class:`~sahel_eval.did.assignment.PlaceboRollouts` and all exposures are partialled
out together (in column blocks that bound memory), straight from the unit start dates
(:meth:`~sahel_eval.stats.linear.TwoWayWithin.onset_residuals`, a compiled pass).
The projection depends on the outcome's observed cells, which differ between
outcomes, so it is built per outcome (one small eigen-decomposition).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sahel_eval.did.assignment import PlaceboRollouts, unit_rollout
from sahel_eval.did.inference.assignment_ri import (
    AssignmentRI,
    fwl_pieces,
    studentized_assignment_ri,
)
from sahel_eval.did.inference.randomization import placebo_assignments
from sahel_eval.stats.linear import TwoWayWithin

__all__ = ["twfe_assignment_ri"]

#: Floats of partialled exposures held at once (rows × assignments of one block).
_BLOCK_FLOATS = 4_000_000


def twfe_assignment_ri(
    df: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    cluster: str,
    *,
    level: float = 0.95,
    draws: int = 9999,
    seed: int | None = None,
) -> AssignmentRI:
    """Studentised RI over treated districts for the static TWFE effect.

    Parameters
    ----------
    df
        Long panel; ``group`` = first treated period per unit (0 = never; absorbing).
    outcome, unit, time, group, cluster
        Column names; ``cluster`` is the assignment level (district), constant within
        unit.  The variance cluster of the studentised statistic is ``unit``.
    level, draws, seed
        Confidence level; random draws (and seed) when there are more than 10,000
        assignments.

    Returns
    -------
    AssignmentRI
    """
    data = df.loc[df[outcome].notna(), [outcome, unit, time, group, cluster]]
    unit_start, unit_cluster, assignment = unit_rollout(data, unit, group, cluster)
    scheme = placebo_assignments(assignment, draws=draws, seed=seed)
    rollouts = PlaceboRollouts(unit_start, unit_cluster)
    unit_codes, unit_levels = pd.factorize(data[unit], sort=True)
    t_codes, t_levels = pd.factorize(data[time], sort=True)
    within = TwoWayWithin(unit_codes, t_codes)
    # Unit starts of every assignment (actual first), in factorised-unit order.
    at = unit_start.index.get_indexer(unit_levels)
    starts = np.stack([unit_start.to_numpy()] + [rollouts.starts(a) for a in scheme.placebos])
    starts = np.ascontiguousarray(starts[:, at])  # assignments × units
    times = data[time].to_numpy(dtype=float)

    def partialled(cols: slice) -> np.ndarray:
        # NaN start: never treated (the comparison is False).
        return within.onset_residuals(times, starts[cols])

    yt = within.residuals(data[outcome].to_numpy(dtype=float)[:, None])[:, 0]
    dt = partialled(slice(0, 1))[:, 0]
    n, g_f = len(data), len(unit_levels)
    factor = g_f / (g_f - 1) * (n - 1) / (n - 1 - within.rank)
    block = max(1, _BLOCK_FLOATS // n)
    pieces = np.concatenate(
        [
            fwl_pieces(partialled(slice(s, s + block)), yt, dt, unit_codes, g_f, factor)
            for s in range(0, len(starts), block)
        ]
    )
    return studentized_assignment_ri(pieces[0], pieces[1:], scheme, level=level)
