"""One fit of an analysis: its labelled tidy rows and its facts (the JSON ``fits`` entry).

Every design builds its output from these: an :class:`_Outcome` (what the fits of one
outcome share), a :class:`_Label` per fit, :func:`_base_rows` and :func:`_facts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.results import EstimateResult, WarningCode
from sahel_eval.did.verdicts import pretest_verdict


@dataclass
class _Fit:
    rows: pd.DataFrame
    facts: dict[str, Any]
    #: The estimator's own result where a later step reads more of it than the rows
    #: carry (the facility event study's Σ: the sensitivity rows); never written out.
    result: EstimateResult | None = None


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
    # One frame from a dict of columns: inserting them one by one cost more than the fit
    # of a subsample row (pandas' per-column overhead). Scalars broadcast over the rows.
    def column(name: str, dtype: type, default: Any) -> Any:
        return table[name].astype(dtype) if name in table else default

    cols: dict[str, Any] = {"term": table["term"].astype(str)}
    for name in ("group", "time", "event_time", "round"):
        cols[name] = column(name, float, np.nan)
    for name in ("estimate", "se", "ci_low", "ci_high", "p", "band_low", "band_high"):
        cols[name] = column(name, float, np.nan)
    cols["informative"] = column("informative", bool, True)
    cols["p_min"] = column("p_min", float, np.nan)
    cols["ci_note"] = column("ci_note", object, None)
    cols["confidence_attained"] = column("confidence_attained", float, np.nan)
    cols["inference"] = column("inference", str, label.inference)
    cols.update(
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
    return pd.DataFrame(cols, index=table.index)


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
        # Callaway–Sant'Anna's base period ("varying" or "universal"), for the methods.
        "base_period": info.get("base_period"),
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
        "pretest": _pretest_dict(pretest, label.cluster, o.settings.level),
        "warnings": _warning_dicts(warns),
        "note": note,
    }


def _ri_facts(permutations: int, enumerated: bool, **more: Any) -> dict[str, Any]:
    """The ``randomization`` facts of a studentised assignment-level RI fit."""
    return {
        "permutations": permutations,
        "enumerated": enumerated,
        "permuted": "treated_districts",
        "rollout_rule": "sorted_pairing_rank_by_unit_id",
        "statistic": "studentized_t_facility_crv1",
        "ci": "test_inversion_constant_additive_effect",
        **more,
    }


def _pretest_dict(
    pretest: Mapping[str, Any] | None, cluster: str, level: float
) -> dict[str, Any] | None:
    """The pre-test entry of a fit, with its verdict (DESIGN §6.1).

    An entry that already has a verdict (the assignment-level RI pre-tests) is kept.
    A Wald test below the assignment level is marked conditional; one at the assignment
    level whose covariance had full rank is still a CRV1-type test with few treated
    districts, so it sets no verdict (``not_testable``).  ``stat`` is absent when no
    valid statistic exists.
    """
    if not pretest:
        return None
    if "verdict" in pretest:
        return dict(pretest)
    assignment = cluster == "district"
    p = pretest.get("p")
    out: dict[str, Any] = {
        "test": pretest.get("test", "chi2"),
        "stat": pretest.get("stat"),
        "df": pretest.get("df", pretest.get("df1")),
        "df2": pretest.get("df2"),
        "p": p,
        "level": "assignment" if assignment else "facility",
        "conditional": not assignment,
        "rank": pretest.get("rank"),
        "verdict": pretest_verdict(p, None, level),
    }
    if pretest.get("condition_number") is not None:
        out["condition_number"] = pretest["condition_number"]
    if pretest.get("reason"):
        out["reason"] = pretest["reason"]
    if assignment and p is not None:
        out.update(verdict="not_testable", reason="cluster_wald_few_treated", p=None)
        out.pop("stat")
    if out.get("stat") is None:
        out.pop("stat", None)
        out["p"] = None
    return out
