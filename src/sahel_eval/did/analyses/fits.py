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


@dataclass
class _Fit:
    rows: pd.DataFrame
    facts: dict[str, Any]


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
