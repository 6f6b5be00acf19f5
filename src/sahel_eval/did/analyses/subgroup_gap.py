"""Do the programme's effects differ between two subgroups? RI on the within-district gap.

DESIGN §4: the test of equal effects is randomisation inference on the programme's
effect on the **within-district gap** between the groups. For each district d,

    Δgap_d = (ȳ_first,post − ȳ_second,post) − (ȳ_first,base − ȳ_second,base)

(survey-weighted means of the district's respondents). The statistic is the
difference between the treated and the comparison districts' mean Δgap, studentised
with each arm's own variance (Welch); each district weighs the same, as in the
assignment being permuted. Under the sharp null that the programme moved no
district's gap, every assignment of the treated districts was as likely as the actual
one, so the permutation distribution is exact; the interval inverts the test of a
constant shift of the treated districts' gaps
(:func:`~sahel_eval.did.inference.studentized.studentized_ri`), at its attained level
(Mopti: 28 assignments, p_min = 1/28, 96.4 %).

A district enters only when its four cells (two groups × two rounds) each have at least
``reporting.small_cell_k`` respondents with the outcome answered; the districts left out
are listed. One treated district (Bamako), or a p_min above the test level, gives
``not_informative``: the gap estimate is shown, no p and no interval. The verdict is
``difference_shown`` when the interval excludes 0 and ``not_shown`` otherwise — never
"no difference": with 2 treated cercles only a large gap can be told apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.assignment import not_informative
from sahel_eval.did.inference.randomization import placebo_assignments
from sahel_eval.did.inference.studentized import ci_note, studentized_ri, variance_pieces

__all__ = ["GAP_VERDICTS", "district_gaps", "gap_test"]

GAP_VERDICTS = ("not_informative", "difference_shown", "not_shown")


def district_gaps(
    frame: pd.DataFrame, outcome: str, weight: str, rounds: tuple[Any, Any], k: int
) -> tuple[pd.DataFrame, list[str]]:
    """Δgap and treatment per usable district, and the districts left out (small cells).

    ``frame`` has ``_group`` (0 first, 1 second, NaN neither), ``district``,
    ``treated``, ``year`` and the outcome and weight columns.
    """
    baseline, year = rounds
    keep = frame["_group"].notna() & frame[outcome].notna() & frame["year"].isin(rounds)
    f = frame.loc[keep, ["district", "treated", "year", "_group", outcome, weight]]
    f = f.assign(_wy=f[outcome] * f[weight], _post=(f["year"] == year).astype(int))
    cells = f.groupby(["district", "_post", "_group"], sort=True).agg(
        n=(outcome, "size"), wy=("_wy", "sum"), w=(weight, "sum")
    )
    cells["mean"] = cells["wy"] / cells["w"]
    districts = sorted(f["district"].unique())
    out, dropped = [], []
    for d in districts:
        c = cells.loc[d] if d in cells.index.get_level_values(0) else None
        full = c is not None and len(c) == 4 and int(c["n"].min()) >= k
        if not full:
            dropped.append(str(d))
            continue
        m = c["mean"]
        gap = (m[(1, 0.0)] - m[(1, 1.0)]) - (m[(0, 0.0)] - m[(0, 1.0)])
        treated = int(f.loc[f["district"] == d, "treated"].max())
        out.append({"district": d, "gap_change": float(gap), "treated": treated})
    return pd.DataFrame(out, columns=["district", "gap_change", "treated"]), dropped


def _welch_pieces(x: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """Difference in means (treated − comparison) and the Welch scores of ``x``."""
    est = float(x[t].mean() - x[~t].mean())
    scores = np.zeros(len(x))
    for side in (t, ~t):
        n = int(side.sum())
        scores[side] = (x[side] - x[side].mean()) / np.sqrt(n * (n - 1))
    return est, scores


def gap_test(
    frame: pd.DataFrame,
    outcome: str,
    weight: str,
    rounds: tuple[Any, Any],
    k: int,
    settings: AnalysisSettings,
) -> dict[str, Any]:
    """The equality test of one outcome, subgroup and round (see the module docstring)."""
    gaps, dropped = district_gaps(frame, outcome, weight, rounds, k)
    treated = int(gaps["treated"].sum())
    comparison = len(gaps) - treated
    out: dict[str, Any] = {
        "baseline": int(rounds[0]),
        "statistic": "welch_t_difference_in_mean_gap_change",
        "districts": len(gaps),
        "treated_districts": treated,
        "districts_dropped": dropped,
        "estimate": None,
        "p": None,
        "ci_low": None,
        "ci_high": None,
        "ci_note": None,
        "p_min": None,
        "confidence_attained": None,
        "permutations": None,
        "enumerated": None,
        "seed": None,
        "verdict": "not_informative",
    }
    if treated == 0 or comparison == 0:
        out["reason"] = "no_treated_or_no_comparison_district"
        return out
    x = gaps["gap_change"].to_numpy(dtype=float)
    t_actual = gaps["treated"].to_numpy(dtype=bool)
    out["estimate"] = float(x[t_actual].mean() - x[~t_actual].mean())
    if treated < 2 or comparison < 2:
        # Welch needs two districts per arm; one treated district is not informative.
        out["reason"] = "one_treated_district" if treated < 2 else "one_comparison_district"
        return out
    scheme = placebo_assignments(
        pd.Series(np.where(t_actual, 1.0, np.nan), index=gaps["district"]),
        draws=settings.wild_draws,
        seed=settings.seed_randomisation,
    )
    d = t_actual.astype(float)
    b, c, sy, sd = [], [], [], []
    for placebo in scheme.placebos:
        tm = placebo.notna().to_numpy()
        bm, sym = _welch_pieces(x, tm)
        cm, sdm = _welch_pieces(d, tm)
        b.append(bm)
        c.append(cm)
        sy.append(sym)
        sd.append(sdm)
    b0, sy0 = _welch_pieces(x, t_actual)
    c0, sd0 = _welch_pieces(d, t_actual)
    var0 = tuple(float(v[0]) for v in variance_pieces(sy0, sd0))
    res = studentized_ri(
        np.array(b),
        np.array(c),
        variance_pieces(np.array(sy), np.array(sd)),
        b0,
        c0,
        var0,
        enumerated=scheme.enumerated,
        level=settings.level,
    )
    out.update(
        p_min=res.p_min,
        permutations=len(scheme.placebos),
        enumerated=scheme.enumerated,
        seed=scheme.seed,
    )
    if not_informative(treated, res.p_min, settings.level):
        out["reason"] = "p_min_above_test_level"
        return out
    lo, hi = res.ci_low, res.ci_high
    shown = (np.isfinite(lo) and lo > 0) or (np.isfinite(hi) and hi < 0)
    out.update(
        p=res.p,
        ci_low=lo,
        ci_high=hi,
        ci_note=ci_note(lo, hi),
        confidence_attained=res.confidence_attained,
        verdict="difference_shown" if shown else "not_shown",
    )
    return out
