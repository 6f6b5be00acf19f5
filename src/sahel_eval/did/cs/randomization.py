"""Assignment-level studentised randomisation inference for Callaway–Sant'Anna.

Programmes are assigned to districts, and within a treated district facilities may
start in waves (I3S in Mopti), so one start date per district does not exist and the
TWFE-type permutation of cluster start dates cannot be used directly.  Here the
permuted object is the *set of treated districts*: every choice of G1 of the G
districts (all C(G, G1) of them when at most ``max_permutations``, else a seeded
sample), each placebo treated district taking a real treated district's roll-out by
the rule of :func:`~sahel_eval.did.assignment.placebo_unit_starts` (k-th placebo with
k-th real district in label order; facilities matched by rank of id).  The enumeration
and sampling are :func:`~sahel_eval.did.inference.randomization.placebo_assignments`'.

The statistic is studentised (DESIGN §6.1; MacKinnon & Webb 2020): for every
aggregated quantity, t = estimate / se with se the facility-clustered analytic
standard error that ``att_gt(..., cluster=unit).aggregate(kind)`` reports (influence
functions including the estimated cohort shares).

Confidence intervals invert the test of a constant additive effect.  For a fixed
assignment every ``att_gt`` method (dr, ipw, reg, with or without covariates) is
linear in the outcome, and so are its influence functions, so for any assignment m
the estimate on ``Y − θD`` is ``b_m − θ c_m`` and its variance ``A_m − 2θB_m + θ²C_m``
(:mod:`~sahel_eval.did.cs.ri_pieces`); p(θ) and the accepted set follow exactly
(:func:`~sahel_eval.did.inference.studentized.studentized_ri`).  The exposure D
differs by quantity so that the actual estimate on D is 1 and θ is the quantity's own
value:

* post-treatment quantities (simple, group, calendar, dynamic e ≥ 0, the overalls):
  D = 1{t ≥ g} (absorbing treatment; H0: the effect is θ in every treated month);
* pre-treatment event times (e < 0, varying base period): D = min(t − g, 0) for
  treated units, a differential linear trend whose month-on-month change θ is what
  every varying-base pre-period ATT(g, t) measures (H0: placebo effect θ per month).

D is set missing where Y is, so all runs use the same pairwise samples.  A quantity
averages either post-treatment cells (t ≥ g) or pre-treatment ones, so one exposure
column per cell (D_post in post cells, D_pre in pre cells) serves every quantity.  Panels without
covariates take the batched path of :class:`~sahel_eval.did.cs.ri_pieces.RIPieces`
(all assignments at once); the others are re-fitted assignment by assignment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from sahel_eval.did.assignment import PlaceboRollouts, require_absorbing, unit_rollout
from sahel_eval.did.cs.data import _prepare
from sahel_eval.did.cs.model import _check_options
from sahel_eval.did.cs.ri_pieces import RIPieces
from sahel_eval.did.inference import TIE
from sahel_eval.did.inference.randomization import placebo_assignments
from sahel_eval.did.inference.studentized import ci_note, studentized_ri

__all__ = ["CSRandomizationResult", "cs_randomization_inference"]

_AGGREGATIONS = ("simple", "group", "calendar", "dynamic")
_D_POST = "_ri_d_post"
_D_PRE = "_ri_d_pre"
# att_gt options that change point estimates (passed on) and those that only change
# inference (irrelevant to RI, accepted for a uniform call).
_POINT_OPTIONS = frozenset({"control", "method", "unbalanced", "base_period", "anticipation"})
_INFERENCE_OPTIONS = frozenset({"level", "seed", "bootstrap_weights", "panel"})
_UNSUPPORTED = ("cluster", "bootstrap", "weights")


@dataclass
class CSRandomizationResult:
    """Studentised randomisation inference for every aggregated quantity of ``att_gt``.

    Attributes
    ----------
    table
        One row per quantity: ``aggregation, term, event_time, estimate, se, t, p,
        ci_low, ci_high, ci_note`` (``ci_note``: ``unbounded_below``,
        ``unbounded_above``, ``unbounded``, ``empty``, ``no_inversion`` or None),
        plus ``exposure`` (``post`` / ``pre``).
    placebo_y, placebo_d, placebo_t
        (M × quantities) placebo estimates on Y, on D and studentised statistics
        (NaN where a placebo lacks the quantity).
    p_min
        Smallest attainable p-value (1/M enumerated, 1/(B+1) sampled).
    permutations, enumerated, seed
        As :class:`~sahel_eval.did.inference.randomization.RandomizationResult`.
    clusters, treated_clusters
        G and G1.
    path
        ``batched`` (all assignments at once), ``loop`` (re-fitted one by one) or
        ``mixed``.
    """

    table: pd.DataFrame
    placebo_y: np.ndarray = field(repr=False)
    placebo_d: np.ndarray = field(repr=False)
    placebo_t: np.ndarray = field(repr=False)
    p_min: float
    permutations: int
    enumerated: bool
    seed: int | None
    clusters: int
    treated_clusters: int
    path: str

    def max_abs_t_pretest(self, rows: np.ndarray) -> tuple[float, float]:
        """RI on the largest |t| over ``rows`` (a boolean mask of table rows).

        Returns ``(stat, p)``: the actual statistic and its randomisation p-value
        (a placebo without any of the rows counts as at least as extreme).
        """
        stat0 = float(np.nanmax(np.abs(self.table.loc[rows, "t"].to_numpy(dtype=float))))
        placebo = np.abs(self.placebo_t[:, rows])
        stats_m = np.where(np.isnan(placebo).all(axis=1), np.inf, np.nanmax(placebo, axis=1))
        hits = int((stats_m >= stat0 * (1 - TIE)).sum())
        m = len(stats_m)
        return stat0, hits / m if self.enumerated else (1 + hits) / (m + 1)


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
    covariates: tuple[str, ...] | list[str] = (),
    path: Literal["auto", "loop"] = "auto",
    aggregations: Sequence[str] = _AGGREGATIONS,
    **att_gt_kwargs: Any,
) -> CSRandomizationResult:
    """Studentised randomisation inference over treated clusters for ``att_gt``.

    Parameters
    ----------
    df
        Panel as for :func:`~sahel_eval.did.att_gt` (absorbing treatment, ``group`` =
        first exposed period, 0 = never; ``cluster`` constant within unit).
    outcome, unit, time, group, cluster
        Column names; ``cluster`` is the assignment level (district).  The variance
        cluster of the studentised statistic is ``unit`` (the facility).
    level
        Confidence level of the test-inversion intervals.
    max_permutations
        Enumerate all C(G, G1) choices of treated clusters when at most this many.
    draws
        Random choices otherwise (seeded).
    seed
        Seed for the random choices (unused when enumerated).
    covariates
        As for ``att_gt``; the 2×2 models then change with the assignment, so every
        assignment is re-fitted (the loop path).
    path
        ``"auto"``: batched where it applies (panels without covariates), else the
        loop; ``"loop"`` forces re-fitting every assignment (the reference the batched
        path is tested against).
    aggregations
        The aggregations to test (a subset of simple, group, calendar, dynamic, in
        that order). Each is computed on its own, so a subset gives the same rows as
        the full set, at a fraction of the cost (robustness rows need ``simple`` only).
    **att_gt_kwargs
        Passed to ``att_gt`` (``control``, ``method``, ``unbalanced``, ...); not
        ``weights``, ``cluster`` or ``bootstrap``.

    Returns
    -------
    CSRandomizationResult

    Raises
    ------
    ValueError
        An unsupported option, ``panel=False``, or the panel's treatment is not
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
    opts = {k: v for k, v in att_gt_kwargs.items() if k in _POINT_OPTIONS}
    options = (
        opts.get("control", "never_treated"),
        opts.get("method", "dr"),
        opts.get("base_period", "varying"),
        int(opts.get("anticipation", 0)),
    )
    unbalanced = opts.get("unbalanced", "repeated_cross_section")
    _check_options(*options, unbalanced)
    # Only the columns used: the exposures are added to a copy of the frame.
    used = dict.fromkeys([outcome, unit, time, group, cluster, *covariates])
    data = _exposures(df[[c for c in used if c in df.columns]], outcome, time, group)
    require_absorbing(data, unit, group)
    datas = _prepare(
        data,
        (outcome, _D_POST, _D_PRE),
        unit,
        time,
        group,
        tuple(covariates),
        True,
        None,
        None,
        unbalanced,
    )[0]
    # Roll-outs are assigned over every unit of the panel (ranks within a district do
    # not depend on the outcome), then restricted to the units the fits keep.
    unit_start, unit_cluster, assignment = unit_rollout(data, unit, group, cluster)
    scheme = placebo_assignments(
        assignment, max_permutations=max_permutations, draws=draws, seed=seed
    )
    rollouts = PlaceboRollouts(unit_start, unit_cluster)
    kept = unit_start.index.get_indexer(datas[0].unit_ids)
    starts = [unit_start.to_numpy()] + [rollouts.starts(a) for a in scheme.placebos]
    cohorts = np.nan_to_num(np.stack(starts)[:, kept], nan=0.0)
    unknown_agg = set(aggregations) - set(_AGGREGATIONS)
    if unknown_agg or not aggregations:
        raise ValueError(
            f"cs_randomization_inference: aggregations must be among {_AGGREGATIONS}, "
            f"got {tuple(aggregations)}"
        )
    kinds = tuple(k for k in _AGGREGATIONS if k in aggregations)
    pieces = RIPieces(datas, options, kinds, group)
    computed = pieces.compute(cohorts, loop=path == "loop")
    keys, event, est0, cross0 = computed[0]
    pre_rows = np.array([k[0] == "dynamic" for k in keys]) & (event < 0)
    b0, c0 = est0[:, 0], est0[:, 1]
    v0 = (cross0[:, 0, 0], cross0[:, 0, 1], cross0[:, 1, 1])
    b, c, va, vb, vc = _aligned(keys, computed[1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        t0 = b0 / np.sqrt(v0[0])
        placebo_t = b / np.sqrt(va)
    rows = []
    for j in range(len(keys)):
        invert = bool(np.isfinite(c0[j]) and abs(c0[j] - 1.0) <= 1e-8)
        # Without D measuring the quantity with weight one (a universal base period)
        # θ has no meaning: only the studentised sharp-null p-value.
        cj, vbj, vcj = (c[:, j], vb[:, j], vc[:, j]) if invert else (0 * b[:, j],) * 3
        res = studentized_ri(
            b[:, j],
            cj,
            (va[:, j], vbj, vcj),
            b0[j],
            c0[j] if invert else 0.0,
            (v0[0][j], v0[1][j], v0[2][j]) if invert else (v0[0][j], 0.0, 0.0),
            enumerated=scheme.enumerated,
            level=level,
        )
        lo, hi = (res.ci_low, res.ci_high) if invert else (np.nan, np.nan)
        rows.append((res.p, lo, hi, ci_note(lo, hi) if invert else "no_inversion"))
    p, lo, hi, notes = (list(x) for x in zip(*rows, strict=True))
    table = pd.DataFrame(
        {
            "aggregation": [k[0] for k in keys],
            "term": [k[1] for k in keys],
            "event_time": event,
            "estimate": b0,
            "se": np.sqrt(v0[0]),
            "t": t0,
            "p": p,
            "ci_low": lo,
            "ci_high": hi,
            "ci_note": notes,
            "exposure": np.where(pre_rows, "pre", "post"),
        }
    )
    n_batched = pieces.batched_assignments
    return CSRandomizationResult(
        table=table,
        placebo_y=b,
        placebo_d=c,
        placebo_t=placebo_t,
        p_min=scheme.p_min,
        permutations=len(scheme.placebos),
        enumerated=scheme.enumerated,
        seed=scheme.seed,
        clusters=len(assignment),
        treated_clusters=int(assignment.notna().sum()),
        path="batched" if n_batched == len(cohorts) else "loop" if not n_batched else "mixed",
    )


def _aligned(keys: list[tuple[str, str]], placebos: list[tuple]) -> tuple[np.ndarray, ...]:
    """``b, c, A, B, C`` (M × quantities) of the placebos, on the actual rows.

    Placebo roll-outs reuse the real waves, so rows normally coincide; a row a placebo
    lacks is NaN and counts as extreme (conservative).
    """
    out = np.full((5, len(placebos), len(keys)), np.nan)
    for m, (pkeys, _, est, cross) in enumerate(placebos):
        where = {key: i for i, key in enumerate(pkeys)}
        at = np.array([where.get(key, -1) for key in keys])
        has = at >= 0
        i = at[has]
        out[0, m, has] = est[i, 0]
        out[1, m, has] = est[i, 1]
        out[2, m, has] = cross[i, 0, 0]
        out[3, m, has] = cross[i, 0, 1]
        out[4, m, has] = cross[i, 1, 1]
    return tuple(out)
