"""Assignment-level randomisation inference for the Callaway–Sant'Anna estimator.

Programmes are assigned to districts, and within a treated district facilities may
start in waves (I3S in Mopti), so one start date per district does not exist and the
TWFE-type permutation of cluster start dates cannot be used directly.  Here the
permuted object is the *set of treated districts*: every choice of G1 of the G
districts (all C(G, G1) of them when at most ``max_permutations``, else a seeded
sample), each placebo treated district taking a real treated district's roll-out by
the rule of :func:`~sahel_eval.did.assignment.placebo_unit_starts` (k-th placebo with
k-th real district in label order; facilities matched by rank of id).  The enumeration
and sampling are :func:`~sahel_eval.did.inference.randomization.randomization_inference`'s.

Confidence intervals invert the test of a constant additive effect.  Without
covariates every ``att_gt`` method (dr, ipw, reg) is a weighted difference of mean
changes with weights that depend on cohorts and sampling weights only, so every
reported quantity q is linear in the outcome: ``q_m(Y − θ D) = q_m(Y) − θ q_m(D)`` for
any assignment m.  Two runs per assignment (on Y and on the actual exposure D) then
give p(θ) for every θ exactly
(:func:`~sahel_eval.did.inference.randomization.linear_randomization_ci`).
The exposure D differs by quantity so that the actual estimate on D is 1 and θ is the
quantity's own value:

* post-treatment quantities (simple, group, calendar, dynamic e ≥ 0, the overalls):
  D = 1{t ≥ g} (absorbing treatment; H0: the effect is θ in every treated month);
* pre-treatment event times (e < 0, varying base period): D = min(t − g, 0) for
  treated units, a differential linear trend whose month-on-month change θ is what
  every varying-base pre-period ATT(g, t) measures (H0: placebo effect θ per month).

D is set missing where Y is, so both runs use the same pairwise samples.

Only point estimates enter, so each assignment is estimated by
:class:`~sahel_eval.did.cs.points.AttGtPoints`: the panel is prepared once, Y
and both exposures share each cell's 2×2 sample, and no influence function, standard
error, bootstrap or pre-test is computed; without covariates (the only case here)
the cells of all three are computed at once as differences of mean changes.  Every
placebo estimate equals ``att_gt(...).aggregate(kind)``'s up to rounding (1e-10 in the
tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.assignment import (
    placebo_unit_starts,
    treated_clusters_indicator,
)
from sahel_eval.did.cs.points import AttGtPoints
from sahel_eval.did.inference.randomization import (
    linear_randomization_ci,
    randomization_inference,
)

__all__ = ["CSRandomizationResult", "cs_randomization_inference"]

_AGGREGATIONS = ("simple", "group", "calendar", "dynamic")
_D_POST = "_ri_d_post"
_D_PRE = "_ri_d_pre"
_GROUP = "_ri_group"
# att_gt options that change point estimates (passed on) and those that only change
# inference (irrelevant to RI, accepted for a uniform call).
_POINT_OPTIONS = frozenset({"control", "method", "unbalanced", "base_period", "anticipation"})
_INFERENCE_OPTIONS = frozenset({"level", "seed", "bootstrap_weights", "panel"})
_UNSUPPORTED = ("covariates", "cluster", "bootstrap", "weights")


@dataclass
class CSRandomizationResult:
    """Randomisation inference for every aggregated quantity of one ``att_gt`` fit.

    Attributes
    ----------
    table
        One row per quantity: ``aggregation, term, estimate, p, ci_low, ci_high,
        ci_note`` (``ci_note``: ``unbounded_below``, ``unbounded_above``,
        ``unbounded``, ``empty`` or None), plus ``exposure`` (``post`` / ``pre``).
    placebo_y, placebo_d
        (M × quantities) placebo estimates on Y and on D.
    p_min
        Smallest attainable p-value (1/M enumerated, 1/(B+1) sampled).
    permutations, enumerated, seed
        As :class:`~sahel_eval.did.inference.randomization.RandomizationResult`.
    clusters, treated_clusters
        G and G1.
    """

    table: pd.DataFrame
    placebo_y: np.ndarray = field(repr=False)
    placebo_d: np.ndarray = field(repr=False)
    p_min: float
    permutations: int
    enumerated: bool
    seed: int | None
    clusters: int
    treated_clusters: int
    rule: str = "sorted_pairing_rank_by_unit_id"


def _exposures(data: pd.DataFrame, outcome: str, time: str, group: str) -> pd.DataFrame:
    g = data[group].to_numpy(dtype=float)
    t = data[time].to_numpy(dtype=float)
    treated = g > 0
    missing = data[outcome].isna().to_numpy()
    post = np.where(treated & (t >= g), 1.0, 0.0)
    pre = np.where(treated, np.minimum(t - g, 0.0), 0.0)
    # Same missing cells as Y: the D runs must use Y's pairwise samples for linearity.
    post[missing] = np.nan
    pre[missing] = np.nan
    return data.assign(**{_D_POST: post, _D_PRE: pre})


def cs_randomization_inference(
    df: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    group: str,
    cluster: str,
    *,
    level: float = 0.95,
    max_permutations: int = 10_000,
    draws: int = 999,
    seed: int | None = None,
    **att_gt_kwargs: Any,
) -> CSRandomizationResult:
    """Randomisation inference over treated clusters for ``att_gt`` aggregations.

    Parameters
    ----------
    df
        Panel as for :func:`~sahel_eval.did.att_gt` (absorbing treatment, ``group`` =
        first exposed period, 0 = never; ``cluster`` constant within unit).
    outcome, unit, time, group, cluster
        Column names; ``cluster`` is the assignment level (district).
    level
        Confidence level of the test-inversion intervals.
    max_permutations
        Enumerate all C(G, G1) choices of treated clusters when at most this many.
    draws
        Random choices otherwise (seeded).
    seed
        Seed for the random choices (unused when enumerated).
    **att_gt_kwargs
        Passed to ``att_gt`` (``control``, ``method``, ``unbalanced``, ...); not
        ``covariates`` (the linearity argument above is checked without them),
        ``cluster`` or ``bootstrap`` (irrelevant to point estimates).

    Returns
    -------
    CSRandomizationResult

    Raises
    ------
    ValueError
        Covariates requested, ``panel=False``, or the panel's treatment is not
        constant within unit.
    TypeError
        An option ``att_gt`` does not have.
    """
    for key in _UNSUPPORTED:
        if att_gt_kwargs.get(key):
            raise ValueError(f"cs_randomization_inference: {key!r} is not supported")
    if att_gt_kwargs.get("panel", True) is not True:
        raise ValueError("cs_randomization_inference: needs a panel (panel=True)")
    unknown = set(att_gt_kwargs) - _POINT_OPTIONS - _INFERENCE_OPTIONS - set(_UNSUPPORTED)
    if unknown:
        raise TypeError(f"cs_randomization_inference: unexpected options {sorted(unknown)}")
    data = _exposures(df, outcome, time, group)
    units = data.drop_duplicates(unit).set_index(unit)
    if (data.groupby(unit)[group].nunique() > 1).any():
        raise ValueError(f"{group!r} varies within unit; treatment must be absorbing")
    unit_start = units[group].astype(float).where(units[group] > 0)
    unit_cluster = units[cluster]
    assignment = treated_clusters_indicator(unit_start, unit_cluster)
    # The cohort column only fixes which rows are kept (as in an att_gt call on the
    # placebo frame, where it is never missing); each assignment brings its cohorts.
    frame = data.assign(**{_GROUP: data[unit].map(unit_start.fillna(0.0)).fillna(0.0)})
    points = AttGtPoints(
        frame,
        [outcome, _D_POST, _D_PRE],
        unit,
        time,
        _GROUP,
        **{k: v for k, v in att_gt_kwargs.items() if k in _POINT_OPTIONS},
    )
    ids = pd.Index(points.unit_ids)

    def fit(groups: pd.Series) -> pd.DataFrame:
        return points.aggregates(groups.reindex(ids).fillna(0.0).to_numpy(), _AGGREGATIONS)

    def estimate(placebo: pd.Series) -> np.ndarray:
        groups = placebo_unit_starts(unit_start, unit_cluster, placebo).fillna(0.0)
        q = fit(groups)
        # Placebo roll-outs reuse the real waves, so terms normally coincide; a term a
        # placebo lacks is NaN and counts as extreme (conservative).
        row = {key: i for i, key in enumerate(zip(q["aggregation"], q["term"], strict=True))}
        at = np.array([row.get(key, -1) for key in actual_keys], dtype=int)

        def aligned(column: str) -> np.ndarray:
            values = q[column].to_numpy(dtype=float)
            return np.where(at >= 0, values[np.maximum(at, 0)], np.nan)

        d = np.where(pre_rows, aligned(_D_PRE), aligned(_D_POST))
        return np.concatenate([aligned(outcome), d])

    actual_q = fit(unit_start.fillna(0.0)).rename(columns={outcome: "estimate"})
    actual_q = actual_q[["aggregation", "term", "event_time", "estimate"]]
    actual_keys = list(zip(actual_q["aggregation"], actual_q["term"], strict=True))
    pre_rows = (actual_q["aggregation"] == "dynamic").to_numpy() & (
        actual_q["event_time"].to_numpy() < 0
    )
    ri = randomization_inference(
        estimate, assignment, max_permutations=max_permutations, draws=draws, seed=seed
    )
    k = len(actual_q)
    b0, c0 = ri.estimates[:k], ri.estimates[k:]
    placebo_y, placebo_d = ri.placebo[:, :k], ri.placebo[:, k:]
    p, lo, hi, notes = [], [], [], []
    for j in range(k):
        if not np.isfinite(c0[j]) or abs(c0[j] - 1.0) > 1e-8:
            # D does not measure this quantity with weight one (e.g. a universal base
            # period): no θ-interpretation, so only the sharp-null p-value.
            p.append(float(ri.p[j]))
            lo.append(np.nan)
            hi.append(np.nan)
            notes.append("no_inversion")
            continue
        pj, lj, hj = linear_randomization_ci(
            placebo_y[:, j], placebo_d[:, j], b0[j], c0[j], enumerated=ri.enumerated, level=level
        )
        p.append(pj)
        lo.append(lj)
        hi.append(hj)
        notes.append(_ci_note(lj, hj))
    table = actual_q.assign(
        p=p,
        ci_low=lo,
        ci_high=hi,
        ci_note=notes,
        exposure=np.where(pre_rows, "pre", "post"),
    )
    return CSRandomizationResult(
        table=table,
        placebo_y=placebo_y,
        placebo_d=placebo_d,
        p_min=ri.p_min,
        permutations=ri.permutations,
        enumerated=ri.enumerated,
        seed=ri.seed,
        clusters=len(assignment),
        treated_clusters=int(assignment.notna().sum()),
    )


def _ci_note(low: float, high: float) -> str | None:
    if np.isnan(low) and np.isnan(high):
        return "empty"
    if np.isinf(low) and np.isinf(high):
        return "unbounded"
    if np.isinf(low):
        return "unbounded_below"
    if np.isinf(high):
        return "unbounded_above"
    return None
