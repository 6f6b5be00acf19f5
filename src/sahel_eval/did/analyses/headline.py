"""Verdicts, attained levels, minimum detectable effects and Holm over primary outcomes.

Run once over an analysis's tidy rows (DESIGN §6.1):

* a row is *assignment level* when it permutes or resamples districts (inference
  ``randomization``, ``wild`` or synthetic DiD's ``placebo``, cluster ``district``);
  every other row is ``conditional`` (on no district-level shocks) and never gets a verdict;
* an assignment-level post-period row gets a ``verdict``
  (:func:`~sahel_eval.did.verdicts.verdict`), its ``confidence_attained`` and, unless
  ``not_informative``, its ``mde`` in the outcome's good direction; a
  ``not_informative`` row has no p and no interval (``p_min`` says why);
* ``family``: ``primary`` for the outcomes of ``reporting.primary_outcomes``,
  ``exploratory`` otherwise; ``p_holm`` is Holm's adjustment over the headline summary
  rows of the primary outcomes (CS overall ATT, static TWFE, each survey round), within
  the analysis. Holm needs only valid p-values (P(p ≤ u) ≤ u), which discrete RI
  p-values are, so the family-wise error stays ≤ α; but with m tests the smallest
  adjusted p is m · p_min (Mopti: 2 × 1/28 = 7.1 % > 5 %), so no primary result of
  such an analysis can be shown after adjustment: :func:`holm_facts` writes that
  number, and the reports say it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.verdicts import holm, mde, verdict

__all__ = ["apply_verdicts", "holm_facts", "primary_outcomes"]

_ASSIGNMENT_INFERENCE = ("randomization", "wild", "placebo")
_SUMMARY_AGGREGATIONS = ("simple", "static")


def primary_outcomes(spec: Mapping[str, Any], settings: AnalysisSettings) -> list[str]:
    """The analysis's primary outcomes (``reporting.primary_outcomes[name]``, required
    by the config check); none without settings (programmatic use)."""
    if settings.primary_outcomes is None:
        return []
    return list(settings.primary_outcomes[spec["name"]])


def apply_verdicts(
    rows: pd.DataFrame, spec: Mapping[str, Any], settings: AnalysisSettings
) -> pd.DataFrame:
    """``rows`` with ``conditional, verdict, confidence_attained, mde, family, p_holm``."""
    out = rows.copy()
    level = settings.level
    assign = out["inference"].isin(_ASSIGNMENT_INFERENCE) & (out["cluster"] == "district")
    out["conditional"] = ~assign
    post = ~(out["event_time"] < 0)
    # Robustness rows (balanced subsample) sit beside a headline and decide nothing.
    judged = assign & post & out["robustness"].isna()
    wild = judged & (out["inference"] == "wild") & out["confidence_attained"].isna()
    out.loc[wild, "confidence_attained"] = level
    verdicts: list[str | None] = [None] * len(out)
    mdes = np.full(len(out), np.nan)
    for pos in np.flatnonzero(judged.to_numpy()):
        r = out.iloc[pos]
        setting = settings.outcome_setting(str(r["outcome"]))
        v = verdict(
            treated=None if pd.isna(r["treated_clusters"]) else int(r["treated_clusters"]),
            p_min=None if pd.isna(r["p_min"]) else float(r["p_min"]),
            level=level,
            ci_low=r["ci_low"],
            ci_high=r["ci_high"],
            smallest_effect=None if setting is None else setting.smallest_effect,
        )
        verdicts[pos] = v
        if v != "not_informative":
            m = mde(
                float(r["estimate"]),
                float(r["ci_low"]),
                float(r["ci_high"]),
                None if setting is None else setting.good_direction,
            )
            mdes[pos] = np.nan if m is None else m
    out["verdict"] = pd.Series(verdicts, index=out.index, dtype=object)
    out["mde"] = mdes
    # No assignment-level p or interval where the level cannot be reached.
    blind = assign & out["verdict"].eq("not_informative")
    blind |= assign & ~post & ~out["informative"].astype(bool)
    out.loc[blind, ["p", "ci_low", "ci_high", "confidence_attained"]] = np.nan
    out.loc[blind, "ci_note"] = None
    primary = set(primary_outcomes(spec, settings))
    out["family"] = np.where(out["outcome"].isin(primary), "primary", "exploratory")
    summary = (
        assign
        & out["headline"].astype(bool)
        & out["outcome"].isin(primary)
        & (out["aggregation"].isin(_SUMMARY_AGGREGATIONS) | (out["estimator"] == "did_2x2"))
        & (out["term"].isin(["overall", "treated"]) | (out["estimator"] == "did_2x2"))
    )
    out["p_holm"] = np.nan
    if summary.any():
        out.loc[summary, "p_holm"] = holm(out.loc[summary, "p"].to_numpy(dtype=float))
    # A shown primary result whose family-wise test does not reject says so beside its
    # verdict (the verdict is the per-test one of the DESIGN table).
    rejected = out["p_holm"] <= round(1 - level, 12)
    out["holm_rejected"] = pd.Series(
        np.where(out["p_holm"].notna(), rejected, None), index=out.index, dtype=object
    )
    return out


def holm_facts(rows: pd.DataFrame, level: float) -> dict[str, Any]:
    """Size of the Holm family and the smallest adjusted p it can reach.

    The family is the rows with a ``p_holm`` slot (finite p) plus the primary summary
    rows that are ``not_informative`` (no p: they cannot reject, and do not count).
    """
    family = rows[rows["p_holm"].notna()]
    m = len(family)
    p_min = float(family["p_min"].min()) if m and family["p_min"].notna().any() else None
    reach = None if p_min is None else min(1.0, m * p_min)
    return {
        "family_size": m,
        "p_min_adjusted": reach,
        "can_reject": None if reach is None else bool(reach <= round(1 - level, 12)),
    }
