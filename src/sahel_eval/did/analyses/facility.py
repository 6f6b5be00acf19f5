"""What both facility-panel designs share: the panel, its outcomes and the fits beside.

The Callaway–Sant'Anna fit at one cluster level (with its persistence record), the
static TWFE fits, and the loop over outcomes (:func:`_facility`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from sahel_eval.did.analyses.assignment_fit import AssignmentRI, assignment_ri_fit
from sahel_eval.did.analyses.fits import (
    _base_rows,
    _facts,
    _Fit,
    _Label,
    _Outcome,
    _pretest_warning,
    _ri_facts,
)
from sahel_eval.did.analyses.persistence_ct import conley_taber_record
from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.assignment import (
    assignment_warnings,
    not_informative_warning,
    wild_allowed,
)
from sahel_eval.did.cs.aggregate import AggregateResult
from sahel_eval.did.cs.model import att_gt
from sahel_eval.did.inference.studentized import ci_note
from sahel_eval.did.persistence import persistence_ratio
from sahel_eval.did.results import WarningCode
from sahel_eval.did.twfe import twfe
from sahel_eval.did.twfe_ri import twfe_assignment_ri

#: ``att_gt`` options of every facility-panel fit (columns and estimator choices).
FACILITY_ATT_GT: dict[str, str] = {
    "unit": "facility_id",
    "time": "t",
    "group": "group",
    "control": "never_treated",
    "method": "dr",
    # Facility panels miss ≈ 8 % of months (closures, insecurity): each 2×2 uses the
    # facilities reported in both of its months, so a month's ATT is not moved by
    # which facilities happened to report (issue 5 diagnosis, tests/did).
    "unbalanced": "pairwise",
}


def _panel(
    data: pd.DataFrame | Mapping[str, pd.DataFrame], spec: Mapping[str, Any]
) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    area = spec["area"]
    if area in data:
        return data[area]
    raise ValueError(f"analysis {spec['name']!r}: no panel for area {area!r}")


def _variable(
    panel: pd.DataFrame, outcome: str, spec: Mapping[str, Any], settings: AnalysisSettings
) -> str:
    """Column analysed for an outcome: an indicator's rate per 1,000 (the scale of the
    truth), or a quality-of-care ratio's own column (``settings.quality_ratios``).

    ``anc1`` and ``anc1_rate`` (config/README.md) both mean ``anc1_per_1000``.
    """
    base = outcome.removesuffix("_rate").removesuffix("_per_1000")
    column = outcome if outcome in settings.quality_ratios else f"{base}_per_1000"
    if column not in panel.columns:
        raise ValueError(
            f"analysis {spec['name']!r}: outcome {outcome!r} needs column {column!r} in "
            f"panel_{spec['area']} (a quarterly indicator has none: a panel is monthly, and "
            f"`make check` names its rows); the panel has {sorted(panel.columns)}"
        )
    return column


def _treat_column(panel: pd.DataFrame) -> pd.Series:
    """D_it = 1 from the first exposed month on (treatment is absorbing, DESIGN §6)."""
    return ((panel["group"] > 0) & (panel["t"] >= panel["group"])).astype(float)


def _first_treated_t(panel: pd.DataFrame) -> int:
    return int(panel.loc[panel["group"] > 0, "group"].min())


def _cs_fit(
    o: _Outcome,
    *,
    cluster: str,
    label: str,
    bootstrap: int | None,
    end_t: int | None,
) -> tuple[_Fit, list[dict[str, Any]]]:
    """att_gt plus its four aggregations for one cluster level (never the headline).

    Returns the fit and, when the programme has an end (``end_t``), the persistence
    record from its calendar aggregation (empty list otherwise).
    """
    settings = o.settings
    res = att_gt(
        o.data,
        o.variable,
        **FACILITY_ATT_GT,
        cluster=cluster,
        bootstrap=bootstrap,
        seed=settings.seed_bootstrap if bootstrap else None,
        level=settings.level,
    )
    inference = "multiplier_bootstrap" if bootstrap else "analytic"
    g, treated = res.info.get("clusters"), res.info.get("treated_clusters")
    extra = [
        *assignment_warnings(g, treated),
        *_pretest_warning(res.info.get("pretest"), settings.level),
    ]
    informative = not (treated is not None and treated <= 1)
    if not informative:
        extra.append(not_informative_warning(treated, None, settings.level, inference))
    tag = _Label(
        fit=f"{o.outcome}:att_gt:{label}",
        estimator="callaway_santanna",
        inference=inference,
        cluster=cluster,
        headline=False,
    )
    rows = [_base_rows(o, res, res.table, tag, "att_gt")]
    aggs: dict[str, AggregateResult] = {}
    for kind in ("simple", "group", "calendar", "dynamic"):
        aggs[kind] = res.aggregate(kind)
        rows.append(_base_rows(o, res, aggs[kind].table, tag, kind))
    frame = pd.concat(rows, ignore_index=True)
    frame["informative"] = informative
    facts = _facts(o, res, tag, extra_warnings=extra)
    persistence = []
    if end_t is not None:
        rec = _persistence(o, aggs["calendar"], tag.fit, end_t)
        persistence = [conley_taber_record(o, aggs["calendar"], rec, FACILITY_ATT_GT), rec]
    return _Fit(frame, facts), persistence


def _twfe_fit(o: _Outcome, *, cluster: str, label: str, inference: str) -> _Fit:
    data = o.data.assign(_treat=_treat_column(o.data))
    res = twfe(
        data,
        o.variable,
        "facility_id",
        "t",
        "_treat",
        cluster=cluster,
        inference=inference,
        level=o.settings.level,
        seed=o.settings.seed_bootstrap,
        bootstrap=o.settings.wild_draws,
    )
    res.table["term"] = "treated"
    tag = _Label(f"{o.outcome}:twfe:{label}", "twfe", inference, cluster, headline=False)
    # Biased under staggered, heterogeneous effects: shown beside, never instead.
    extra = [WarningCode("twfe_reference_only")] if o.spec["design"] == "staggered" else []
    return _Fit(
        _base_rows(o, res, res.table, tag, "static"), _facts(o, res, tag, extra_warnings=extra)
    )


def _twfe_ri_fit(o: _Outcome, facility: _Fit) -> _Fit:
    """Static TWFE at the assignment level: studentised RI over treated districts.

    The point estimate is the facility fit's (same model, same sample); p and the
    test-inversion CI come from the permutations.  Headline of a single-start design;
    beside Callaway–Sant'Anna (reference only) under a staggered roll-out.
    """
    settings = o.settings
    ri = twfe_assignment_ri(
        o.data,
        o.variable,
        "facility_id",
        "t",
        "group",
        "district",
        level=settings.level,
        draws=settings.wild_draws,
        seed=settings.seed_randomisation,
    )
    r = ri.result
    rows = facility.rows.assign(
        p=r.p, ci_low=r.ci_low, ci_high=r.ci_high, ci_note=ci_note(r.ci_low, r.ci_high)
    )
    label = AssignmentRI(
        fit_id=f"{o.outcome}:twfe:district_ri",
        clusters=ri.clusters,
        treated_clusters=ri.treated_clusters,
        p_min=r.p_min,
        confidence_attained=r.confidence_attained,
        permutations=ri.permutations,
        seed=ri.seed,
        headline=o.spec["design"] == "single_start",
    )
    staggered = o.spec["design"] == "staggered"
    return assignment_ri_fit(
        rows,
        facility.facts,
        label,
        settings.level,
        randomization=_ri_facts(ri.permutations, ri.enumerated),
        extra_warnings=[WarningCode("twfe_reference_only")] if staggered else [],
        pretest=None,
    )


def _twfe_fits(o: _Outcome) -> list[_Fit]:
    """The static TWFE: studentised RI over districts, and CRV1 by facility (conditional).

    No district-clustered CRV1 or wild bootstrap: with fewer than 5 treated districts
    neither is valid (DESIGN §6.1).
    """
    facility = _twfe_fit(o, cluster="facility_id", label="facility", inference="cluster")
    treated = int(o.data.loc[o.data["group"] > 0, "district"].nunique())
    controls = int(o.data["district"].nunique()) - treated
    if not wild_allowed(treated, controls):
        return [_twfe_ri_fit(o, facility), facility]
    wild = _twfe_fit(o, cluster="district", label="district", inference="wild")
    wild.rows["headline"] = wild.facts["headline"] = o.spec["design"] == "single_start"
    return [wild, facility]


def _persistence(o: _Outcome, cal: AggregateResult, fit: str, end_t: int) -> dict[str, Any]:
    """:func:`~sahel_eval.did.persistence.persistence_ratio` with its windows as months."""
    panel = o.data
    rec = persistence_ratio(
        cal,
        end_t=end_t,
        first_t=_first_treated_t(panel),
        last_t=int(panel["t"].max()),
        months=o.settings.persistence_months,
        level=o.settings.level,
    )
    # Month labels travel with the record so that readers of the JSON (the
    # sustainability table, the reports) never recompute the windows.
    month = panel.drop_duplicates("t").set_index("t")["month"].astype(str)
    labels = {
        "end_month": month.get(end_t),
        "during_from": month.get(rec["during_t"][0]) if rec["during_t"] else None,
        "during_to": month.get(rec["during_t"][1]) if rec["during_t"] else None,
        "after_from": month.get(rec["after_t"][0]) if rec["after_t"] else None,
        "after_to": month.get(rec["after_t"][1]) if rec["after_t"] else None,
    }
    return {"outcome": o.outcome, "fit": fit, **rec, **labels, "n_units": cal.info["n_units"]}


def _end_t(panel: pd.DataFrame) -> int | None:
    ends = panel.loc[panel["group"] > 0, "end_t"]
    ends = ends[ends > 0]
    return int(ends.max()) if len(ends) else None


def _facility(
    spec: Mapping[str, Any],
    panel: pd.DataFrame,
    settings: AnalysisSettings,
    design: Callable[[_Outcome, int | None], tuple[list[_Fit], list[dict[str, Any]]]],
) -> tuple[list[_Fit], list[dict[str, Any]]]:
    """The fits and persistence records of a facility design, outcome by outcome."""
    fits: list[_Fit] = []
    persistence: list[dict[str, Any]] = []
    end_t = _end_t(panel)
    for outcome in spec["outcomes"]:
        o = _Outcome(spec, panel, outcome, _variable(panel, outcome, spec, settings), settings)
        outcome_fits, records = design(o, end_t)
        fits += outcome_fits
        persistence += records
    return fits, persistence
