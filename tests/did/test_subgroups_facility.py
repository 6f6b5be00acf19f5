"""Facility analyses split by the CSCOM's residence (issue 18, audit G18-1; DESIGN §4).

A tiny panel (8 districts, 2 treated, 2 urban and 3 rural CSCOMs each, one start date)
plants an effect per group, so the per-group rows and the RI test on the within-district
urban-minus-rural gap must find a planted gap and say "not shown" where none was; then
the demo: the panels carry ``facility_urban``, Bamako (all urban) is refused, and the
Mopti split runs with the headline's assignments.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
from demo_panels import demo_config, demo_run

from sahel_eval.config import validate_config
from sahel_eval.config_subgroups import subgroups_for
from sahel_eval.did.analyses import (
    AnalysisSettings,
    analysis_document,
    estimates_schema,
    run_analysis,
)
from sahel_eval.did.analyses.facility_subgroups import facility_subgroup_section
from sahel_eval.errors import InputError
from sahel_eval.figures.style import save_svg
from sahel_eval.figures.subgroups import subgroup_forest, subgroup_lines
from sahel_eval.ingest import check_inputs
from sahel_eval.ingest.crosscheck import check_facility_subgroups

SPEC = {
    "name": "tiny_facility",
    "area": "a",
    "programme": "P",
    "data": "facility",
    "design": "single_start",
    "estimator": "event_study",
    "outcomes": ["consultations_all"],
}
CSCOM_RESIDENCE = {
    "variable": "facility_urban",
    "label": {"fr": "Milieu du CSCOM", "en": "CSCOM setting"},
    "groups": [
        {"name": "urban", "values": [True], "label": {"fr": "CSCOM urbain", "en": "Urban CSCOM"}},
        {"name": "rural", "values": [False], "label": {"fr": "CSCOM rural", "en": "Rural CSCOM"}},
    ],
}


def _panel(effect: dict[bool, float]) -> pd.DataFrame:
    """8 districts × (2 urban + 3 rural CSCOMs) × 24 months; districts 0 and 1 start
    at t = 13; ``effect[urban]`` is added from then on, with district-month shocks."""
    rng = np.random.default_rng(11)
    rows = []
    for d in range(8):
        shock = rng.normal(0, 0.3, 24)
        for f in range(5):
            urban = f < 2
            level = 20 + 5 * urban + rng.normal(0, 2)
            for t in range(1, 25):
                treated = d < 2 and t >= 13
                y = level + 0.05 * t + shock[t - 1] + rng.normal(0, 0.5)
                rows.append(
                    {
                        "facility_id": f"F{d}{f}",
                        "district": f"D{d}",
                        "facility_urban": urban,
                        "t": t,
                        "month": f"{2019 + (t - 1) // 12}{(t - 1) % 12 + 1:02d}",
                        "consultations_all_per_1000": y + (effect[urban] if treated else 0.0),
                        "group": 13 if d < 2 else 0,
                        "end_t": 0,
                        "reported": True,
                    }
                )
    panel = pd.DataFrame(rows)
    panel["facility_urban"] = panel["facility_urban"].astype("boolean")
    return panel


def _settings(**kw: Any) -> AnalysisSettings:
    return AnalysisSettings(
        level=0.95,
        seed_randomisation=3,
        primary_outcomes={SPEC["name"]: ["consultations_all"]},
        subgroups={"cscom_residence": CSCOM_RESIDENCE},
        **kw,
    )


def _ri_rows(section: dict[str, Any]) -> pd.DataFrame:
    rows = pd.DataFrame(section["estimates"])
    return rows[rows["inference"] == "randomization"].set_index("group_name")


def test_planted_gap_is_shown_with_the_headline_assignments() -> None:
    section = facility_subgroup_section(SPEC, _panel({True: 3.0, False: 0.0}), _settings())
    ri = _ri_rows(section)
    assert set(ri.index) == {"urban", "rural"}
    assert ri.loc["urban", "estimate"] == pytest.approx(3.0, abs=0.6)
    assert abs(ri.loc["rural", "estimate"]) < 0.6
    assert np.allclose(ri["p_min"], 1 / 28) and (ri["family"] == "exploratory").all()
    assert ri.loc["urban", "verdict"] == "increase_shown"
    assert ri.loc["urban", "smallest_cell"] == 4  # 2 treated districts × 2 urban CSCOMs
    (test,) = section["tests"]
    assert test["groups"] == ["urban", "rural"] and test["districts"] == 8
    assert test["p_min"] == pytest.approx(1 / 28) and test["verdict"] == "difference_shown"
    assert test["ci_low"] < 3.0 < test["ci_high"] and test["ci_low"] > 0
    assert (test["baseline"], test["round"]) == (201901, 202001)
    assert section["unit"] == "per_1000" and section["post_from"] == "202001"


def test_equal_effects_are_not_shown_never_no_difference() -> None:
    section = facility_subgroup_section(SPEC, _panel({True: 2.0, False: 2.0}), _settings())
    (test,) = section["tests"]
    assert test["verdict"] == "not_shown" and test["ci_low"] < 0 < test["ci_high"]


def test_too_few_cscoms_in_an_arm_suppress_the_group() -> None:
    section = facility_subgroup_section(
        SPEC, _panel({True: 3.0, False: 0.0}), _settings(subgroup_min_facilities=5)
    )
    rows = pd.DataFrame(section["estimates"])
    urban = rows[rows["group_name"] == "urban"]
    assert len(urban) == 1 and bool(urban["suppressed"].iloc[0])
    assert urban["estimate"].isna().all() and int(urban["smallest_cell"].iloc[0]) == 4
    assert not rows.loc[rows["group_name"] == "rural", "suppressed"].astype(bool).any()


def test_section_goes_into_the_document_and_passes_the_schema() -> None:
    spec = dict(SPEC, outcomes=["consultations_all"])
    out = run_analysis(spec, _panel({True: 3.0, False: 0.0}), _settings(wild_draws=99))
    doc = analysis_document(out)
    assert doc["subgroups"]["tests"][0]["verdict"] == "difference_shown"
    jsonschema.validate(doc, estimates_schema())


def test_forest_figure_reads_rates_and_says_not_estimable(tmp_path) -> None:
    section = facility_subgroup_section(SPEC, _panel({True: 3.0, False: 0.0}), _settings())
    rural = next(r for r in section["estimates"] if r["group_name"] == "rural")
    rural |= {"not_estimable": True, "estimate": None, "ci_low": None, "ci_high": None}
    lines = subgroup_lines(section, "consultations_all", "fr")
    assert [line["kind"] for line in lines] == ["header", "group", "group", "gap"]
    assert lines[-1]["estimate"] == pytest.approx(section["tests"][0]["estimate"])  # not × 100
    assert "non estimable" in lines[2]["label"] and lines[2]["estimate"] is None
    for lang, words in (("fr", "depuis janvier 2020"), ("en", "since January 2020")):
        paths = [tmp_path / f"{lang}{i}" / "did_tiny_subgroups.svg" for i in (1, 2)]
        for path in paths:
            path.parent.mkdir()
            save_svg(subgroup_forest(section, "consultations_all", lang=lang), path)
        assert paths[0].read_bytes() == paths[1].read_bytes()
        assert words in paths[0].read_text("utf-8")


# --- the demo ------------------------------------------------------------------------


def _demo_config(**sub: Any) -> dict:
    config = copy.deepcopy(demo_config())
    config["did"]["subgroups"] = {"cscom_residence": dict(CSCOM_RESIDENCE, **sub)}
    return config


def test_demo_panels_carry_the_cscom_residence() -> None:
    panels = demo_run().panels
    mopti = panels["mopti"].drop_duplicates("facility_id")
    urban = mopti[mopti["facility_urban"].astype(bool)]
    assert len(urban) == 8 and urban["district"].nunique() == 8
    assert int((urban["group"] > 0).sum()) == 2
    assert panels["bamako"]["facility_urban"].astype(bool).all()


def test_an_all_urban_area_is_refused_by_name() -> None:
    """Bamako's CSCOMs are all urban: a split of its analysis is refused by the config
    check against the facility list and by the estimate stage, naming key and rule."""
    config = _demo_config()  # every facility analysis, Bamako's included
    facilities = demo_run().facilities
    with pytest.raises(InputError) as err:
        check_facility_subgroups(config, facilities)
    message = str(err.value)
    assert "did.subgroups.cscom_residence.groups" in message
    assert "facility_subgroup_both_groups" in message
    assert "bamako_event_study" in message and "'rural'" in message
    assert "mopti_staggered" not in message
    check_facility_subgroups(_demo_config(analyses=["mopti_staggered"]), facilities)
    errors = check_inputs(config)  # what `make check` runs
    assert any("facility_subgroup_both_groups" in str(e) for e in errors)
    settings = AnalysisSettings.from_config(validate_config(config))
    spec = next(a for a in config["analyses"] if a["name"] == "bamako_event_study")
    with pytest.raises(InputError, match="facility_subgroup_both_groups"):
        facility_subgroup_section(spec, demo_run().panels["bamako"], settings)


def test_a_facility_subgroup_splits_facility_analyses_only() -> None:
    config = validate_config(_demo_config(analyses=["mopti_staggered"]))
    named = {a["name"]: subgroups_for(a, config["did"]["subgroups"]) for a in config["analyses"]}
    assert {n for n, s in named.items() if s} == {"mopti_staggered"}
    with pytest.raises(InputError) as err:
        validate_config(_demo_config(analyses=["mopti_survey"]))
    assert "did.subgroups.cscom_residence.analyses" in str(err.value)
    assert "subgroup_analysis_data" in str(err.value)


def test_demo_mopti_split_by_cscom_residence() -> None:
    """The demo's Mopti split: the rural CSCOMs' CS overall effect with the headline's 28
    assignments; the urban group (one treated CSCOM in each of two cercles, one cohort)
    misses months CS needs, so it says not estimable; the gap test loses Bankass and
    Ténenkou, whose urban CSCOMs opened after the start, so 15 assignments leave
    p_min = 1/15 > 5 %: not informative."""
    config = validate_config(_demo_config(analyses=["mopti_staggered"]))
    settings = AnalysisSettings.from_config(config)
    spec = next(a for a in config["analyses"] if a["name"] == "mopti_staggered")
    section = facility_subgroup_section(spec, demo_run().panels["mopti"], settings)
    rows = pd.DataFrame(section["estimates"])
    assert set(rows["outcome"]) == set(config["reporting"]["primary_outcomes"]["mopti_staggered"])
    rural = rows[(rows["group_name"] == "rural") & (rows["inference"] == "randomization")]
    assert len(rural) == 2 and np.allclose(rural["p_min"], 1 / 28)
    assert (rural["estimate"] > 0).all() and rural["ci_low"].notna().all()
    urban = rows[rows["group_name"] == "urban"]
    assert urban["not_estimable"].all() and urban["estimate"].isna().all()
    for test in section["tests"]:
        assert test["districts"] == 6 and test["districts_dropped"] == ["Bankass", "Ténenkou"]
        assert test["p_min"] == pytest.approx(1 / 15) and test["verdict"] == "not_informative"
        assert test["p"] is None and test["ci_low"] is None
