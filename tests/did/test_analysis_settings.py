"""AnalysisSettings: read from the validated config by indexing; defaults = the schema's."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sahel_eval.config import load_schema
from sahel_eval.did.analyses import AnalysisSettings
from sahel_eval.did.verdicts import OutcomeSetting

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def test_keyword_defaults_equal_the_schema_defaults() -> None:
    props = load_schema(SCHEMA)["properties"]
    did = props["did"]["properties"]
    s = AnalysisSettings()
    assert s.level == pytest.approx(1 - props["reporting"]["properties"]["test_level"]["default"])
    assert s.bootstrap_draws == did["bootstrap_draws"]["default"]
    assert s.wild_draws == did["wild_draws"]["default"]
    assert s.synthdid_reps == did["synthdid_reps"]["default"]
    assert s.leads == did["leads"]["default"]
    assert s.lags == did["lags"]["default"]
    assert s.balanced_max_gap == did["balanced_max_gap"]["default"]
    assert list(s.spillover_exclude) == did["spillover_exclude"]["default"]
    assert s.spillover_displacement_hosts == did["spillover_displacement_hosts"]["default"]
    assert dict(s.subgroups) == did["subgroups"]["default"]
    assert s.small_cell_k == props["reporting"]["properties"]["small_cell_k"]["default"]
    assert s.subgroup_min_facilities == did["subgroup_min_facilities"]["default"]
    months = props["sustainability"]["properties"]["persistence_months"]["default"]
    assert s.persistence_months == months


def test_from_config_reads_every_key() -> None:
    config = {
        "reporting": {"test_level": 0.1, "primary_outcomes": {"a": ["x"]}, "small_cell_k": 7},
        "seeds": {"bootstrap": 1, "randomisation": 2},
        "did": {
            "bootstrap_draws": 199,
            "wild_draws": 299,
            "synthdid_reps": 50,
            "leads": 3,
            "lags": 4,
            "balanced_max_gap": 5,
            "spillover_exclude": ["Koro"],
            "spillover_displacement_hosts": False,
            "outcomes": {"x": {"smallest_effect": 0.5, "good_direction": "decrease"}},
            "sensitivity": {"window_pre": 4, "window_post": 3, "mbar": [0], "smoothness": [0]},
            "subgroups": {"s": {"variable": "urban"}},
            "subgroup_min_facilities": 3,
        },
        "survey": {"person_weighted": ["catastrophic_spending"]},
        "sustainability": {"persistence_months": 6},
        "quality_of_care": {"ratios": {"r": {"numerator": "a", "denominator": "b"}}},
    }
    s = AnalysisSettings.from_config(config)
    assert s.sensitivity == config["did"]["sensitivity"]
    assert s.outcome_setting("x") == OutcomeSetting(0.5, "decrease")
    assert s.primary_outcomes == {"a": ["x"]}
    with pytest.raises(ValueError, match="did.outcomes"):
        s.outcome_setting("y")
    assert s == AnalysisSettings(
        outcomes={"x": OutcomeSetting(0.5, "decrease")},
        primary_outcomes={"a": ["x"]},
        level=0.9,
        seed_bootstrap=1,
        seed_randomisation=2,
        bootstrap_draws=199,
        wild_draws=299,
        synthdid_reps=50,
        leads=3,
        lags=4,
        balanced_max_gap=5,
        spillover_exclude=("Koro",),
        spillover_displacement_hosts=False,
        person_weighted=("catastrophic_spending",),
        persistence_months=6,
        sensitivity=config["did"]["sensitivity"],
        subgroups={"s": {"variable": "urban"}},
        small_cell_k=7,
        subgroup_min_facilities=3,
        quality_ratios={"r": {"numerator": "a", "denominator": "b"}},
    )


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("did", "wild_draws"),
        ("did", "leads"),
        ("did", "balanced_max_gap"),
        ("did", "spillover_exclude"),
        ("did", "spillover_displacement_hosts"),
        ("did", "outcomes"),
        ("did", "sensitivity"),
        ("did", "subgroups"),
        ("did", "subgroup_min_facilities"),
        ("quality_of_care", "ratios"),
        ("reporting", "primary_outcomes"),
        ("reporting", "small_cell_k"),
        ("seeds", "randomisation"),
        ("reporting", "test_level"),
        ("sustainability", "persistence_months"),
        ("did", None),
    ],
)
def test_from_config_has_no_silent_fallback(section: str, key: str | None) -> None:
    """A missing key (or section) raises KeyError naming it: never a default."""
    config = {
        "reporting": {"test_level": 0.05, "primary_outcomes": {}, "small_cell_k": 5},
        "seeds": {"bootstrap": 1, "randomisation": 2},
        "did": {
            "bootstrap_draws": 999,
            "wild_draws": 9999,
            "synthdid_reps": 200,
            "leads": 12,
            "lags": 48,
            "balanced_max_gap": 2,
            "spillover_exclude": [],
            "spillover_displacement_hosts": True,
            "outcomes": {"x": {"smallest_effect": 1, "good_direction": "increase"}},
            "sensitivity": {"window_pre": 5, "window_post": 5, "mbar": [0], "smoothness": [0]},
            "subgroups": {},
            "subgroup_min_facilities": 2,
        },
        "sustainability": {"persistence_months": 24},
        "survey": {"person_weighted": []},
        "quality_of_care": {"ratios": {}},
    }
    broken = copy.deepcopy(config)
    if key is None:
        del broken[section]
    else:
        del broken[section][key]
    with pytest.raises(KeyError, match=key or section):
        AnalysisSettings.from_config(broken)
