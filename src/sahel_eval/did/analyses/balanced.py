"""Robustness rows: the headline estimate on always-reporting CSCOMs (DESIGN §6.1).

Attrition (CSCOMs that close, stop reporting for months during insecurity, or open
late) can move a difference-in-differences if it differs by arm. Beside each headline
the same assignment-level estimate is re-run on the **balanced subsample**: the CSCOMs
whose reporting never has a gap longer than ``did.balanced_max_gap`` consecutive months
(months before the first and after the last report count as gaps), so a late or lost
report does not exclude a facility but a closure does. The rows carry ``robustness:
"balanced_subsample"``, ``headline: false`` and no verdict (a robustness row never
decides one); they are the summary rows only (Callaway–Sant'Anna simple overall ATT,
static TWFE). Survey analyses have no facility panel, hence no such rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.analyses.facility import _cs_fit, _twfe_fit, _twfe_ri_fit, _variable
from sahel_eval.did.analyses.fits import _Fit, _Outcome
from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.analyses.staggered import _cs_randomization_fit
from sahel_eval.did.assignment import not_informative

__all__ = ["ROBUSTNESS", "balanced_fits", "balanced_units", "subsample_fits"]

ROBUSTNESS = "balanced_subsample"


_LOG = logging.getLogger(__name__)


def _longest_gap(reported: np.ndarray) -> int:
    gaps = np.diff(np.flatnonzero(np.concatenate([[True], reported, [True]]))) - 1
    return int(gaps.max(initial=0))


def balanced_units(panel: pd.DataFrame, max_gap: int) -> pd.Index:
    """Facilities whose longest run of unreported months is at most ``max_gap``."""
    ordered = panel.sort_values(["facility_id", "t"], kind="mergesort")
    gaps = ordered.groupby("facility_id", sort=True)["reported"].agg(
        lambda s: _longest_gap(s.to_numpy(dtype=bool))
    )
    return gaps.index[gaps <= max_gap]


def balanced_fits(
    spec: Mapping[str, Any], panel: pd.DataFrame, settings: AnalysisSettings
) -> list[_Fit]:
    """The headline summary of every outcome, re-estimated on the balanced subsample."""
    keep = balanced_units(panel, settings.balanced_max_gap)
    facts = {
        "subsample": ROBUSTNESS,
        "max_gap_months": settings.balanced_max_gap,
        "facilities_kept": len(keep),
        "facilities_total": int(panel["facility_id"].nunique()),
    }
    return subsample_fits(spec, panel[panel["facility_id"].isin(keep)], facts, settings)


def subsample_fits(
    spec: Mapping[str, Any],
    sub: pd.DataFrame,
    facts: dict[str, Any],
    settings: AnalysisSettings,
) -> list[_Fit]:
    """The headline summary of every outcome on ``sub``, as robustness rows.

    ``facts["subsample"]`` names the rows (``robustness`` column, fit id suffix); the
    inference is the headline's (assignment level), and a not-informative row keeps
    only its estimate.
    """
    fits = []
    for outcome in spec["outcomes"]:
        o = _Outcome(spec, sub, outcome, _variable(sub, outcome, spec, settings), settings)
        try:
            if spec["design"] == "staggered":
                facility, _ = _cs_fit(
                    o, cluster="facility_id", label="facility", bootstrap=None, end_t=None
                )
                fit = _cs_randomization_fit(o, facility, aggregations=("simple",))
            else:
                facility = _twfe_fit(
                    o, cluster="facility_id", label="facility", inference="cluster"
                )
                fit = _twfe_ri_fit(o, facility)
        except ValueError as err:
            # A robustness row must not stop the analysis: a small subsample can leave a
            # cohort (or a placebo roll-out) without the cells it needs. Said in the log.
            _LOG.warning(
                "analysis %s, %s: no %s row (%s)", spec["name"], outcome, facts["subsample"], err
            )
            continue
        fits.append(_relabel(fit, facts, settings.level))
    return fits


def _relabel(fit: _Fit, facts: dict[str, Any], level: float) -> _Fit:
    name = facts["subsample"]
    fit_id = f"{fit.facts['fit']}:{name}"
    rows = fit.rows.assign(fit=fit_id, headline=False, robustness=name)
    blind = [
        not_informative(int(t), None if pd.isna(p) else float(p), level)
        for t, p in zip(rows["treated_clusters"], rows["p_min"], strict=True)
    ]
    # Not informative: no assignment-level p or interval, as for a headline row.
    rows.loc[blind, ["p", "ci_low", "ci_high", "confidence_attained"]] = np.nan
    rows.loc[blind, "ci_note"] = None
    out = dict(fit.facts, fit=fit_id, headline=False, pretest=None, robustness=facts)
    return _Fit(rows.reset_index(drop=True), out)
