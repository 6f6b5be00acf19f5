"""Monte Carlo check of the headline intervals on replicates of the demo design.

DESIGN §6.1 ("Checked by simulation"): on replicates of the demo design (same
districts, facilities and roll-out, planted effects; fresh facility noise,
district-month shocks and survey samples, :func:`~sahel_eval.synth.replicates.replicate`)
the headline intervals of the Mopti Callaway–Sant'Anna overall effect, the Mopti survey
2×2 and I3S persistence must cover the planted value in at least 93 % of replicates,
consistently with their attained level; the assignment-level pre-test must reject at
its attained size (1/28 in Mopti); the facility-clustered intervals of both areas are
shown for contrast. :func:`replicate_records` evaluates one replicate by calling what
the did and sustainability stages call (:func:`~sahel_eval.did.analyses.run_analysis`,
:func:`~sahel_eval.did.analyses.analysis_document`,
:func:`~sahel_eval.sustainability.persistence_table`), so a change of estimator shows
here without change; :func:`summarise` makes the table (``benchmarks/monte_carlo.py``
runs it).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sahel_eval.did.analyses import (
    AnalysisSettings,
    analysis_document,
    analysis_output,
    run_analysis,
)
from sahel_eval.did.analyses.facility import _cs_fit, _facility, _panel
from sahel_eval.did.analyses.fits import _Fit, _Outcome
from sahel_eval.did.analyses.imputation_fits import imputation_fits
from sahel_eval.did.analyses.planted import sdid_errors
from sahel_eval.did.analyses.staggered import _cs_randomization_fit
from sahel_eval.did.analyses.synthetic import synthetic_fits
from sahel_eval.sustainability import persistence_table

from .replicates import Design, replicate

__all__ = ["ANALYSES", "RECORD_COLUMNS", "analysis_specs", "replicate_records", "summarise"]

#: Analysis (config ``analyses[].name``) → the outcome the Monte Carlo follows: the
#: first primary outcome of each (``reporting.primary_outcomes``).
ANALYSES = {
    "mopti_staggered": "consultations_all",
    "bamako_event_study": "consultations_all",
    "mopti_survey": "facility_delivery",
}
_PROGRAMME = {"mopti": "I3S", "bamako": "Djantoli"}

#: Columns of one record (one interval or one pre-test on one replicate).
RECORD_COLUMNS = (
    "design",
    "seed",
    "quantity",
    "interval",
    "headline",
    "truth",
    "estimate",
    "ci_low",
    "ci_high",
    "unbounded",
    "inside",
    "confidence_attained",
    "verdict",
    "rejected",
    "seconds",
    "cpu_seconds",
)


def analysis_specs(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The config's specs of :data:`ANALYSES`, each cut to its followed outcome."""
    specs = {a["name"]: a for a in config["analyses"]}
    return [dict(specs[name], outcomes=[outcome]) for name, outcome in ANALYSES.items()]


def _interval(row: pd.Series, truth: float) -> dict[str, Any]:
    """The row's interval against the truth; an unbounded (Fieller) set is the real
    line: it holds the truth, and ``unbounded`` says so."""
    unbounded = row.get("ci_note") == "unbounded"
    low, high = (-np.inf, np.inf) if unbounded else (row["ci_low"], row["ci_high"])
    has = pd.notna(low) and pd.notna(high)
    return {
        "truth": truth,
        "estimate": float(row["estimate"]),
        "ci_low": float(low) if has else np.nan,
        "ci_high": float(high) if has else np.nan,
        "unbounded": unbounded,
        "inside": bool(low <= truth <= high) if has else None,
        "confidence_attained": row["confidence_attained"],
        "verdict": row["verdict"] if pd.notna(row["verdict"]) else None,
    }


def _one(frame: pd.DataFrame, what: str) -> pd.Series:
    if len(frame) != 1:
        raise ValueError(f"Monte Carlo: expected one {what} row, found {len(frame)}")
    return frame.iloc[0]


def _facility_records(out: Any, area: str, rep_truth: Mapping[str, Any]) -> list[dict]:
    """CS overall (simple) at the assignment level and by facility, its pre-test, and
    the persistence rows of the sustainability table."""
    programme = _PROGRAMME[area]
    outcome = out.spec["outcomes"][0]
    est = out.estimates
    overall = est[
        (est["estimator"] == "callaway_santanna")
        & (est["aggregation"] == "simple")
        & (est["term"] == "overall")
    ]
    truth_att = rep_truth["cs_overall"]["programmes"][programme]["overall"][outcome]["simple"]
    recs = []
    headline = overall[overall["headline"].astype(bool)]
    if len(headline):
        recs.append(
            {
                "quantity": f"{area}_cs_overall",
                "interval": f"{_one(headline, 'headline')['inference']}:district",
                "headline": True,
                **_interval(_one(headline, "headline"), truth_att),
            }
        )
    facility = overall[overall["cluster"] == "facility_id"]
    recs.append(
        {
            "quantity": f"{area}_cs_overall",
            "interval": "analytic:facility_id",
            "headline": False,
            **_interval(_one(facility, "facility-clustered"), truth_att),
        }
    )
    for facts in out.fits:
        pre = facts.get("pretest")
        if facts["headline"] and facts["estimator"] == "callaway_santanna" and pre:
            recs.append(
                {
                    "quantity": f"{area}_pretest",
                    "interval": f"{pre['test']}:{pre['level']}",
                    "headline": True,
                    "verdict": pre["verdict"],
                    "rejected": pre["verdict"] == "pretrend_rejected",
                    "confidence_attained": 1 - pre["p_min"] if pre.get("p_min") else np.nan,
                }
            )
    table = persistence_table([analysis_document(out)])
    ratio = rep_truth["persistence"][(programme, outcome)]
    for _, row in table[table["status"] == "ok"].iterrows():
        recs.append(
            {
                "quantity": f"{area}_persistence",
                "interval": f"{row['inference']}:{row['cluster']}",
                "headline": bool(row["headline"]),
                **_interval(
                    # The verdict says why a headline has no interval (not_informative).
                    pd.Series({**row.to_dict(), "confidence_attained": np.nan}),
                    ratio,
                ),
            }
        )
    return recs


def _survey_records(out: Any, rep_truth: Mapping[str, Any]) -> list[dict]:
    """Each later round's 2×2: the headline row and the design-based and HC1 rows."""
    est = out.estimates
    outcome = out.spec["outcomes"][0]
    recs = []
    for _, row in est[est["estimator"] == "did_2x2"].iterrows():
        year = int(row["round"])
        truth = rep_truth["survey"][(out.spec["area"], outcome, year)]
        recs.append(
            {
                "quantity": f"{out.spec['area']}_survey_{year}",
                "interval": f"{row['inference']}:{row['cluster']}",
                "headline": bool(row["headline"]),
                **_interval(row, truth),
            }
        )
    return recs


def _headline_staggered(o: _Outcome, end_t: int | None) -> tuple[list[_Fit], list[dict]]:
    """What the table follows of a staggered analysis: CS by facility (with the
    persistence records) and by RI over districts, and imputation's overall ATT at both
    levels; no TWFE, balanced subsample, sensitivity or event-time horizons."""
    facility, records = _cs_fit(
        o, cluster="facility_id", label="facility", bootstrap=None, end_t=end_t
    )
    headline = _cs_randomization_fit(o, facility)
    return [headline, facility, *imputation_fits(o, headline, [])], records


def _headline_single_start(o: _Outcome, end_t: int | None) -> tuple[list[_Fit], list[dict]]:
    """CS by facility (persistence records) and synthetic DiD at both levels."""
    facility, records = _cs_fit(
        o, cluster="facility_id", label="facility", bootstrap=None, end_t=end_t
    )
    return [facility, *synthetic_fits(o, end_t)], records


_DESIGNS = {"staggered": _headline_staggered, "single_start": _headline_single_start}


def _imputation_records(out: Any, rep_truth: Mapping[str, Any]) -> list[dict]:
    """Imputation's overall ATT (RI over districts, BJS by facility) against the CS
    simple truth: both weigh every treated facility-month alike."""
    outcome = out.spec["outcomes"][0]
    truth_att = rep_truth["cs_overall"]["programmes"]["I3S"]["overall"][outcome]["simple"]
    est = out.estimates
    rows = est[(est["estimator"] == "imputation") & (est["term"] == "overall")]
    return [
        {
            "quantity": "mopti_imputation_overall",
            "interval": f"{row['inference']}:{row['cluster']}",
            "headline": False,
            **_interval(row, truth_att),
        }
        for _, row in rows.iterrows()
    ]


def _sdid_records(out: Any, rep_truth: Mapping[str, Any]) -> list[dict]:
    """Synthetic DiD (commune and facility level) against the planted mean effect over
    its window: bias, and coverage of the placebo interval (conditional at both levels,
    DESIGN §6.2)."""
    est = out.estimates
    z = stats.norm.ppf(0.5 + out.settings.level / 2)
    recs = []
    placebo = {f["fit"]: f["placebo"] for f in out.fits if f["estimator"] == "synthdid"}
    for err in sdid_errors(est, out.fits, rep_truth["effects"], "Djantoli"):
        row = _one(est[(est["fit"] == err["fit"]) & (est["term"] == "overall")], "SDID")
        # The commune row is not_informative and, with 5 placebos, its SE and interval
        # are withheld (kept, flagged, in the fit's placebo facts); the placebo interval
        # (estimate ± z·se, as synthdid's ci) is what is checked here, at both levels.
        row = row.copy()
        se = placebo[err["fit"]]["se"]
        row["ci_low"], row["ci_high"] = (row["estimate"] - z * se, row["estimate"] + z * se)
        recs.append(
            {
                "quantity": f"bamako_sdid_{err['level']}",
                "interval": "placebo:conditional",
                "headline": False,
                **_interval(row, err["planted"]),
            }
        )
    return recs


def replicate_records(
    d: Design, seed: int, specs: list[dict[str, Any]], settings: AnalysisSettings
) -> pd.DataFrame:
    """Every followed interval and pre-test of one replicate (:data:`RECORD_COLUMNS`).

    Parameters
    ----------
    d
        The design (:func:`~sahel_eval.synth.replicates.design`).
    seed
        The replicate's seed: the same seed gives the same records.
    specs
        :func:`analysis_specs` of the config.
    settings
        :meth:`AnalysisSettings.from_config` of the same config.
    """
    start, cpu = time.perf_counter(), time.process_time()
    rep = replicate(d, seed)
    recs: list[dict] = []
    for spec in specs:
        if spec["data"] == "facility":
            panel = _panel(rep.panels, spec)
            fits, persistence = _facility(spec, panel, settings, _DESIGNS[spec["design"]])
            out = analysis_output(spec, fits, persistence, settings)
            recs += _facility_records(out, spec["area"], rep.truth)
            recs += (_imputation_records if spec["design"] == "staggered" else _sdid_records)(
                out, rep.truth
            )
        else:
            # It follows the headline 2×2; the subgroup rows are checked on the demo data.
            out = run_analysis(spec, rep.surveys, replace(settings, subgroups={}))
            recs += _survey_records(out, rep.truth)
    frame = pd.DataFrame(recs).reindex(columns=list(RECORD_COLUMNS))
    return frame.assign(
        design=d.name,
        seed=seed,
        seconds=time.perf_counter() - start,
        cpu_seconds=time.process_time() - cpu,
    )


def _binomial_ci(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Clopper–Pearson interval of a binomial proportion."""
    low = stats.beta.ppf(alpha / 2, k, n - k + 1) if k > 0 else 0.0
    high = stats.beta.ppf(1 - alpha / 2, k + 1, n - k) if k < n else 1.0
    return float(low), float(high)


def summarise(records: pd.DataFrame, *, target: float = 0.93) -> pd.DataFrame:
    """Coverage (or pre-test rejection rate) per design × quantity × interval.

    Columns: ``n`` replicates, ``n_interval`` with an interval (a ``not_informative``
    headline has none), ``rate`` (coverage, or rejection rate for pre-tests), ``mcse``
    (its Monte Carlo standard error), ``bias`` and ``rmse`` of the estimate against the
    truth, ``unbounded`` (share of unbounded sets, which
    count as covering), ``ci_low``/``ci_high`` (Clopper–Pearson 95 %),
    ``nominal`` (the attained confidence level; for pre-tests the attained size
    1 − level), ``consistent`` (the nominal value lies in the binomial interval) and,
    for headline coverage, ``meets_target`` (``rate ≥ target``).
    """
    rows = []
    keys = ["design", "quantity", "interval", "headline"]
    for key, g in records.groupby(keys, sort=True, dropna=False):
        pretest = str(key[1]).endswith("_pretest")
        hits = g["rejected"] if pretest else g["inside"]
        hits = hits.dropna().astype(bool)
        n, k = len(hits), int(hits.sum())
        nominal = g["confidence_attained"].astype(float).median()
        if pretest:
            nominal = 1 - nominal
        rate = k / n if n else np.nan
        low, high = _binomial_ci(k, n) if n else (np.nan, np.nan)
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "n": len(g),
                "n_interval": n,
                "rate": rate,
                "unbounded": g["unbounded"].astype("boolean").mean(),
                "mcse": np.sqrt(rate * (1 - rate) / n) if n else np.nan,
                "ci_low": low,
                "ci_high": high,
                "bias": float((g["estimate"] - g["truth"]).mean()) if not pretest else np.nan,
                "rmse": float(np.sqrt(((g["estimate"] - g["truth"]) ** 2).mean()))
                if not pretest
                else np.nan,
                "nominal": nominal,
                "consistent": bool(low <= nominal <= high) if np.isfinite(nominal) else None,
                "meets_target": bool(rate >= target) if key[3] and not pretest and n else None,
            }
        )
    return pd.DataFrame(rows)
