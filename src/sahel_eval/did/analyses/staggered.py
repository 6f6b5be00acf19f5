"""Staggered roll-out on a facility panel (I3S, Mopti): Callaway–Sant'Anna, RI headline."""

from __future__ import annotations

from typing import Any

import numpy as np

from sahel_eval.did.analyses.assignment_fit import AssignmentRI, assignment_ri_fit
from sahel_eval.did.analyses.facility import _cs_fit, _twfe_fits
from sahel_eval.did.analyses.fits import _Fit, _Outcome, _ri_facts
from sahel_eval.did.analyses.imputation_fits import imputation_fits
from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.cs.randomization import CSRandomizationResult, cs_randomization_inference
from sahel_eval.did.inference.studentized import attained_level
from sahel_eval.did.results import WarningCode
from sahel_eval.did.verdicts import pretest_verdict


def _cs_randomization_fit(
    o: _Outcome, district: _Fit, aggregations: tuple[str, ...] | None = None
) -> _Fit:
    """The headline: randomisation inference over districts for every aggregation.

    Rows repeat the facility fit's aggregated point estimates (same estimator, same
    sample) with the RI p-value and test-inversion CI; no SE or band exists for them.
    The pre-test is RI on the largest |t| of ATT(e) over the pre-periods of the window.
    ``aggregations`` keeps only those rows (robustness rows: ``("simple",)``), which
    cuts the RI's cost; the pre-test needs ``dynamic`` and is left out without it.
    """
    settings = o.settings
    ri = cs_randomization_inference(
        o.data,
        o.variable,
        "facility_id",
        "t",
        "group",
        "district",
        control="never_treated",
        method="dr",
        unbalanced="pairwise",
        level=settings.level,
        draws=settings.wild_draws,
        seed=settings.seed_randomisation,
        **({} if aggregations is None else {"aggregations": aggregations}),
    )
    kept = district.rows["aggregation"] != "att_gt"
    if aggregations is not None:
        kept &= district.rows["aggregation"].isin(aggregations)
    base = district.rows[kept].drop(columns=["p", "ci_low", "ci_high", "p_min", "ci_note"])
    ri_cols = ri.table[["aggregation", "term", "p", "ci_low", "ci_high", "ci_note"]]
    rows = base.merge(ri_cols, on=["aggregation", "term"], how="left", validate="one_to_one")
    if rows["p"].isna().any():
        raise AssertionError("randomisation inference lost aggregated terms")
    rows = rows.assign(band_low=np.nan, band_high=np.nan)
    label = AssignmentRI(
        fit_id=f"{o.outcome}:att_gt:district_ri",
        clusters=ri.clusters,
        treated_clusters=ri.treated_clusters,
        p_min=ri.p_min,
        confidence_attained=attained_level(
            settings.level, ri.permutations, enumerated=ri.enumerated
        ),
        permutations=ri.permutations,
        seed=ri.seed,
        headline=True,
    )
    n_unbounded = int(rows["ci_note"].notna().sum())
    unbounded = [WarningCode("ri_ci_unbounded", {"n_terms": n_unbounded})] if n_unbounded else []
    return assignment_ri_fit(
        rows,
        district.facts,
        label,
        settings.level,
        randomization=_ri_facts(
            ri.permutations,
            ri.enumerated,
            statistic="studentized_t_facility_influence_function",
            path=ri.path,
        ),
        extra_warnings=unbounded,
        pretest=None if aggregations is not None else _ri_pretest(ri, settings),
    )


def _ri_pretest(ri: CSRandomizationResult, settings: AnalysisSettings) -> dict[str, Any]:
    """Assignment-level pre-test: RI on max |t| of ATT(e) over e in [−leads, −1].

    The statistic is the largest absolute studentised pre-period event-time estimate
    (varying base period: month-on-month placebo effects, se clustered by facility);
    its distribution over the placebo assignments gives p (the actual assignment
    included when enumerated).
    """
    tab = ri.table
    pre = (
        (tab["aggregation"] == "dynamic")
        & (tab["event_time"] < 0)
        & (tab["event_time"] >= -settings.leads)
    ).to_numpy()
    base = {"test": "ri_max_abs_t", "level": "assignment", "conditional": False}
    if not pre.any():
        return {**base, "p": None, "verdict": "not_testable", "reason": "no_pre_periods"}
    stat0, p = ri.max_abs_t_pretest(pre)
    verdict = pretest_verdict(p, ri.p_min, settings.level)
    out = {**base, "stat": stat0, "df": int(pre.sum()), "p": p, "p_min": ri.p_min}
    out.update(permutations=ri.permutations, verdict=verdict)
    if verdict == "not_testable":
        out.update(reason="p_min_above_level", stat=None, p=None)
        del out["stat"]
    return out


def _staggered(o: _Outcome, end_t: int | None) -> tuple[list[_Fit], list[dict[str, Any]]]:
    # No district-clustered multiplier bootstrap or CRV1 fit: with fewer than 5 treated
    # districts neither is valid (DESIGN §6.1); the headline is RI over districts and
    # the facility-clustered fit sits beside it, conditional on no district shocks.
    # The imputation estimator sits beside CS on the same horizons (DESIGN §6.2).
    facility, facility_rec = _cs_fit(
        o, cluster="facility_id", label="facility", bootstrap=None, end_t=end_t
    )
    headline = _cs_randomization_fit(o, facility)
    imputed = imputation_fits(o, headline, post_horizons(facility))
    return [headline, facility, *imputed, *_twfe_fits(o)], facility_rec


def post_horizons(cs: _Fit) -> list[int]:
    """The post-period event times of a CS fit's dynamic aggregation (imputation's)."""
    rows = cs.rows
    e = rows.loc[(rows["aggregation"] == "dynamic") & (rows["event_time"] >= 0), "event_time"]
    return sorted(int(x) for x in e.unique())
