"""Survey rounds (repeated cross-sections): a weighted 2×2 per later round vs baseline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.analyses.fits import _base_rows, _facts, _Fit, _Label, _Outcome
from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.assignment import wild_allowed
from sahel_eval.did.inference.wild import ENUMERATION_MAX_CLUSTERS
from sahel_eval.did.twobytwo import did_2x2


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


def outcome_frame(
    spec: Mapping[str, Any],
    data: Mapping[str, pd.DataFrame],
    outcome: str,
    settings: AnalysisSettings,
) -> tuple[pd.DataFrame, str]:
    """The area's rows of the table holding ``outcome`` and the weight column it uses."""
    table = _survey_table(data, outcome, spec)
    frame = table[table["area"] == spec["area"]]
    if frame.empty:
        raise ValueError(f"analysis {spec['name']!r}: no survey rows for area {spec['area']!r}")
    # SDG 3.8.2 counts people: such outcomes weigh households by size (DESIGN §4).
    weight = "weight_person" if outcome in settings.person_weighted else "weight"
    return frame[frame[weight].notna()], weight


def _survey(
    spec: Mapping[str, Any], data: Mapping[str, pd.DataFrame], settings: AnalysisSettings
) -> list[_Fit]:
    fits: list[_Fit] = []
    for outcome in spec["outcomes"]:
        frame, weight = outcome_frame(spec, data, outcome, settings)
        years = sorted(frame["year"].unique())
        for year in years[1:]:
            fits.append(round_fit(spec, frame, outcome, weight, (years[0], year), settings))
    return fits


def round_fit(
    spec: Mapping[str, Any],
    frame: pd.DataFrame,
    outcome: str,
    weight: str,
    rounds: tuple[Any, Any],
    settings: AnalysisSettings,
) -> _Fit:
    """The 2×2 of ``outcome`` between the baseline and a later round (``rounds``)."""
    baseline, year = rounds
    o = _Outcome(spec, frame, outcome, outcome, settings)
    sub = frame[frame["year"].isin([baseline, year])]
    sub = sub.assign(post=(sub["year"] == year).astype(float), treat=sub["treated"].astype(float))
    g = int(sub["district"].nunique())
    g1 = int(sub.loc[sub["treat"] > 0, "district"].nunique())
    # DESIGN §6.1: studentised RI unless ≥ 5 treated and ≥ 5 control districts.
    method = "wild" if wild_allowed(g1, g - g1) else "randomization"
    common = {
        "weights": weight,
        "strata": "strata",
        "psu": "psu",
        "level": settings.level,
        "bootstrap": settings.wild_draws,
    }
    head = did_2x2(
        sub,
        outcome,
        "treat",
        "post",
        cluster="district",
        inference=method,
        seed=settings.seed_bootstrap if method == "wild" else settings.seed_randomisation,
        wild_weights="webb" if method == "wild" and g <= ENUMERATION_MAX_CLUSTERS else None,
        **common,
    )
    hc1 = did_2x2(sub, outcome, "treat", "post", inference="hc1", **common)
    table = head.table
    if method == "randomization":
        # CRV1 by district with < 5 treated districts is never shown.
        table = table[table["inference"] != "crv1"]
    table_rows = pd.concat(
        [table, hc1.table[hc1.table["inference"] == "hc1"].assign(headline=False)],
        ignore_index=True,
    )
    headline = table_rows["headline"].to_numpy(dtype=bool).copy()
    tag = _Label(f"{outcome}:did_2x2:{year}", "did_2x2", method, "district", True)
    rows = _base_rows(
        o,
        head,
        table_rows.assign(term=f"treated:round_{year}", round=float(year)),
        tag,
        f"{baseline}_vs_{year}",
    )
    rows["headline"] = headline
    # Design-based inference counts PSUs, HC1 rows; neither sees district shocks.
    for kind, level_name, count in (
        ("design", "psu", sub["psu"]),
        ("hc1", "row", pd.Series(np.arange(len(sub)), index=sub.index)),
    ):
        is_kind = rows["inference"] == kind
        rows.loc[is_kind, "cluster"] = level_name
        rows.loc[is_kind, "clusters"] = count.nunique()
        rows.loc[is_kind, "treated_clusters"] = count[sub["treat"] > 0].nunique()
    facts = _facts(o, head, tag)
    info = head.info
    facts.update(
        baseline=int(baseline),
        round=int(year),
        weights=weight,
        design={"strata": "strata", "psu": "psu"},
    )
    if method == "randomization":
        facts["randomization"] = {
            **info["randomization"],
            "permuted": "treated_districts",
            "p_min": info["p_min"],
        }
    return _Fit(rows, facts)
