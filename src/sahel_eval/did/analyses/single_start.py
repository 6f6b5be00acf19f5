"""One start date on a facility panel (Djantoli, Bamako): event study, RI headline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from sahel_eval.did.analyses.facility import _cs_fit, _first_treated_t, _twfe_fits
from sahel_eval.did.analyses.fits import (
    _base_rows,
    _facts,
    _Fit,
    _Label,
    _Outcome,
    _pretest_warning,
)
from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.analyses.synthetic import synthetic_fits
from sahel_eval.did.event_study import event_study
from sahel_eval.did.results import EstimateResult, WarningCode
from sahel_eval.did.verdicts import not_informative


def facility_event_study(
    panel: pd.DataFrame,
    variable: str,
    settings: AnalysisSettings,
    *,
    cluster: str,
    inference: str,
) -> tuple[EstimateResult, int, int]:
    """The TWFE event study of a single-start facility panel, with its leads and lags.

    The window of ``settings`` is cut to the months the panel has before and after the
    first start: an event-time bin without observations is an error.
    """
    g_min = _first_treated_t(panel)
    leads = min(settings.leads, g_min - int(panel["t"].min()))
    lags = min(settings.lags, int(panel["t"].max()) - g_min)
    res = event_study(
        panel,
        variable,
        "facility_id",
        "t",
        "group",
        leads=leads,
        lags=lags,
        ref=-1,
        cluster=cluster,
        inference=inference,
        level=settings.level,
        seed=settings.seed_randomisation
        if inference == "randomization"
        else settings.seed_bootstrap,
        bootstrap=settings.wild_draws,
    )
    return res, leads, lags


def _event_study_fit(
    o: _Outcome, *, cluster: str, label: str, inference: str, headline: bool
) -> _Fit:
    settings = o.settings
    res, leads, lags = facility_event_study(
        o.data, o.variable, settings, cluster=cluster, inference=inference
    )
    tag = _Label(f"{o.outcome}:event_study:{label}", "event_study", inference, cluster, headline)
    rows = _base_rows(o, res, res.table.copy(), tag, "event_time")
    g, treated = res.info["clusters"], res.info["treated_clusters"]
    note = None
    extra = list(_pretest_warning(res.info.get("pretest"), settings.level))
    if not headline and treated is not None and g is not None:
        # DESIGN §6: a CI below the assignment level ignores shocks common to a
        # treated district; it is shown, and said to be conditional on their absence.
        extra.append(WarningCode("conditional_on_no_cluster_shocks", {"cluster": cluster}))
        note = "conditional_on_no_cluster_shocks"
    if headline:
        # The district-clustered Wald has rank ≤ G − 1 and is CRV1 with few treated
        # districts: the assignment-level pre-test is RI on a joint statistic, which
        # one treated district (or p_min above the level) cannot make reject.
        res.info["pretest"] = _ri_pretest_unavailable(treated, res.info.get("p_min"), settings)
        extra = []
    facts = _facts(o, res, tag, extra_warnings=extra, note=note)
    facts.update(leads=leads, lags=lags, ref=-1)
    # The facility-clustered fit is the sensitivity rows' input (its coefficients and Σ).
    return _Fit(rows, facts, None if headline else res)


def _ri_pretest_unavailable(
    treated: int | None, p_min: float | None, settings: AnalysisSettings
) -> dict[str, Any]:
    if not_informative(treated, p_min, settings.level):
        reason = "single_treated_district" if (treated or 0) <= 1 else "p_min_above_level"
    else:
        reason = "ri_pretest_not_implemented_for_event_study"
    return {
        "test": "ri_max_abs_t",
        "p": None,
        "p_min": p_min,
        "level": "assignment",
        "conditional": False,
        "verdict": "not_testable",
        "reason": reason,
    }


def _single_start(o: _Outcome, end_t: int | None) -> tuple[list[_Fit], list[dict[str, Any]]]:
    fits = [
        # Randomisation inference over districts: with one treated district every
        # placebo is one of G assignments, so p_min = 1/G says at once what is knowable.
        _event_study_fit(
            o, cluster="district", label="district", inference="randomization", headline=True
        ),
        _event_study_fit(
            o, cluster="facility_id", label="facility", inference="cluster", headline=False
        ),
        *_twfe_fits(o),
        # Synthetic DiD over the programme's months, commune and facility level.
        *synthetic_fits(o, end_t),
    ]
    if end_t is None:
        return fits, []
    facility, records = _cs_fit(
        o, cluster="facility_id", label="facility", bootstrap=None, end_t=end_t
    )
    return [*fits, facility], records
