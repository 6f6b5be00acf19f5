"""Sensitivity to parallel trends of every event study of an analysis (DESIGN §6.1).

For each outcome of a facility design, the event studies the did stage reports get
HonestDiD bounds (:func:`~sahel_eval.did.honest.sensitivity_with_breakdown`) for two
targets, the on-impact effect (``e = 0``) and the average post effect (``e = 0 …
window_post``), under relative magnitudes (grid ``did.sensitivity.mbar``, C-LF) and
smoothness (grid ``did.sensitivity.smoothness`` × the outcome's smallest effect, in
outcome units; FLCI):

* Callaway–Sant'Anna (both designs; a single-start design has it when the programme
  ends): the dynamic aggregation of a fit with ``base_period="universal"`` (the varying
  base period is not valid input), event times ``−window_pre … window_post``, the
  reference ``e = −1`` dropped; Σ from the influence functions, clustered by facility
  (each facility is a unit, so ``ψ'ψ / n²``).
* The TWFE event study (single start): the facility-clustered CRV1 fit the analysis
  reports (read from its fit, not refitted), the same event times, none of them an end
  bin.

Σ is facility-clustered because the assignment-level one has rank ≤ G − 1: the bounds
are conditional on no district-level shocks (``conditional: true``). Σ's rank is
checked first; a deficient rank gives a record with ``reason`` and no bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.analyses.facility import FACILITY_ATT_GT, _end_t, _variable
from sahel_eval.did.analyses.fits import _Fit
from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.analyses.single_start import facility_event_study
from sahel_eval.did.cs.model import att_gt
from sahel_eval.did.honest import sensitivity_with_breakdown
from sahel_eval.did.honest.sensitivity import RESTRICTIONS
from sahel_eval.did.results import EstimateResult
from sahel_eval.stats.covariance import covariance_rank

__all__ = ["SensitivityOutput", "facility_sensitivity"]

#: (sensitivity rows, breakdown rows, one record per event study and its inputs)
SensitivityOutput = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


def facility_sensitivity(
    spec: Mapping[str, Any],
    panel: pd.DataFrame,
    settings: AnalysisSettings,
    fits: Iterable[_Fit] = (),
) -> SensitivityOutput:
    """Bounds and breakdown values of every event study of a facility analysis.

    ``fits`` are the analysis's fits: a facility event study found among them (with its
    result) is read, not refitted. Returns empty lists when ``settings.sensitivity`` is
    None (programmatic use).
    """
    if settings.sensitivity is None:
        return [], [], []
    fitted = {f.facts["fit"]: f.result for f in fits if f.result is not None}
    cfg = settings.sensitivity
    rows: list[dict[str, Any]] = []
    breakdowns: list[dict[str, Any]] = []
    inputs: list[dict[str, Any]] = []
    with_cs = spec["design"] == "staggered" or _end_t(panel) is not None
    for outcome in spec["outcomes"]:
        variable = _variable(panel, outcome, spec, settings)
        smallest = settings.outcome_setting(outcome)
        if smallest is None:
            raise ValueError(
                f"analysis {spec['name']!r}: the smoothness grid is in multiples of each "
                f"outcome's smallest effect, and outcome {outcome!r} has none (did.outcomes)"
            )
        grids = {
            "relative_magnitude": [float(v) for v in cfg["mbar"]],
            "smoothness": [float(v) * smallest.smallest_effect for v in cfg["smoothness"]],
        }
        studies = []
        if spec["design"] == "single_start":
            fit = fitted.get(f"{outcome}:event_study:facility")
            studies.append(_event_study_input(panel, variable, outcome, settings, fit))
        if with_cs:
            studies.append(_cs_input(panel, variable, outcome, settings))
        for study in studies:
            record, beta, sigma, n_pre, n_post = study
            inputs.append(record)
            if record.get("reason"):
                continue
            for target, l_vec in (
                ("on_impact", None),
                ("average_post", np.full(n_post, 1 / n_post)),
            ):
                for restriction, grid in grids.items():
                    table, value = sensitivity_with_breakdown(
                        beta,
                        sigma,
                        n_pre=n_pre,
                        n_post=n_post,
                        restriction=restriction,
                        grid=grid,
                        l_vec=l_vec,
                        alpha=1 - settings.level,
                    )
                    tag = {"outcome": outcome, "fit": record["fit"], "restriction": restriction}
                    tag.update(method=RESTRICTIONS[restriction][1], target=target)
                    rows += [{**tag, **r, "conditional": True} for r in _records(table)]
                    breakdowns.append(_breakdown_record(tag, table, value, max(grid)))
    return rows, breakdowns, inputs


def _breakdown_record(
    tag: dict[str, Any], table: pd.DataFrame, value: float, grid_end: float
) -> dict[str, Any]:
    """``value`` is the breakdown; ``beyond_grid`` when the interval never includes 0.

    ``direction`` is the side of 0 the interval at parameter 0 (exact parallel trends
    beyond the pre-period) lies on, None when it includes 0 (``value`` 0).
    """
    beyond = math.isinf(value)
    at_zero = table.loc[table["parameter"] == 0.0]
    direction = None
    if value > 0 and len(at_zero):
        direction = "increase" if float(at_zero["lower"].iloc[0]) > 0 else "decrease"
    return {
        **tag,
        "direction": direction,
        "value": grid_end if beyond else value,
        "beyond_grid": beyond,
        "grid_end": grid_end,
        "conditional": True,
    }


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"parameter": float(p), "lower": float(lo), "upper": float(hi)}
        for p, lo, hi in table[["parameter", "lower", "upper"]].itertuples(index=False)
    ]


def _window(event_times: np.ndarray, pre: int, post: int) -> tuple[list[int], list[int]]:
    """The contiguous pre (−pre … −2) and post (0 … post) event times present."""
    have = {int(e) for e in event_times}
    pre_used = [e for e in range(-2, -pre - 1, -1) if all(k in have for k in range(e, -1))]
    post_used = [e for e in range(0, post + 1) if all(k in have for k in range(0, e + 1))]
    return sorted(pre_used), post_used


def _study(
    fit: str,
    estimator: str,
    event_time: np.ndarray,
    beta: np.ndarray,
    sigma: np.ndarray,
    settings: AnalysisSettings,
    **facts: Any,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray, int, int]:
    """The input record and (β̂, Σ, n_pre, n_post) over the window's event times."""
    cfg = settings.sensitivity
    assert cfg is not None
    pre, post = _window(event_time, int(cfg["window_pre"]), int(cfg["window_post"]))
    keep = [int(np.flatnonzero(event_time == e)[0]) for e in (*pre, *post)]
    b, s = beta[keep], sigma[np.ix_(keep, keep)]
    rank = covariance_rank(s) if keep else 0
    record: dict[str, Any] = {
        "fit": fit,
        "estimator": estimator,
        **facts,
        "event_times": [*pre, *post],
        "reference_event_time": -1,
        "n_pre": len(pre),
        "n_post": len(post),
        "covariance": "facility_clustered",
        "rank": rank,
        "conditional": True,
    }
    if not pre or not post:
        record["reason"] = "no_pre_period" if not pre else "no_post_period"
    elif rank < len(keep):
        record["reason"] = "covariance_rank_deficient"
    return record, b, s, len(pre), len(post)


def _cs_input(
    panel: pd.DataFrame, variable: str, outcome: str, settings: AnalysisSettings
) -> tuple[dict[str, Any], np.ndarray, np.ndarray, int, int]:
    cfg = settings.sensitivity
    assert cfg is not None
    res = att_gt(
        panel,
        variable,
        **FACILITY_ATT_GT,
        base_period="universal",
        cluster="facility_id",
        bootstrap=None,
        level=settings.level,
    )
    agg = res.aggregate("dynamic", min_e=-int(cfg["window_pre"]), max_e=int(cfg["window_post"]))
    tab = agg.table.iloc[1:]  # the overall row first
    psi = agg.influence
    sigma = psi.T @ psi / psi.shape[0] ** 2
    valid = (tab["event_time"] != -1).to_numpy() & tab["se"].notna().to_numpy()
    return _study(
        f"{outcome}:att_gt:facility:universal",
        "callaway_santanna",
        tab["event_time"].to_numpy(float)[valid],
        tab["estimate"].to_numpy(float)[valid],
        sigma[np.ix_(valid, valid)],
        settings,
        outcome=outcome,
        aggregation="dynamic",
        base_period="universal",
    )


def _event_study_input(
    panel: pd.DataFrame,
    variable: str,
    outcome: str,
    settings: AnalysisSettings,
    res: EstimateResult | None,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray, int, int]:
    # The facility-clustered event study the analysis reports (single_start), fitted
    # here only when the caller has not (``res`` None).
    if res is None:
        res = facility_event_study(
            panel, variable, settings, cluster="facility_id", inference="cluster"
        )[0]
    leads, lags = res.info["leads"], res.info["lags"]
    tab = res.table
    # An end bin pools several event times: never sensitivity input.
    single = ~tab["pooled"].to_numpy(bool)
    return _study(
        f"{outcome}:event_study:facility",
        "event_study",
        tab["event_time"].to_numpy(float)[single],
        tab["estimate"].to_numpy(float)[single],
        res.info["term_vcov"][np.ix_(single, single)],
        settings,
        outcome=outcome,
        aggregation="event_time",
        leads=leads,
        lags=lags,
    )
