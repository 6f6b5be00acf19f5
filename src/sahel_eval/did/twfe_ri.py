"""Assignment-level studentised RI of the static TWFE coefficient (DESIGN §6.1).

y_it = α_i + λ_t + β·D_it + ε_it.  The permuted object is the set of treated districts;
every placebo treated district takes a real treated district's roll-out
(:class:`~sahel_eval.did.assignment.PlaceboRollouts`, which also covers roll-outs in
waves within a district).  Statistic: t = β̂ / se, se CRV1 clustered by facility; the
interval inverts the test of a constant additive effect
(:mod:`~sahel_eval.did.inference.studentized`).

Unit and period effects are partialled out (FWL) of all placebo exposures at once
(:class:`_TwoWayWithin`): the period effects through the (T−1) × (T−1) normal
equations of the unit-demeaned period dummies, which are built from counts, so no
N × T matrix is formed or factorised.  Per assignment only its exposure column is
new: the roll-outs come from one :class:`~sahel_eval.did.assignment.PlaceboRollouts`
and all exposures are partialled out together (in column blocks that bound memory).
The projection depends on the outcome's observed cells, which differ between
outcomes, so it is built per outcome (one small eigen-decomposition).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sahel_eval.did.assignment import PlaceboRollouts, treated_clusters_indicator
from sahel_eval.did.inference.assignment_ri import (
    AssignmentRI,
    fwl_pieces,
    studentized_assignment_ri,
)
from sahel_eval.did.inference.randomization import placebo_assignments

__all__ = ["twfe_assignment_ri"]

#: Eigenvalues of the period-effect Gram below this share of the largest are treated as
#: zero: the projection is onto the span of the period dummies whatever its rank.
_RANK_RTOL = 1e-10
#: Floats of partialled exposures held at once (rows × assignments of one block).
_BLOCK_FLOATS = 4_000_000


class _TwoWayWithin:
    """Residuals of columns on unit and period effects, in an unbalanced panel.

    ``M v = v̈ − Z̈ (Z̈'Z̈)⁺ Z̈'v̈`` with v̈ the unit-demeaned column and Z̈ the
    unit-demeaned dummies of periods 2..T.  ``Z̈'Z̈ = diag(c) − O' diag(1/n_i) O``
    (O the units × periods observation counts, c their column sums, n_i the row
    sums), ``Z̈'v̈ = Z'v̈`` (period sums) and ``Z̈γ`` is γ_t minus its unit mean, so
    every step costs O(rows) per column plus one eigen-decomposition of the Gram.
    """

    def __init__(self, unit_codes: np.ndarray, t_codes: np.ndarray) -> None:
        self._u, self._t = unit_codes, t_codes
        self._nu = int(unit_codes.max()) + 1
        self._nt = int(t_codes.max()) + 1
        counts = np.bincount(unit_codes * self._nt + t_codes, minlength=self._nu * self._nt)
        self._obs = counts.reshape(self._nu, self._nt).astype(float)
        self._n_i = self._obs.sum(axis=1)
        gram = np.diag(self._obs.sum(axis=0)) - self._obs.T @ (self._obs / self._n_i[:, None])
        vals, vecs = np.linalg.eigh(gram[1:, 1:])
        keep = vals > _RANK_RTOL * max(float(vals.max(initial=0.0)), 0.0)
        self.rank = int(keep.sum())
        self._pinv = (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T

    def _sums(self, codes: np.ndarray, n: int, v: np.ndarray) -> np.ndarray:
        m = v.shape[1]
        flat = (codes[:, None] * m + np.arange(m)[None, :]).ravel()
        return np.bincount(flat, v.ravel(), minlength=n * m).reshape(n, m)

    def residuals(self, v: np.ndarray) -> np.ndarray:
        """Residuals of every column of ``v`` (rows × columns)."""
        dm = v - (self._sums(self._u, self._nu, v) / self._n_i[:, None])[self._u]
        gamma = np.zeros((self._nt, v.shape[1]))
        gamma[1:] = self._pinv @ self._sums(self._t, self._nt, dm)[1:]
        fitted = gamma[self._t] - ((self._obs @ gamma) / self._n_i[:, None])[self._u]
        return dm - fitted


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
    scheme = placebo_assignments(assignment, draws=draws, seed=seed)
    rollouts = PlaceboRollouts(unit_start, unit_cluster)
    unit_codes, unit_levels = pd.factorize(data[unit], sort=True)
    t_codes, t_levels = pd.factorize(data[time], sort=True)
    within = _TwoWayWithin(unit_codes, t_codes)
    # Unit starts of every assignment (actual first), in factorised-unit order.
    at = unit_start.index.get_indexer(unit_levels)
    starts = np.stack([unit_start.to_numpy()] + [rollouts.starts(a) for a in scheme.placebos])
    times = data[time].to_numpy(dtype=float)
    # NaN start: never treated (the comparison is False).
    row_starts = starts[:, at][:, unit_codes]  # assignments × rows

    def partialled(cols: slice) -> np.ndarray:
        # NaN start: never treated (the comparison is False).
        return within.residuals((times[:, None] >= row_starts[cols].T).astype(float))

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
