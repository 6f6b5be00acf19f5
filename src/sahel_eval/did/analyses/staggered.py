"""Staggered roll-out on a facility panel (I3S, Mopti): Callaway–Sant'Anna, RI headline."""

from __future__ import annotations

from typing import Any

import numpy as np

from sahel_eval.did.analyses.document import ESTIMATE_COLUMNS
from sahel_eval.did.analyses.facility import _cs_fit, _twfe_fits
from sahel_eval.did.analyses.fits import _Fit, _Outcome
from sahel_eval.did.assignment import not_informative, not_informative_warning
from sahel_eval.did.cs.randomization import cs_randomization_inference
from sahel_eval.did.results import WarningCode


def _cs_randomization_fit(o: _Outcome, district: _Fit) -> _Fit:
    """The headline: randomisation inference over districts for every aggregation.

    Rows repeat the district fit's aggregated point estimates (same estimator, same
    sample) with the RI p-value and test-inversion CI; no SE or band exists for them.
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
    )
    base = district.rows[district.rows["aggregation"] != "att_gt"].drop(
        columns=["p", "ci_low", "ci_high", "p_min", "ci_note"]
    )
    ri_cols = ri.table[["aggregation", "term", "p", "ci_low", "ci_high", "ci_note"]]
    rows = base.merge(ri_cols, on=["aggregation", "term"], how="left", validate="one_to_one")
    if rows["p"].isna().any():
        raise AssertionError("randomisation inference lost aggregated terms")
    informative = not not_informative(ri.treated_clusters, ri.p_min, settings.level)
    fit_id = f"{o.outcome}:att_gt:district_ri"
    rows = rows.assign(
        fit=fit_id,
        inference="randomization",
        headline=True,
        informative=informative,
        p_min=ri.p_min,
        se=np.nan,
        band_low=np.nan,
        band_high=np.nan,
    )
    if not informative:
        rows[["ci_low", "ci_high"]] = np.nan
    facts = dict(district.facts)
    warns = [w for w in facts["warnings"] if w["code"] != "not_informative"]
    if not informative:
        warns.append(
            not_informative_warning(
                ri.treated_clusters, ri.p_min, settings.level, "randomization"
            ).to_dict()
        )
    n_unbounded = int(rows["ci_note"].notna().sum())
    if n_unbounded:
        warns.append(WarningCode("ri_ci_unbounded", {"n_terms": n_unbounded}).to_dict())
    facts.update(
        fit=fit_id,
        inference="randomization",
        headline=True,
        seed=ri.seed,
        p_min=ri.p_min,
        draws=ri.permutations,
        warnings=warns,
        randomization={
            "permutations": ri.permutations,
            "enumerated": ri.enumerated,
            "permuted": "treated_districts",
            "rollout_rule": ri.rule,
            "ci": "test_inversion_constant_additive_effect",
            "statistic": "abs_estimate_minus_theta",
        },
    )
    return _Fit(rows.loc[:, list(ESTIMATE_COLUMNS)], facts)


def _staggered(o: _Outcome, end_t: int | None) -> tuple[list[_Fit], list[dict[str, Any]]]:
    district, district_rec = _cs_fit(
        o, cluster="district", label="district", bootstrap=o.settings.bootstrap_draws, end_t=end_t
    )
    headline = _cs_randomization_fit(o, district)
    facility, facility_rec = _cs_fit(
        o, cluster="facility_id", label="facility", bootstrap=None, end_t=end_t
    )
    return [district, headline, facility, *_twfe_fits(o)], [*district_rec, *facility_rec]
