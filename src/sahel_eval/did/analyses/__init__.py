"""Run one configured analysis (``config["analyses"][i]``) on its canonical table.

An analysis names an area, a programme, a data source (facility panel or survey
rounds), a design and its outcomes (config/README.md, ``analyses``). This package turns
it into the estimator calls of DESIGN §6 and one tidy output:

* ``staggered`` facility panel (I3S, Mopti) → :func:`~sahel_eval.did.att_gt` on
  ``<indicator>_per_1000`` (never-treated controls, doubly robust) with the four
  aggregations; headline: randomisation inference permuting which districts are
  treated (:func:`~sahel_eval.did.cs.randomization.cs_randomization_inference`, each
  placebo district taking a real treated district's roll-out; CIs by test inversion
  under a constant additive effect), beside it the multiplier bootstrap clustered by
  district and the analytic CI clustered by facility; the static TWFE beside
  it with the wild cluster restricted bootstrap at district level (randomisation
  inference needs one start date per district, which a within-district roll-out does
  not have) and CRV1 by facility; the persistence ratio of DESIGN §8 from the
  calendar aggregation's influence functions.
* ``single_start`` facility panel (Djantoli, Bamako) → :func:`~sahel_eval.did.event_study`
  with randomisation inference over communes as the headline (one treated commune:
  ``not_informative``) and CRV1 by facility beside it (conditional on no commune-level
  shocks, DESIGN §6); static TWFE with the wild bootstrap by commune and CRV1 by
  facility. The event study does not expose its covariance, so persistence comes from
  the Callaway–Sant'Anna calendar aggregation of the same panel: with a single cohort
  calendar time is event time plus the start, and both estimators compare the
  treated facilities with the same never-treated ones.
* ``survey_rounds`` → :func:`~sahel_eval.did.did_2x2` for each later round against the
  baseline (first round), with survey weights: wild bootstrap by district (headline),
  CRV1 by district and the design-based variance (strata + PSU) beside it, and
  randomisation inference over districts; with ``did.subgroups``, the primary outcomes
  split by subgroup and the test that the effects differ
  (:mod:`~sahel_eval.did.analyses.subgroups`). Facility analyses split by the CSCOM's
  residence (``facility_urban``) the same way
  (:mod:`~sahel_eval.did.analyses.facility_subgroups`).

Every row of the output says which fit it comes from, how many clusters and treated
clusters that fit had and whether it is the headline; warnings are codes.
:func:`~sahel_eval.did.analyses.document.analysis_document` builds the JSON document
(schema: ``sahel_eval/did/estimates_schema.json``); floats are rounded to
:data:`~sahel_eval.did.analyses.document.SIGNIFICANT_DIGITS` significant digits so BLAS
differences cannot change bytes.

:func:`run_analysis` (here) dispatches on the design; one module per design
(:mod:`~sahel_eval.did.analyses.staggered`, :mod:`~sahel_eval.did.analyses.single_start`,
:mod:`~sahel_eval.did.analyses.survey`), the fits both facility designs share in
:mod:`~sahel_eval.did.analyses.facility`, the labelled rows and facts of one fit in
:mod:`~sahel_eval.did.analyses.fits`, the sensitivity to parallel trends of the event
studies in :mod:`~sahel_eval.did.analyses.sensitivity_rows`, the settings in
:mod:`~sahel_eval.did.analyses.settings` and the output in
:mod:`~sahel_eval.did.analyses.document`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.analyses.balanced import balanced_fits
from sahel_eval.did.analyses.document import (
    ESTIMATE_COLUMNS,
    SCHEMA_VERSION,
    SIGNIFICANT_DIGITS,
    AnalysisOutput,
    analysis_document,
    estimates_schema,
    round_floats,
    round_frame,
)
from sahel_eval.did.analyses.facility import FACILITY_ATT_GT, _facility, _panel
from sahel_eval.did.analyses.facility_subgroups import facility_subgroup_section
from sahel_eval.did.analyses.fits import _Fit
from sahel_eval.did.analyses.headline import apply_verdicts
from sahel_eval.did.analyses.sensitivity_rows import SensitivityOutput, facility_sensitivity
from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.analyses.single_start import _single_start
from sahel_eval.did.analyses.spillover import spillover_fits
from sahel_eval.did.analyses.staggered import _staggered
from sahel_eval.did.analyses.subgroups import subgroup_section
from sahel_eval.did.analyses.survey import _survey

__all__ = [
    "ESTIMATE_COLUMNS",
    "FACILITY_ATT_GT",
    "SCHEMA_VERSION",
    "SIGNIFICANT_DIGITS",
    "AnalysisOutput",
    "AnalysisSettings",
    "analysis_document",
    "analysis_output",
    "estimates_schema",
    "round_floats",
    "round_frame",
    "run_analysis",
]


def _robustness_fits(
    spec: Mapping[str, Any], panel: pd.DataFrame, settings: AnalysisSettings
) -> list[_Fit]:
    """The robustness rows beside a facility headline: attrition, then spillovers."""
    return balanced_fits(spec, panel, settings) + spillover_fits(spec, panel, settings)


def run_analysis(
    spec: Mapping[str, Any],
    data: pd.DataFrame | Mapping[str, pd.DataFrame],
    settings: AnalysisSettings | None = None,
) -> AnalysisOutput:
    """Run one configured analysis.

    Parameters
    ----------
    spec
        An entry of ``config["analyses"]``: ``name, area, programme, data, design,
        estimator, outcomes``.
    data
        Facility analyses: the area's panel (``panel_{area}``, DESIGN §4). Survey
        analyses: the survey tables by unit (``{"births": …, "women": …}``); each
        outcome is taken from the one table that has it.
    settings
        Level, seeds, draws; default :class:`AnalysisSettings`.

    Returns
    -------
    AnalysisOutput

    Raises
    ------
    ValueError
        An unknown design/estimator combination, or an outcome absent from the data.
    """
    settings = settings or AnalysisSettings()
    spec = dict(spec)
    kind = (spec["data"], spec["design"])
    sens: SensitivityOutput = ([], [], [])
    subgroups = None
    if kind == ("facility", "staggered"):
        fits, persistence = _facility(spec, _panel(data, spec), settings, _staggered)
        fits += _robustness_fits(spec, _panel(data, spec), settings)
        sens = facility_sensitivity(spec, _panel(data, spec), settings)
        subgroups = facility_subgroup_section(spec, _panel(data, spec), settings)
    elif kind == ("facility", "single_start"):
        fits, persistence = _facility(spec, _panel(data, spec), settings, _single_start)
        fits += _robustness_fits(spec, _panel(data, spec), settings)
        sens = facility_sensitivity(spec, _panel(data, spec), settings, fits)
        subgroups = facility_subgroup_section(spec, _panel(data, spec), settings)
    elif kind == ("survey", "survey_rounds"):
        if isinstance(data, pd.DataFrame):
            data = {"survey": data}
        fits, persistence = _survey(spec, data, settings), []
        subgroups = subgroup_section(spec, data, settings)
    else:
        raise ValueError(
            f"analysis {spec['name']!r}: no estimator for data={spec['data']!r} with "
            f"design={spec['design']!r} (facility: staggered, single_start; survey: "
            "survey_rounds)"
        )
    out = analysis_output(spec, fits, persistence, settings, sens)
    out.subgroups = subgroups
    return out


def analysis_output(
    spec: Mapping[str, Any],
    fits: list[_Fit],
    persistence: list[dict[str, Any]],
    settings: AnalysisSettings,
    sens: SensitivityOutput = ([], [], []),
) -> AnalysisOutput:
    """The output of some fits of an analysis: their rows with verdicts, and facts
    (:func:`run_analysis` gives every fit; the Monte Carlo only those it follows)."""
    frames = [f.rows for f in fits]
    estimates = pd.concat(frames, ignore_index=True)
    if "confidence_attained" not in estimates:
        estimates["confidence_attained"] = np.nan
    if "robustness" not in estimates:
        estimates["robustness"] = None
    estimates = apply_verdicts(estimates, spec, settings).loc[:, list(ESTIMATE_COLUMNS)]
    return AnalysisOutput(
        spec=dict(spec),
        estimates=estimates,
        fits=[f.facts for f in fits],
        persistence=persistence,
        settings=settings,
        sensitivity=sens,
    )
