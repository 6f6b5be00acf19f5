"""Subgroup rows of a survey analysis and the RI test of equal effects (DESIGN §4, §6.1).

Tiny fixture: 8 districts (2 treated), 2 rounds, urban and rural respondents; the
effect is planted per group, so the test must find a gap where one was planted and say
"not shown" (never "no difference") where none was.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
from demo_panels import demo_config

from sahel_eval.config import validate_config
from sahel_eval.did.analyses import (
    AnalysisSettings,
    analysis_document,
    estimates_schema,
    run_analysis,
)
from sahel_eval.did.analyses.subgroup_gap import GAP_VERDICTS
from sahel_eval.did.analyses.subgroups import cluster_wealth_quintile, subgroup_section
from sahel_eval.errors import InputError
from sahel_eval.figures.style import save_svg
from sahel_eval.figures.subgroups import subgroup_forest, subgroup_lines

SPEC = {
    "name": "tiny",
    "area": "a",
    "programme": "P",
    "data": "survey",
    "design": "survey_rounds",
    "estimator": "did2x2",
    "outcomes": ["facility_delivery"],
}
RESIDENCE = {
    "variable": "urban",
    "label": {"fr": "Milieu", "en": "Residence"},
    "groups": [
        {"name": "urban", "values": [True], "label": {"fr": "Urbain", "en": "Urban"}},
        {"name": "rural", "values": [False], "label": {"fr": "Rural", "en": "Rural"}},
    ],
}


def _survey(
    effect: dict[bool, float], treated: tuple[int, ...] = (0, 1), small: int | None = None
) -> pd.DataFrame:
    """Respondents of 8 districts × 2 rounds × urban/rural; ``effect[urban]`` planted in
    the treated districts' later round; ``small``: that district's rural cells have 3."""
    rng = np.random.default_rng(7)
    rows = []
    for d in range(8):
        level = rng.normal(0, 0.1)
        for year in (2015, 2018):
            shock = rng.normal(0, 0.05)
            for urban in (True, False):
                n = 3 if (small == d and not urban) else 12
                tau = effect[urban] if (d in treated and year == 2018) else 0.0
                for i in range(n):
                    rows.append(
                        {
                            "year": year,
                            "area": "a",
                            "district": f"D{d}",
                            "treated": int(d in treated),
                            "psu": f"{year}-{d}-{int(urban)}",
                            "strata": f"{year}-{d}",
                            "weight": 1.0 + 0.1 * (i % 3),
                            "urban": urban,
                            "facility_delivery": 0.4 + level + shock + tau + rng.normal(0, 0.05),
                        }
                    )
    return pd.DataFrame(rows)


def _section(frame: pd.DataFrame, k: int = 5) -> dict[str, Any]:
    settings = AnalysisSettings(
        seed_randomisation=3,
        primary_outcomes={"tiny": ["facility_delivery"]},
        subgroups={"residence": RESIDENCE},
        small_cell_k=k,
    )
    doc = analysis_document(run_analysis(SPEC, {"survey": frame}, settings))
    jsonschema.validate(doc, estimates_schema(), cls=jsonschema.Draft202012Validator)
    return doc["subgroups"]


def _assignment_rows(section: dict[str, Any]) -> pd.DataFrame:
    rows = pd.DataFrame(section["estimates"])
    return rows[rows["inference"] == "randomization"].set_index("group_name")


def test_planted_gap_is_shown_and_inside_the_interval() -> None:
    section = _section(_survey({True: 0.6, False: 0.0}))
    (test,) = section["tests"]
    assert test["verdict"] == "difference_shown"
    assert test["p_min"] == pytest.approx(1 / 28) and test["p"] == pytest.approx(1 / 28)
    assert test["confidence_attained"] == pytest.approx(0.964)
    assert test["ci_low"] < 0.6 < test["ci_high"] and test["ci_low"] > 0
    rows = _assignment_rows(section)
    # Each group's row has the headline's inference, p_min and verdict labels.
    assert rows.loc["urban", "verdict"] == "increase_shown"
    assert rows.loc["urban", "ci_low"] < 0.6 < rows.loc["urban", "ci_high"]
    assert rows.loc["rural", "ci_low"] < 0 < rows.loc["rural", "ci_high"]
    assert rows["p_min"].tolist() == pytest.approx([1 / 28, 1 / 28])
    assert set(rows["family"]) == {"exploratory"} and not rows["headline"].any()


def test_equal_effects_are_not_shown_never_no_difference() -> None:
    (test,) = _section(_survey({True: 0.3, False: 0.3}))["tests"]
    assert test["verdict"] == "not_shown" and "no_difference" not in GAP_VERDICTS
    assert test["ci_low"] < 0 < test["ci_high"]


def test_one_treated_district_prints_no_p_or_interval() -> None:
    (test,) = _section(_survey({True: 0.6, False: 0.0}, treated=(0,)))["tests"]
    assert test["verdict"] == "not_informative" and test["reason"] == "one_treated_district"
    assert test["estimate"] is not None
    assert test["p"] is None and test["ci_low"] is None and test["ci_high"] is None


def test_small_cells_leave_the_gap_test_and_suppress_rows() -> None:
    section = _section(_survey({True: 0.6, False: 0.0}, small=5))
    (test,) = section["tests"]
    assert test["districts_dropped"] == ["D5"] and test["districts"] == 7
    assert test["p_min"] == pytest.approx(1 / 21)
    big = _section(_survey({True: 0.6, False: 0.0}), k=30)
    rows = pd.DataFrame(big["estimates"])
    assert rows["suppressed"].all() and rows["estimate"].isna().all()
    assert set(rows["smallest_cell"]) == {12 * 2}  # 2 treated districts × 12
    assert big["tests"][0]["verdict"] == "not_informative"


def test_cluster_wealth_is_the_weighted_median_of_its_households() -> None:
    households = pd.DataFrame(
        {
            "psu": ["1-1"] * 3 + ["1-2"] * 2,
            "wealth_quintile": [1.0, 2.0, 5.0, 4.0, np.nan],
            "weight": [0.2, 0.2, 0.6, 1.0, 5.0],
        }
    )
    # 1-1: cumulative shares 0.2, 0.4, 1.0 → 5; 1-2: the missing household does not count.
    assert cluster_wealth_quintile(households).to_dict() == {"1-1": 5.0, "1-2": 4.0}


@pytest.mark.parametrize(
    ("variable", "words"),
    [
        ("mutual_membership", "scheme membership"),
        ("v481a", "scheme membership"),
        ("consumption", "after the start"),
        ("wealth_quintile", "cluster_wealth_quintile"),
        ("facility_delivery", "outcome"),
        ("district", "not a subgroup variable"),
    ],
)
def test_config_refuses_subgroups_the_programme_can_move(variable: str, words: str) -> None:
    config = copy.deepcopy(demo_config())
    config["did"]["subgroups"] = {"s": dict(RESIDENCE, variable=variable)}
    with pytest.raises(InputError) as err:
        validate_config(config)
    assert "did.subgroups.s.variable" in str(err.value) and words in str(err.value)


SEX = {
    "variable": "sex",
    "label": {"fr": "Sexe de l’enfant", "en": "Sex of the child"},
    "groups": [
        {"name": "girls", "values": ["female"], "label": {"fr": "Filles", "en": "Girls"}},
        {"name": "boys", "values": ["male"], "label": {"fr": "Garçons", "en": "Boys"}},
    ],
}


def test_config_refuses_a_subgroup_absent_from_a_primary_outcomes_table() -> None:
    """G18-2: the demo's survey analyses have a women's primary outcome
    (mutual_membership): a sex split of it has one group, refused by the config check
    (InputError naming the key and the rule), as is sex where the births table names no
    sex item; with births and children outcomes only, sex passes."""
    config = copy.deepcopy(demo_config())
    config["did"]["subgroups"] = {"sex": SEX}
    with pytest.raises(InputError) as err:
        validate_config(copy.deepcopy(config))
    message = str(err.value)
    assert "did.subgroups.sex.variable" in message
    assert "subgroup_variable_in_unit" in message
    assert "'mutual_membership' (women)" in message and "one group" in message
    assert "'facility_delivery'" not in message  # births carry b4: no problem there
    for name in ("mopti_survey", "bamako_survey"):
        config["reporting"]["primary_outcomes"][name] = ["facility_delivery", "fever_care"]
    validate_config(copy.deepcopy(config))
    config["survey"]["variables"]["births"]["sex"] = None
    with pytest.raises(InputError) as err:
        validate_config(copy.deepcopy(config))
    assert "survey.variables.births.sex" in str(err.value)
    assert "'fever_care'" not in str(err.value)


def test_sex_subgroup_runs_on_the_demo_tables(demo_run) -> None:
    """G18-2 end to end on the pipeline's clean survey tables (sex from DHS b4): girls'
    and boys' rows with the headline's assignment-level inference, and the equality
    test. Nothing differs by sex in the demo (truth.json plants no sex gap), so every
    test with an interval holds 0."""
    config = copy.deepcopy(demo_config())
    config["did"]["subgroups"] = {"sex": SEX}
    for name in ("mopti_survey", "bamako_survey"):
        config["reporting"]["primary_outcomes"][name] = ["facility_delivery", "fever_care"]
    config = validate_config(config)
    data = {
        u: pd.read_parquet(demo_run / "results" / "clean" / f"survey_{u}.parquet")
        for u in ("households", "women", "births", "children")
    }
    assert set(data["births"]["sex"].dropna()) == {"female", "male"}
    assert (data["women"]["sex"] == "female").all() and data["households"]["sex"].isna().all()
    settings = AnalysisSettings.from_config(config)
    spec = next(a for a in config["analyses"] if a["name"] == "mopti_survey")
    section = subgroup_section(spec, data, settings)
    rows = pd.DataFrame(section["estimates"])
    ri = rows[(rows["inference"] == "randomization") & ~rows["suppressed"].astype(bool)]
    assert set(ri["group_name"]) == {"girls", "boys"}
    assert set(ri["outcome"]) == {"facility_delivery", "fever_care"}
    assert len(ri) == 2 * 2 * 2  # outcomes × later rounds × groups
    assert np.allclose(ri["p_min"], 1 / 28) and ri["ci_low"].notna().all()
    assert len(section["tests"]) == 4
    for test in section["tests"]:
        assert test["groups"] == ["girls", "boys"] and test["districts"] == 8
        assert test["verdict"] in GAP_VERDICTS and test["p_min"] == pytest.approx(1 / 28)
        assert test["ci_low"] < 0 < test["ci_high"], test


def test_forest_figure_is_deterministic_in_both_languages(tmp_path) -> None:
    section = _section(_survey({True: 0.6, False: 0.0}, small=5))
    section["estimates"][0] |= {"suppressed": True, "estimate": None}  # a masked cell
    lines = subgroup_lines(section, "facility_delivery", "fr")
    assert [line["kind"] for line in lines] == ["header", "group", "group", "gap"]
    gap = lines[-1]
    test = section["tests"][0]
    assert gap["estimate"] == pytest.approx(100 * test["estimate"])
    assert "différence démontrée" in gap["label"]
    groups = [line for line in lines if line["kind"] == "group"]
    assert [line["estimate"] is None for line in groups].count(True) == 1
    assert any("masqué" in line["label"] for line in groups)
    for lang, words in (("fr", "Écart"), ("en", "Gap")):
        paths = [tmp_path / f"{lang}{i}" / "did_tiny_subgroups.svg" for i in (1, 2)]
        for path in paths:
            path.parent.mkdir()
            save_svg(subgroup_forest(section, "facility_delivery", lang=lang), path)
        assert paths[0].read_bytes() == paths[1].read_bytes()
        assert words in paths[0].read_text("utf-8")
