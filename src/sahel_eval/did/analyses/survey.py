"""Survey rounds (repeated cross-sections): a weighted 2×2 per later round vs baseline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from sahel_eval.did.analyses.fits import _base_rows, _facts, _Fit, _Label, _Outcome
from sahel_eval.did.analyses.settings import AnalysisSettings
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
