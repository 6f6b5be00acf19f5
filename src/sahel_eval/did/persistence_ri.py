"""Assignment-level persistence by the Conley–Taber idea (DESIGN §6.1, §8).

Persistence ``ρ = after / before`` (mean calendar-time ATT over the months after a
programme's end ÷ over its last months) is tested as ``H0: after − ρ·before = 0``. That
null is not sharp (it does not fix the treated districts' untreated outcomes), so a
plain permutation of the treated districts is not valid. Conley & Taber (2011,
"Inference with 'difference in differences' with a small number of policy changes",
*Review of Economics and Statistics* 93:113) take the distribution of the treated
districts' estimation error from placebo assignments among the **control districts
only**: every choice of G1 of the G0 control districts as placebo treated (each taking
a real treated district's roll-out, :func:`~sahel_eval.did.assignment.placebo_unit_starts`),
the remaining controls as comparison, the actual treated districts left out. Under H0
and exchangeable districts, ``ψ_ρ = after − ρ·before`` of the actual assignment is one
draw among the C(G0, G1) placebo values of ``after_m − ρ·before_m`` (no programme
there, so pure noise), and

    p(ρ) = (1 + #{m : |ψ_ρ,m| ≥ |ψ_ρ|}) / (M + 1),

whose smallest value is ``1/(M + 1)`` (Mopti: 2 treated cercles, 6 controls,
C(6, 2) + 1 = 16 values, p_min = 1/16 > 5 %: ``not_informative``). The confidence set
is ``{ρ : p(ρ) > α}``, found exactly: each comparison changes at the roots of
``(a_m − ρ b_m)² = (a − ρ b)²``, so the set is a union of pieces between those roots,
possibly unbounded or the whole line; it is reported as a set, never as one number.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.assignment import placebo_unit_starts, unit_rollout
from sahel_eval.did.cs.data import _prepare
from sahel_eval.did.cs.randomization import _D_POST, _D_PRE, _exposures
from sahel_eval.did.cs.ri_pieces import RIPieces
from sahel_eval.did.inference import TIE
from sahel_eval.did.inference.studentized import attained_level, rejection_alpha
from sahel_eval.did.verdicts import not_informative, persistence_verdict

__all__ = ["accepted_set", "conley_taber_persistence", "ct_pvalue"]

_GROUP = "_ct_group"


def ct_pvalue(rho: float, a: float, b: float, a_m: np.ndarray, b_m: np.ndarray) -> float:
    """p(ρ) with the actual value counted among the M + 1 (placebo NaN = extreme)."""
    stat = abs(a - rho * b)
    placebo = np.abs(a_m - rho * b_m)
    hits = int(np.sum(~np.isfinite(placebo) | (placebo >= stat * (1 - TIE))))
    return (1 + hits) / (len(a_m) + 1)


def accepted_set(
    a: float, b: float, a_m: np.ndarray, b_m: np.ndarray, alpha: float
) -> list[tuple[float, float]]:
    """``{ρ : p(ρ) > α}`` as sorted closed pieces (±inf for unbounded ends).

    p(ρ) is a step function changing only where ``|a_m − ρ b_m| = |a − ρ b|``, i.e. at
    ``(a_m − a)/(b_m − b)`` and ``(a_m + a)/(b_m + b)``; it is evaluated at those
    roots, between them and beyond them.
    """
    roots: list[float] = []
    for am, bm in zip(a_m, b_m, strict=True):
        for num, den in ((am - a, bm - b), (am + a, bm + b)):
            if np.isfinite(num) and np.isfinite(den) and den != 0:
                roots.append(num / den)
    cuts = np.unique(np.asarray(roots, float))
    if cuts.size == 0:
        whole = ct_pvalue(0.0, a, b, a_m, b_m) > alpha
        return [(-np.inf, np.inf)] if whole else []
    gaps = np.diff(cuts)
    step = 1.0 if cuts.size == 1 else float(gaps.max())
    # Points in order: beyond the left end, each root, each midpoint, beyond the right.
    points = [cuts[0] - step]
    for i, c in enumerate(cuts):
        points.append(float(c))
        points.append(float(c + gaps[i] / 2) if i < cuts.size - 1 else float(c + step))
    ok = [ct_pvalue(r, a, b, a_m, b_m) > alpha for r in points]
    pieces: list[tuple[float, float]] = []
    start: float | None = None
    for i, (r, keep) in enumerate(zip(points, ok, strict=True)):
        if keep and start is None:
            start = -np.inf if i == 0 else (r if i % 2 == 1 else float(points[i - 1]))
        if not keep and start is not None:
            # Odd positions are roots: a rejected root closes the piece at itself (its
            # supremum), a rejected region at the root before it.
            end = points[i] if i % 2 == 1 else points[i - 1]
            pieces.append((float(start), float(end)))
            start = None
    if start is not None:
        pieces.append((float(start), np.inf))
    return pieces


def _placebo_choices(
    controls: Sequence[Any], treated: int, max_permutations: int, draws: int, seed: int | None
) -> tuple[list[tuple[Any, ...]], bool]:
    total = math.comb(len(controls), treated)
    if total <= max_permutations:
        return list(itertools.combinations(controls, treated)), True
    rng = np.random.default_rng(seed)
    picks = [tuple(sorted(rng.choice(controls, treated, replace=False))) for _ in range(draws)]
    return picks, False


def conley_taber_persistence(
    panel: pd.DataFrame,
    variable: str,
    *,
    unit: str,
    time: str,
    group: str,
    cluster: str,
    after_terms: Sequence[str],
    during_terms: Sequence[str],
    actual_after: float,
    actual_during: float,
    level: float,
    max_permutations: int = 10_000,
    draws: int = 9999,
    seed: int | None = None,
    **att_gt_options: Any,
) -> dict[str, Any]:
    """Conley–Taber test of ``after − ρ·before = 0`` and its confidence set for ρ.

    Parameters
    ----------
    panel
        Facility panel as for :func:`~sahel_eval.did.att_gt` (``group`` = first exposed
        period, 0 never; ``cluster`` the assignment level, constant within unit).
    variable
        Outcome column.
    after_terms, during_terms
        Calendar-aggregation term labels (``ATT(t=…)``) averaged into each window.
    actual_after, actual_during
        The actual fit's window means (the same estimator on the whole panel).
    level
        Confidence level.
    max_permutations, draws, seed
        Enumerate all C(G0, G1) placebo choices up to ``max_permutations``, else
        ``draws`` seeded random ones.
    **att_gt_options
        Point-estimate options of ``att_gt`` (``control``, ``method``, ``unbalanced``).

    Returns
    -------
    dict
        ``estimate`` (actual ratio), ``clusters``, ``treated_clusters``,
        ``control_clusters``, ``permutations`` (M + 1 values), ``enumerated``,
        ``p_min``, ``verdict`` and, when informative, ``p_vs_0``, ``p_vs_1``,
        ``ci_set`` (pieces, ±inf for rays), ``ci_low``/``ci_high`` (its hull),
        ``confidence_attained``.
    """
    unit_start, unit_cluster, assignment = unit_rollout(panel, unit, group, cluster)
    controls = sorted(assignment.index[assignment.isna()])
    g1 = int(assignment.notna().sum())
    out: dict[str, Any] = {
        "estimate": actual_after / actual_during if actual_during != 0 else None,
        "clusters": int(len(assignment)),
        "treated_clusters": g1,
        "control_clusters": len(controls),
    }
    if g1 == 0 or len(controls) <= g1:
        # No placebo assignment leaves a comparison district: nothing to compare with.
        return {**out, "permutations": 1, "enumerated": True, "p_min": 1.0,
                "verdict": "not_informative"}  # fmt: skip
    # The control districts only, every unit prepared once; per placebo choice only the
    # cohorts change (the batched pieces of the randomisation inference, point estimates).
    rows = panel.loc[panel[cluster].isin(controls), [variable, unit, time, cluster]]
    frame = _exposures(rows.assign(**{_GROUP: 0.0}), variable, time, _GROUP)
    unbalanced = att_gt_options.get("unbalanced", "repeated_cross_section")
    datas = _prepare(
        frame, (variable, _D_POST, _D_PRE), unit, time, _GROUP, (), True, None, None, unbalanced
    )[0]
    options = (
        att_gt_options.get("control", "never_treated"),
        att_gt_options.get("method", "dr"),
        att_gt_options.get("base_period", "varying"),
        int(att_gt_options.get("anticipation", 0)),
    )
    ids = pd.Index(datas[0].unit_ids)
    choices, enumerated = _placebo_choices(controls, g1, max_permutations, draws, seed)
    cohorts = []
    for chosen in choices:
        placebo = pd.Series(np.nan, index=assignment.index)
        placebo.loc[list(chosen)] = 1.0
        starts = placebo_unit_starts(unit_start, unit_cluster, placebo)
        cohorts.append(starts.reindex(ids).fillna(0.0).to_numpy())
    pieces = RIPieces(datas, options, ("calendar",), _GROUP)
    computed = pieces.compute(np.stack(cohorts), cross=False)
    a_m, b_m = np.full(len(choices), np.nan), np.full(len(choices), np.nan)
    for i, (keys, _, est, _) in enumerate(computed):
        cal = pd.Series(est[:, 0], index=[term for _, term in keys])
        # A window term a placebo roll-out lacks leaves NaN: counted as extreme.
        a_m[i] = cal.reindex(list(after_terms)).mean(skipna=False)
        b_m[i] = cal.reindex(list(during_terms)).mean(skipna=False)
    m1 = len(choices) + 1
    p_min = 1.0 / m1
    out.update(permutations=m1, enumerated=enumerated, p_min=p_min)
    if not_informative(g1, p_min, level):
        return {**out, "verdict": "not_informative"}
    alpha = rejection_alpha(level)
    pieces = accepted_set(actual_after, actual_during, a_m, b_m, alpha)
    out.update(
        p_vs_0=ct_pvalue(0.0, actual_after, actual_during, a_m, b_m),
        p_vs_1=ct_pvalue(1.0, actual_after, actual_during, a_m, b_m),
        ci_set=[list(piece) for piece in pieces],
        ci_low=pieces[0][0] if pieces else None,
        ci_high=pieces[-1][1] if pieces else None,
        confidence_attained=attained_level(level, m1, enumerated=True),
        verdict=persistence_verdict(pieces),
    )
    return out
