"""The output of one analysis: tidy table, JSON document, rounding to stable bytes."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.analyses.headline import holm_facts, primary_outcomes
from sahel_eval.did.analyses.planted import sdid_errors
from sahel_eval.did.analyses.settings import AnalysisSettings

__all__ = [
    "ESTIMATE_COLUMNS",
    "SCHEMA_VERSION",
    "SIGNIFICANT_DIGITS",
    "AnalysisOutput",
    "analysis_document",
    "estimates_schema",
    "round_floats",
    "round_frame",
]

SCHEMA_VERSION = 3
#: Enough for every reported number; few enough that BLAS summation order is invisible.
SIGNIFICANT_DIGITS = 10
#: Columns of the tidy table (CSV) and of ``estimates`` in the JSON document.
ESTIMATE_COLUMNS = (
    "analysis",
    "outcome",
    "variable",
    "fit",
    "estimator",
    "aggregation",
    "inference",
    "cluster",
    "clusters",
    "treated_clusters",
    "headline",
    "informative",
    "term",
    "group",
    "time",
    "event_time",
    "round",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "band_low",
    "band_high",
    "n",
    "p_min",
    "ci_note",
    "conditional",
    "confidence_attained",
    "verdict",
    "mde",
    "family",
    "p_holm",
    "holm_rejected",
    "robustness",
)


@dataclass
class AnalysisOutput:
    """Everything one analysis produces.

    Attributes
    ----------
    spec
        The analysis entry of the config.
    estimates
        Tidy table, columns :data:`ESTIMATE_COLUMNS` (one row per outcome × fit × term).
    fits
        One dict per estimator run: id, outcome, estimator, inference, cluster,
        clusters, treated clusters, n, seed, pre-test, warning codes.
    persistence
        One dict per outcome and cluster level (facility designs with an end date).
    settings
        The settings used.
    sensitivity
        HonestDiD bounds, breakdown values and their inputs, one per event study
        (:func:`~sahel_eval.did.analyses.sensitivity_rows.facility_sensitivity`).
    subgroups
        Survey analyses with ``did.subgroups``: the subgroup rows and equality tests
        (:func:`~sahel_eval.did.analyses.subgroups.subgroup_section`); None otherwise.
    """

    spec: dict[str, Any]
    estimates: pd.DataFrame
    fits: list[dict[str, Any]] = field(default_factory=list)
    persistence: list[dict[str, Any]] = field(default_factory=list)
    settings: AnalysisSettings = field(default_factory=AnalysisSettings)
    sensitivity: tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]] = field(
        default_factory=lambda: ([], [], [])
    )
    subgroups: dict[str, Any] | None = None

    @property
    def event_time(self) -> pd.DataFrame:
        """Event-time rows (CS dynamic aggregation, event-study terms)."""
        e = self.estimates
        keep = e["aggregation"].isin(["dynamic", "event_time"]) & e["event_time"].notna()
        return e.loc[keep].reset_index(drop=True)

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """Distinct warning codes over all fits (with the fit they come from)."""
        out = []
        for fit in self.fits:
            for w in fit["warnings"]:
                out.append({"fit": fit["fit"], **w})
        return out


def analysis_document(
    out: AnalysisOutput, truth: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON document of one analysis (schema ``estimates_schema.json``), rounded.

    ``truth`` (simulated data only, ``did.truth_file``): the generator's truth file;
    the document's ``planted`` then compares each synthetic-DiD row with the planted
    effect over its window (:func:`~sahel_eval.did.analyses.planted.sdid_errors`).
    """
    s = out.settings
    planted = (
        None
        if truth is None
        else sdid_errors(out.estimates, out.fits, truth["effects"], out.spec["programme"])
    )
    doc = {
        "schema_version": SCHEMA_VERSION,
        "analysis": out.spec,
        "level": s.level,
        "seeds": {"bootstrap": s.seed_bootstrap, "randomisation": s.seed_randomisation},
        "settings": {
            "bootstrap_draws": s.bootstrap_draws,
            "wild_draws": s.wild_draws,
            "leads": s.leads,
            "lags": s.lags,
            "persistence_months": s.persistence_months,
            "sensitivity": None if s.sensitivity is None else dict(s.sensitivity),
            "significant_digits": SIGNIFICANT_DIGITS,
        },
        "fits": out.fits,
        "estimates": _records(out.estimates),
        "event_time": _records(out.event_time),
        "persistence": out.persistence,
        "sensitivity": out.sensitivity[0],
        "breakdown": out.sensitivity[1],
        "sensitivity_inputs": out.sensitivity[2],
        "units": {o: outcome_unit(out.spec, o, s) for o in out.spec["outcomes"]},
        "outcome_settings": {
            o: None
            if (st := s.outcome_setting(o)) is None
            else {
                "smallest_effect": st.smallest_effect,
                "good_direction": st.good_direction,
            }
            for o in out.spec["outcomes"]
        },
        "multiple_testing": {
            "method": "holm",
            "scope": "analysis",
            "primary_outcomes": primary_outcomes(out.spec, s),
            **holm_facts(out.estimates, s.level),
        },
        "warnings": out.warnings,
        "planted": planted,
    }
    if out.subgroups is not None:
        # Only where configured: the facility analyses' documents keep their bytes.
        doc["subgroups"] = out.subgroups
    return round_floats(doc)


def outcome_unit(spec: Mapping[str, Any], outcome: str, settings: AnalysisSettings) -> str:
    """``proportion`` for survey outcomes and quality-of-care ratios, else
    ``per_1000_month`` (a facility indicator's rate): the scale reports format."""
    if spec["data"] == "survey" or outcome in settings.quality_ratios:
        return "proportion"
    return "per_1000_month"


def estimates_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :func:`analysis_document`."""
    text = resources.files("sahel_eval.did").joinpath("estimates_schema.json").read_text("utf-8")
    return json.loads(text)


def round_floats(obj: Any, digits: int = SIGNIFICANT_DIGITS) -> Any:
    """Round every float in a nested structure to ``digits`` significant digits.

    NaN and ±inf become ``None`` (JSON has neither); numpy scalars become Python ones.
    """
    # Leaves first, floats before all (most of a document's ~10^5 values), and the
    # slow abstract Mapping check last: no type is two of these, so the order
    # changes only the time.
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if not math.isfinite(x):
            return None
        return float(f"{x:.{digits}g}")
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (list, tuple)):
        return [round_floats(v, digits) for v in obj]
    if isinstance(obj, (dict, Mapping)):  # a dict without the abstract check
        return {str(k): round_floats(v, digits) for k, v in obj.items()}
    return obj


def round_frame(frame: pd.DataFrame, digits: int = SIGNIFICANT_DIGITS) -> pd.DataFrame:
    """A copy of ``frame`` with float columns rounded to ``digits`` significant digits."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = [round_floats(v, digits) for v in out[col]]
            out[col] = out[col].astype(float)
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict(orient="records")
