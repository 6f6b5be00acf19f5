"""Run one configured analysis (``config["analyses"][i]``) on its canonical table.

An analysis names an area, a programme, a data source (facility panel or survey
rounds), a design and its outcomes (config/README.md, ``analyses``). This module turns
it into the estimator calls of DESIGN §6 and one tidy output:

* ``staggered`` facility panel (I3S, Mopti) → :func:`~sahel_eval.did.att_gt` on
  ``<indicator>_per_1000`` (never-treated controls, doubly robust) with the four
  aggregations; headline: randomisation inference permuting which districts are
  treated (:func:`~sahel_eval.did.cs_randomization.cs_randomization_inference`, each
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
  randomisation inference over districts.

Every row of the output says which fit it comes from, how many clusters and treated
clusters that fit had and whether it is the headline; warnings are codes.
:func:`analysis_document` builds the JSON document (schema:
``sahel_eval/did/estimates_schema.json``); floats are rounded to
:data:`SIGNIFICANT_DIGITS` significant digits so BLAS differences cannot change bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.assignment import (
    assignment_warnings,
    not_informative,
    not_informative_warning,
)
from sahel_eval.did.cs.aggregate import AggregateResult
from sahel_eval.did.cs.model import att_gt
from sahel_eval.did.cs.randomization import cs_randomization_inference
from sahel_eval.did.persistence import PERSISTENCE_MONTHS, persistence_ratio
from sahel_eval.did.results import EstimateResult, WarningCode
from sahel_eval.did.twfe import event_study, twfe
from sahel_eval.did.twobytwo import did_2x2

__all__ = [
    "ESTIMATE_COLUMNS",
    "FACILITY_ATT_GT",
    "SCHEMA_VERSION",
    "SIGNIFICANT_DIGITS",
    "AnalysisOutput",
    "AnalysisSettings",
    "analysis_document",
    "estimates_schema",
    "round_floats",
    "run_analysis",
]

SCHEMA_VERSION = 1
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
)


@dataclass(frozen=True)
class AnalysisSettings:
    """Run settings shared by every analysis.

    Parameters
    ----------
    level
        Confidence level (``1 − reporting.test_level``).
    seed_bootstrap
        Seed of the multiplier and wild bootstraps (``seeds.bootstrap``).
    seed_randomisation
        Seed of random permutations (``seeds.randomisation``; unused when all
        assignments are enumerated, as with 8 or 6 districts).
    bootstrap_draws
        Multiplier-bootstrap draws for ``att_gt`` (999, as R ``did``'s default ``biters``
        is 1,000 and csdid's 999).
    wild_draws
        Random wild-bootstrap draws when there are more than 12 clusters (with ≤ 12 all
        2^G Rademacher draws are enumerated).
    leads, lags
        Event-study window: event times before ``-leads`` and after ``lags`` are
        pooled into the end bins.
    persistence_months
        Window length of the persistence ratio (``sustainability.persistence_months``).
    """

    level: float = 0.95
    seed_bootstrap: int | None = None
    seed_randomisation: int | None = None
    bootstrap_draws: int = 999
    wild_draws: int = 9999
    leads: int = 12
    lags: int = 48
    persistence_months: int = PERSISTENCE_MONTHS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AnalysisSettings:
        """Settings from the validated config (``seeds``, ``reporting``, optional ``did``)."""
        seeds = config.get("seeds", {})
        did = config.get("did", {}) or {}
        return cls(
            level=1.0 - float(config.get("reporting", {}).get("test_level", 0.05)),
            seed_bootstrap=seeds.get("bootstrap"),
            seed_randomisation=seeds.get("randomisation"),
            bootstrap_draws=int(did.get("bootstrap_draws", cls.bootstrap_draws)),
            wild_draws=int(did.get("wild_draws", cls.wild_draws)),
            leads=int(did.get("leads", cls.leads)),
            lags=int(did.get("lags", cls.lags)),
            persistence_months=int(
                (config.get("sustainability", {}) or {}).get(
                    "persistence_months", cls.persistence_months
                )
            ),
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
    """

    spec: dict[str, Any]
    estimates: pd.DataFrame
    fits: list[dict[str, Any]] = field(default_factory=list)
    persistence: list[dict[str, Any]] = field(default_factory=list)
    settings: AnalysisSettings = field(default_factory=AnalysisSettings)

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


# ---------------------------------------------------------------------------- public


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
    if kind == ("facility", "staggered"):
        fits, persistence = _facility(spec, _panel(data, spec), settings, _staggered)
    elif kind == ("facility", "single_start"):
        fits, persistence = _facility(spec, _panel(data, spec), settings, _single_start)
    elif kind == ("survey", "survey_rounds"):
        if isinstance(data, pd.DataFrame):
            data = {"survey": data}
        fits, persistence = _survey(spec, data, settings), []
    else:
        raise ValueError(
            f"analysis {spec.get('name')!r}: no estimator for data={spec['data']!r} with "
            f"design={spec['design']!r} (facility: staggered, single_start; survey: "
            "survey_rounds)"
        )
    frames = [f.rows for f in fits]
    estimates = pd.concat(frames, ignore_index=True).loc[:, list(ESTIMATE_COLUMNS)]
    return AnalysisOutput(
        spec=spec,
        estimates=estimates,
        fits=[f.facts for f in fits],
        persistence=persistence,
        settings=settings,
    )


def analysis_document(out: AnalysisOutput) -> dict[str, Any]:
    """The JSON document of one analysis (schema ``estimates_schema.json``), rounded."""
    s = out.settings
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
            "significant_digits": SIGNIFICANT_DIGITS,
        },
        "fits": out.fits,
        "estimates": _records(out.estimates),
        "event_time": _records(out.event_time),
        "persistence": out.persistence,
        "warnings": out.warnings,
    }
    return round_floats(doc)


def estimates_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :func:`analysis_document`."""
    import json

    text = resources.files("sahel_eval.did").joinpath("estimates_schema.json").read_text("utf-8")
    return json.loads(text)


def round_floats(obj: Any, digits: int = SIGNIFICANT_DIGITS) -> Any:
    """Round every float in a nested structure to ``digits`` significant digits.

    NaN and ±inf become ``None`` (JSON has neither); numpy scalars become Python ones.
    """
    if isinstance(obj, Mapping):
        return {str(k): round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [round_floats(v, digits) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if not math.isfinite(x):
            return None
        return float(f"{x:.{digits}g}")
    return obj


def round_frame(frame: pd.DataFrame, digits: int = SIGNIFICANT_DIGITS) -> pd.DataFrame:
    """A copy of ``frame`` with float columns rounded to ``digits`` significant digits."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = [round_floats(v, digits) for v in out[col]]
            out[col] = out[col].astype(float)
    return out


# -------------------------------------------------------------------------- internals


@dataclass
class _Fit:
    rows: pd.DataFrame
    facts: dict[str, Any]


def _panel(
    data: pd.DataFrame | Mapping[str, pd.DataFrame], spec: Mapping[str, Any]
) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    area = spec["area"]
    if area in data:
        return data[area]
    raise ValueError(f"analysis {spec['name']!r}: no panel for area {area!r}")


def _variable(panel: pd.DataFrame, outcome: str, spec: Mapping[str, Any]) -> str:
    """Column analysed for an outcome: its rate per 1,000 (the scale of the truth).

    ``anc1`` and ``anc1_rate`` (config/README.md) both mean ``anc1_per_1000``.
    """
    base = outcome.removesuffix("_rate").removesuffix("_per_1000")
    column = f"{base}_per_1000"
    if column not in panel.columns:
        raise ValueError(
            f"analysis {spec['name']!r}: outcome {outcome!r} needs column {column!r} in "
            f"panel_{spec['area']}; the panel has {sorted(panel.columns)}"
        )
    return column


def _warning_dicts(warns: Iterable[WarningCode]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for w in warns:
        d = w.to_dict()
        key = repr(sorted(d["params"].items())) + d["code"]
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _pretest_warning(pretest: Mapping[str, Any] | None, level: float) -> list[WarningCode]:
    if pretest and pretest.get("p") is not None and pretest["p"] < 1 - level:
        return [WarningCode("pretrend_rejected", {"p": float(pretest["p"]), "level": level})]
    return []


@dataclass(frozen=True)
class _Outcome:
    """What every fit of one outcome shares: the analysis, its data and the settings."""

    spec: Mapping[str, Any]
    data: pd.DataFrame
    outcome: str
    variable: str
    settings: AnalysisSettings


@dataclass(frozen=True)
class _Label:
    """How a fit is labelled in both the tidy rows and its facts."""

    fit: str
    estimator: str
    inference: str
    cluster: str
    headline: bool


def _base_rows(
    o: _Outcome, res: EstimateResult, table: pd.DataFrame, label: _Label, aggregation: str
) -> pd.DataFrame:
    rows = pd.DataFrame({"term": table["term"].astype(str)})
    for col in ("group", "time", "event_time", "round"):
        rows[col] = table[col].astype(float) if col in table else np.nan
    for col in ("estimate", "se", "ci_low", "ci_high", "p", "band_low", "band_high"):
        rows[col] = table[col].astype(float) if col in table else np.nan
    rows["informative"] = table["informative"].astype(bool) if "informative" in table else True
    rows["p_min"] = table["p_min"].astype(float) if "p_min" in table else np.nan
    rows["ci_note"] = table["ci_note"].astype(object) if "ci_note" in table else None
    rows["inference"] = table["inference"].astype(str) if "inference" in table else label.inference
    rows = rows.assign(
        analysis=o.spec["name"],
        outcome=o.outcome,
        variable=o.variable,
        fit=label.fit,
        estimator=label.estimator,
        aggregation=aggregation,
        cluster=label.cluster,
        clusters=res.info.get("clusters"),
        treated_clusters=res.info.get("treated_clusters"),
        headline=label.headline,
        n=res.info["n"],
    )
    return rows


def _facts(
    o: _Outcome,
    res: EstimateResult,
    label: _Label,
    *,
    extra_warnings: Iterable[WarningCode] = (),
    note: str | None = None,
) -> dict[str, Any]:
    info = res.info
    pretest = info.get("pretest")
    warns = [*res.warnings, *extra_warnings]
    return {
        "fit": label.fit,
        "outcome": o.outcome,
        "variable": o.variable,
        "estimator": label.estimator,
        "method": info.get("method"),
        "control": info.get("control"),
        "inference": label.inference,
        "cluster": label.cluster,
        "clusters": info.get("clusters"),
        "treated_clusters": info.get("treated_clusters"),
        "headline": label.headline,
        "n": info.get("n"),
        "n_units": info.get("n_units"),
        "n_dropped": info.get("n_dropped"),
        "seed": info.get("seed"),
        "p_min": info.get("p_min"),
        "draws": info.get("bootstrap_draws")
        or (info.get("bootstrap") or {}).get("draws")
        or (info.get("randomization") or {}).get("permutations"),
        "pretest": _pretest_dict(pretest),
        "warnings": _warning_dicts(warns),
        "note": note,
    }


def _pretest_dict(pretest: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not pretest:
        return None
    return {
        "test": pretest.get("test", "chi2"),
        "stat": pretest.get("stat"),
        "df": pretest.get("df", pretest.get("df1")),
        "df2": pretest.get("df2"),
        "p": pretest.get("p"),
    }


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
    persistence = [] if end_t is None else [_persistence(o, aggs["calendar"], tag.fit, end_t)]
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


def _twfe_fits(o: _Outcome) -> list[_Fit]:
    """The static TWFE beside the main estimator: wild bootstrap by district, CRV1 by facility."""
    return [
        _twfe_fit(o, cluster="district", label="district", inference="wild"),
        _twfe_fit(o, cluster="facility_id", label="facility", inference="cluster"),
    ]


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
        o = _Outcome(spec, panel, outcome, _variable(panel, outcome, spec), settings)
        outcome_fits, records = design(o, end_t)
        fits += outcome_fits
        persistence += records
    return fits, persistence


def _staggered(o: _Outcome, end_t: int | None) -> tuple[list[_Fit], list[dict[str, Any]]]:
    district, district_rec = _cs_fit(
        o, cluster="district", label="district", bootstrap=o.settings.bootstrap_draws, end_t=end_t
    )
    headline = _cs_randomization_fit(o, district)
    facility, facility_rec = _cs_fit(
        o, cluster="facility_id", label="facility", bootstrap=None, end_t=end_t
    )
    return [district, headline, facility, *_twfe_fits(o)], [*district_rec, *facility_rec]


def _event_study_fit(
    o: _Outcome, *, cluster: str, label: str, inference: str, headline: bool
) -> _Fit:
    panel, settings = o.data, o.settings
    t_max = int(panel["t"].max())
    g_min = _first_treated_t(panel)
    lags = min(settings.lags, t_max - g_min)
    leads = min(settings.leads, g_min - int(panel["t"].min()))
    res = event_study(
        panel,
        o.variable,
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
    facts = _facts(o, res, tag, extra_warnings=extra, note=note)
    facts.update(leads=leads, lags=lags, ref=-1)
    return _Fit(rows, facts)


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
    ]
    if end_t is None:
        return fits, []
    facility, records = _cs_fit(
        o, cluster="facility_id", label="facility", bootstrap=None, end_t=end_t
    )
    return [*fits, facility], records


def _survey_table(
    data: Mapping[str, pd.DataFrame], outcome: str, spec: Mapping[str, Any]
) -> pd.DataFrame:
    hits = [name for name, frame in data.items() if outcome in frame.columns]
    if len(hits) != 1:
        raise ValueError(
            f"analysis {spec['name']!r}: survey outcome {outcome!r} is in "
            f"{'none' if not hits else hits} of the survey tables {sorted(data)}; it must "
            "be in exactly one"
        )
    return data[hits[0]]


def _survey(
    spec: Mapping[str, Any], data: Mapping[str, pd.DataFrame], settings: AnalysisSettings
) -> list[_Fit]:
    fits: list[_Fit] = []
    for outcome in spec["outcomes"]:
        table = _survey_table(data, outcome, spec)
        frame = table[table["area"] == spec["area"]]
        if frame.empty:
            raise ValueError(f"analysis {spec['name']!r}: no survey rows for area {spec['area']!r}")
        o = _Outcome(spec, frame, outcome, outcome, settings)
        years = sorted(frame["year"].unique())
        baseline = years[0]
        for year in years[1:]:
            sub = frame[frame["year"].isin([baseline, year])]
            sub = sub.assign(
                post=(sub["year"] == year).astype(float), treat=sub["treated"].astype(float)
            )
            wild, ri = (
                did_2x2(
                    sub,
                    outcome,
                    "treat",
                    "post",
                    weights="weight",
                    cluster="district",
                    strata="strata",
                    psu="psu",
                    level=settings.level,
                    inference=inference,
                    seed=seed,
                    bootstrap=settings.wild_draws,
                )
                for inference, seed in (
                    ("wild", settings.seed_bootstrap),
                    ("randomization", settings.seed_randomisation),
                )
            )
            ri_row = ri.table[ri.table["headline"]]
            table_rows = pd.concat([wild.table, ri_row], ignore_index=True)
            headline = table_rows["inference"].eq("wild").to_numpy().copy()
            headline[len(wild.table) :] = False
            tag = _Label(f"{outcome}:did_2x2:{year}", "did_2x2", "wild", "district", True)
            rows = _base_rows(
                o,
                wild,
                table_rows.assign(term=f"treated:round_{year}", round=float(year)),
                tag,
                f"{baseline}_vs_{year}",
            )
            rows["headline"] = headline
            # Design-based inference counts PSUs, not districts.
            is_design = rows["inference"] == "design"
            rows.loc[is_design, "cluster"] = "psu"
            rows.loc[is_design, "clusters"] = sub["psu"].nunique()
            rows.loc[is_design, "treated_clusters"] = sub.loc[sub["treat"] > 0, "psu"].nunique()
            facts = _facts(o, wild, tag, extra_warnings=ri.warnings)
            facts.update(
                baseline=int(baseline),
                round=int(year),
                weights="weight",
                design={"strata": "strata", "psu": "psu"},
                randomization={"p": float(ri_row["p"].iloc[0]), "p_min": ri.info.get("p_min")},
            )
            fits.append(_Fit(rows, facts))
    return fits


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict(orient="records")
