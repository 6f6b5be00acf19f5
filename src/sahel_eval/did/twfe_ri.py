"""Assignment-level studentised RI of the static TWFE coefficient (DESIGN §6.1).

y_it = α_i + λ_t + β·D_it + ε_it.  The permuted object is the set of treated districts;
every placebo treated district takes a real treated district's roll-out
(:func:`~sahel_eval.did.assignment.placebo_unit_starts`, which also covers roll-outs in
waves within a district).  Statistic: t = β̂ / se, se CRV1 clustered by facility; the
interval inverts the test of a constant additive effect
(:mod:`~sahel_eval.did.inference.studentized`).  Unit effects and the time dummies are
partialled out once (FWL), so each assignment costs one within transformation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sahel_eval.did.assignment import placebo_unit_starts, treated_clusters_indicator
from sahel_eval.did.inference.assignment_ri import AssignmentRI, assignment_ri, fwl_pieces
from sahel_eval.stats.linear import demean

__all__ = ["twfe_assignment_ri"]


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
    units = data.drop_duplicates(unit).set_index(unit)
    unit_start = units[group].astype(float).where(units[group] > 0)
    unit_cluster = units[cluster]
    assignment = treated_clusters_indicator(unit_start, unit_cluster)
    unit_codes, unit_levels = pd.factorize(data[unit], sort=True)
    t_codes, t_levels = pd.factorize(data[time], sort=True)
    dummies = (t_codes[:, None] == np.arange(1, len(t_levels))[None, :]).astype(float)
    z = demean(dummies, unit_codes, None)
    q = np.linalg.qr(z)[0] if z.shape[1] else np.zeros((len(data), 0))

    def part(v: np.ndarray) -> np.ndarray:
        w = demean(v, unit_codes, None)
        return w - q @ (q.T @ w)

    times = data[time].to_numpy(dtype=float)
    row_unit = pd.Index(unit_levels)

    def exposure(starts: pd.Series) -> np.ndarray:
        s = starts.reindex(row_unit).to_numpy(dtype=float)[unit_codes]
        return (times >= s).astype(float)  # NaN start: never treated

    yt = part(data[outcome].to_numpy(dtype=float))
    dt = part(exposure(unit_start))
    n, g_f = len(data), len(unit_levels)
    k = 1 + dummies.shape[1]
    factor = g_f / (g_f - 1) * (n - 1) / (n - k)

    def pieces(placebo: pd.Series) -> np.ndarray:
        starts = placebo_unit_starts(unit_start, unit_cluster, placebo)
        return fwl_pieces(part(exposure(starts)), yt, dt, unit_codes, g_f, factor)

    return assignment_ri(pieces, assignment, level=level, draws=draws, seed=seed)
