"""Assignment-level studentised randomisation inference for the imputation estimator.

The same permutations as Callaway–Sant'Anna's RI
(:mod:`~sahel_eval.did.cs.randomization`): every choice of G1 of the G districts
(:func:`~sahel_eval.did.inference.randomization.placebo_assignments`), each placebo
treated district taking a real treated district's roll-out
(:class:`~sahel_eval.did.assignment.PlaceboRollouts`). For each assignment the
imputation estimator (Borusyak, Jaravel & Spiess 2024) is refitted with the placebo
cohorts; for fixed cohorts it and its BJS conservative variance (clustered by
facility) are linear and quadratic in the outcome, so the estimate on Y − θD is
``b − θc`` and its variance ``A − 2θB + θ²C`` with D = 1{t ≥ g} of the actual
roll-out, and p(θ) and the test-inversion interval follow exactly
(:func:`~sahel_eval.did.inference.assignment_ri.studentized_assignment_ri`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sahel_eval.did.assignment import PlaceboRollouts, require_absorbing, unit_rollout
from sahel_eval.did.imputation_scores import _ImputationScores, _Panel, _target_pairs
from sahel_eval.did.inference.assignment_ri import AssignmentRI, studentized_assignment_ri
from sahel_eval.did.inference.randomization import placebo_assignments

__all__ = ["ImputationRI", "imputation_randomization_inference"]


@dataclass(frozen=True)
class ImputationRI:
    """Per target (``overall``, ``h=<h>``) the studentised RI, and the estimates."""

    terms: list[str]
    event_time: list[int | None]
    estimate: np.ndarray
    se: np.ndarray
    results: list[AssignmentRI]


def imputation_randomization_inference(
    df: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    cluster: str,
    *,
    horizons: Sequence[int],
    level: float,
    max_permutations: int = 10_000,
    draws: int = 999,
    seed: int | None = None,
) -> ImputationRI:
    """Studentised RI over treated ``cluster``s of the imputation overall ATT and of
    the ATT at each of ``horizons`` (unit-clustered BJS variance, cohort × period
    averaging; unweighted).

    A placebo assignment without observations at a horizon counts as at least as
    extreme (NaN statistic), as in the Callaway–Sant'Anna RI.
    """
    data = df[[outcome, unit, time, group, cluster]].dropna(subset=[outcome])
    require_absorbing(data, unit, group)
    # One row per unit × period, as the estimator requires: with clusters = units and
    # cohort × period cells, no cluster then has two rows in a cell.
    if data.duplicated([unit, time]).any():
        raise ValueError(f"imputation RI: several rows for one {unit} × {time}")
    u = data[unit].to_numpy()
    t = data[time].to_numpy(dtype=float)
    g_actual = data[group].fillna(0).to_numpy(dtype=float)
    d_actual = ((g_actual > 0) & (t >= g_actual)).astype(float)
    ys = np.stack([data[outcome].to_numpy(dtype=float), d_actual])
    unit_start, unit_cluster, assignment = unit_rollout(data, unit, group, cluster)
    scheme = placebo_assignments(
        assignment, max_permutations=max_permutations, draws=draws, seed=seed
    )
    rollouts = PlaceboRollouts(unit_start, unit_cluster)
    if len(set(horizons)) < len(horizons):
        raise ValueError(f"imputation RI: horizons {list(horizons)} repeat an event time")
    panel = _Panel.of(u, t, np.ones(len(data)))
    # Clusters are the units, coded in order of appearance: unit_start's order.
    row_unit = panel.cl
    terms = ["overall", *(f"h={h}" for h in horizons)]

    def pieces(starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = np.nan_to_num(starts, nan=0.0)[row_unit]
        fit = _ImputationScores(panel, (g > 0) & (t >= g))
        it = np.flatnonzero(fit.imputable)
        pairs = row, col = _target_pairs(it, t[it] - g[it], horizons)
        # Groups target × cohort × period. A cell's rows share one event time, hence one
        # horizon target: (cell, target) is (cell, whether the target is a horizon).
        cohort = pd.factorize(starts)[0][row_unit[row]]
        by_cell = (cohort * panel.n_periods + panel.period[row]) * 2 + (col > 0)
        est, score = fit.compute(ys, pairs, len(terms), by_cell)
        sy, sd = score
        var = (np.einsum("gk,gk->k", sy, sy), np.einsum("gk,gk->k", sy, sd))
        out = np.column_stack([*est, *var, np.einsum("gk,gk->k", sd, sd)])
        # A target without rows (NaN estimate) has no statistic.
        out[~np.isfinite(out[:, 0])] = np.nan
        return out, np.sqrt(var[0])

    actual, se = pieces(unit_start.to_numpy())
    placebo = np.stack([pieces(rollouts.starts(a))[0] for a in scheme.placebos])
    results = [
        studentized_assignment_ri(actual[k], placebo[:, k, :], scheme, level=level)
        for k in range(len(terms))
    ]
    return ImputationRI(
        terms=terms,
        event_time=[None, *horizons],
        estimate=actual[:, 0],
        se=se,
        results=results,
    )
