"""Survey recodes on the demo data against the planted truth (data/raw/truth.json).

The demo files are ingested and cleaned once (module fixture); then every
round × area (× arm) × outcome prevalence of the truth must lie in the 95 %
design-based CI for at least 90 % of the cells, and the 2×2 DiD (baseline 2015 vs
each later round, treated vs comparison within the area) must cover the planted
effects for at least 90 % of (programme, outcome, round).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sahel_eval.clean.survey import clean_survey_rounds
from sahel_eval.clean.survey_codes import missing_codes
from sahel_eval.clean.survey_design import suppress_small_cells, weighted_prevalence
from sahel_eval.clean.survey_settings import SurveySettings, programme_districts
from sahel_eval.config import load_config
from sahel_eval.did import did_2x2
from sahel_eval.ingest import ingest_facilities, ingest_programmes, ingest_survey

REPO = Path(__file__).resolve().parents[2]
UNIT_OF = {
    "catastrophic_spending": "households",
    "catastrophic_spending_25": "households",
    "forgone_care_cost": "households",
    "any_insurance": "women",
    "mutual_membership": "women",
    "coverage_amo": "women",
    "coverage_ramed": "women",
    "coverage_none": "women",
    "facility_delivery": "births",
    "skilled_birth_attendance": "births",
    "anc_bp_measured": "births",
    "fever_care": "children",
    "fever_care_24h": "children",
}
COVERAGE = 0.90


@pytest.fixture(scope="module")
def demo(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch_module.chdir(REPO)
    config = copy.deepcopy(load_config(REPO / "config" / "config.yaml"))
    # v133 = 97 is labelled "Incohérent" in the demo files (truth: a don't-know code).
    assert "incohérent" in config["survey"]["missing_labels"]
    facilities = ingest_facilities(config)
    programmes = ingest_programmes(config, facility_ids=facilities["orgunit_uid"])
    settings = SurveySettings.from_config(config, programme_districts(programmes, facilities))
    tables, labels = {}, {}
    for unit in ("households", "women", "births", "children"):
        parts = [
            ingest_survey(config, year=rnd["year"], unit=unit)
            for rnd in config["inputs"]["surveys"]
        ]
        labels[unit] = parts
        tables[unit] = clean_survey_rounds(
            parts, unit=unit, variables=config["survey"]["variables"][unit], settings=settings
        )
    truth = json.loads((REPO / "data" / "raw" / "truth.json").read_text())["surveys"]
    return {"tables": tables, "labels": labels, "truth": truth, "settings": settings}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _for_truth(frame: pd.DataFrame, outcome: str, person_weighted: tuple[str, ...]) -> pd.DataFrame:
    # truth.json names rounds by year and areas by region name; SDG 3.8.2 outcomes are
    # shares of people (the truth weighs households by size × sampling weight).
    out = frame.assign(round=frame["year"], area=frame["area"].str.capitalize())
    return out.assign(weight=out["weight_person"]) if outcome in person_weighted else out


@pytest.fixture(scope="module")
def prevalence(demo: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for outcome, unit in UNIT_OF.items():
        frame = _for_truth(demo["tables"][unit], outcome, demo["settings"].person_weighted)
        rows.append(weighted_prevalence(frame, outcome, by=["round", "area"]).assign(arm="all"))
        rows.append(weighted_prevalence(frame, outcome, by=["round", "area", "arm"]))
    est = pd.concat(rows, ignore_index=True)
    truth = pd.DataFrame(demo["truth"]["prevalence"])
    merged = truth.merge(
        est, on=["round", "area", "arm", "outcome"], how="left", suffixes=("_truth", "")
    )
    merged["covered"] = (merged["prevalence"] >= merged["ci_low"]) & (
        merged["prevalence"] <= merged["ci_high"]
    )
    return merged


def test_missing_codes_match_truth(demo: dict[str, Any]) -> None:
    found: dict[str, set[float]] = {}
    for parts in demo["labels"].values():
        for _, lab in parts:
            for var, codes in missing_codes(
                lab["value_labels"], demo["settings"].missing_words
            ).items():
                found.setdefault(var, set()).update(codes)
    expected = {k: set(map(float, v)) for k, v in demo["truth"]["dont_know_codes"].items()}
    assert found == expected


def test_valid_values_that_look_like_codes_survive(demo: dict[str, Any]) -> None:
    t = demo["tables"]
    where = {"hv009": "households", "shoop": "households", "v133": "women", "v201": "women"}
    for var, values in demo["truth"]["valid_values_that_look_like_codes"].items():
        col = "oop" if var == "shoop" else var
        present = set(t[where[var]][col].dropna().unique())
        assert set(map(float, values)) <= present, var
    assert t["households"]["oop"].max() < 9_999_998


def test_tables_are_harmonised(demo: dict[str, Any]) -> None:
    for unit, frame in demo["tables"].items():
        assert frame["round"].tolist() == sorted(frame["round"])
        assert set(frame["year"]) == {2015, 2018, 2021}
        assert frame.groupby("psu")["round"].nunique().max() == 1, unit
        assert frame["weight"].between(0.3, 2.0).all()
        assert frame[["region", "district", "area", "arm", "programme"]].notna().all().all()
        treated = set(frame.loc[frame["arm"] == "treated", "district"])
        assert treated == {"Bandiagara", "Mopti", "Commune III"}
        assert not {"hhid", "caseid", "shnom", "snom", "stel", "sdob"} & set(frame.columns)


def test_sex_is_read_from_b4(demo: dict[str, Any]) -> None:
    """G18-2: canonical sex of births and children from DHS b4 (1 male, 2 female, as
    survey.codes.sex), every woman of the women's recode female, households none."""
    t = demo["tables"]
    for unit in ("births", "children"):
        raw = pd.concat([frame for frame, _ in demo["labels"][unit]], ignore_index=True)
        raw = raw.sort_values("round", kind="mergesort").reset_index(drop=True)
        expected = raw["b4"].map({1: "male", 2: "female"})
        assert t[unit]["sex"].astype(object).tolist() == expected.tolist(), unit
        share = (t[unit]["sex"] == "male").mean()
        assert 0.48 < share < 0.55, (unit, share)  # 105 boys per 100 girls
    assert (t["women"]["sex"] == "female").all()
    assert t["households"]["sex"].isna().all()


def test_unweighted_n_matches_truth(prevalence: pd.DataFrame) -> None:
    # Same eligible respondents as the generator's definitions, cell by cell.
    assert (prevalence["n"] == prevalence["n_truth"]).all()


def test_truth_prevalence_inside_design_based_ci(prevalence: pd.DataFrame) -> None:
    covered, cells = int(prevalence["covered"].sum()), len(prevalence)
    print(f"\nprevalence: truth inside the 95% CI in {covered} of {cells} cells")
    assert cells == 18 * len(UNIT_OF)
    assert covered >= COVERAGE * cells, prevalence.loc[~prevalence["covered"]].to_string()


def test_korn_graubard_coverage_on_demo(demo: dict[str, Any]) -> None:
    rows = []
    for outcome, unit in UNIT_OF.items():
        frame = _for_truth(demo["tables"][unit], outcome, demo["settings"].person_weighted)
        for by in (["round", "area"], ["round", "area", "arm"]):
            table = weighted_prevalence(frame, outcome, by=by, ci="korn_graubard")
            rows.append(table if "arm" in by else table.assign(arm="all"))
    est = pd.concat(rows, ignore_index=True)
    merged = pd.DataFrame(demo["truth"]["prevalence"]).merge(
        est, on=["round", "area", "arm", "outcome"]
    )
    inside = merged["prevalence"].between(merged["ci_low"], merged["ci_high"])
    print(f"\nprevalence (Korn-Graubard): {int(inside.sum())} of {len(merged)} cells")
    assert inside.mean() >= COVERAGE


def test_suppression_on_demo_cells(prevalence: pd.DataFrame) -> None:
    out = suppress_small_cells(prevalence, k=5)
    assert not out["suppressed"].any()  # demo cells hold 20+ respondents
    assert suppress_small_cells(prevalence, k=int(prevalence["n"].min()) + 1)["suppressed"].any()


def test_did_recovers_planted_effects(demo: dict[str, Any]) -> None:
    rows = []
    for eff in demo["truth"]["effects"]:
        frame = _for_truth(
            demo["tables"][UNIT_OF[eff["outcome"]]],
            eff["outcome"],
            demo["settings"].person_weighted,
        )
        data = frame[
            (frame["area"] == eff["area"]) & frame["year"].isin([eff["baseline"], eff["round"]])
        ]
        data = data.assign(
            post=(data["year"] == eff["round"]).astype(float),
            treat=data["treated"].astype(float),
        )
        fit = did_2x2(
            data,
            eff["outcome"],
            "treat",
            "post",
            weights="weight",
            strata="strata",
            psu="psu",
            inference="design",
        )
        row = fit.table.set_index("inference").loc["design"]
        rows.append(
            {
                **eff,
                "estimate_pp": 100 * row["estimate"],
                "covered": 100 * row["ci_low"] <= eff["att_pp"] <= 100 * row["ci_high"],
            }
        )
    res = pd.DataFrame(rows)
    covered, cells = int(res["covered"].sum()), len(res)
    print(f"\nDiD: truth inside the 95% design-based CI for {covered} of {cells} effects")
    assert cells == 4 * len(UNIT_OF)
    assert covered >= COVERAGE * cells, res.loc[~res["covered"]].to_string()
    # And the estimates are centred on the truth overall (no systematic bias).
    assert abs(np.mean(res["estimate_pp"] - res["att_pp"])) < 3.0
