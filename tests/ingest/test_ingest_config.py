"""Config loading and validation: the shipped config, defaults, bad keys, the README."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from sahel_eval.config import SCHEMA_PATH, load_config, load_schema, validate_config
from sahel_eval.errors import InputError

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "config.yaml"


def shipped() -> dict:
    with open(CONFIG, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_shipped_config_is_valid() -> None:
    config = load_config(CONFIG)
    assert config["synthetic"] is True
    assert config["reporting"]["languages"] == ["fr", "en"]
    assert config["dq"]["timeliness_deadline_day"] == 15
    assert config["privacy"]["salt_env"] == "SAHEL_EVAL_SALT"


def test_schema_is_draft_2020_12() -> None:
    assert load_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_defaults_are_filled_for_omitted_sections() -> None:
    minimal = {
        k: v
        for k, v in shipped().items()
        if k in {"config_version", "inputs", "dhis2", "survey", "programmes", "analyses"}
    }
    # reporting.primary_outcomes (pre-specified per analysis) has no default either.
    minimal["reporting"] = {"primary_outcomes": shipped()["reporting"]["primary_outcomes"]}
    # did.outcomes (smallest effect that matters, good direction) has no default.
    minimal["did"] = {"outcomes": shipped()["did"]["outcomes"]}
    minimal["dq"] = {"outliers": {"seasonal_indicators": []}}
    minimal["resilience"] = {"essential_services": ["anc1"]}
    # Quality-of-care ratios the analyses name are declared (no default ratios).
    minimal["quality_of_care"] = {"ratios": shipped()["quality_of_care"]["ratios"]}
    config = validate_config(minimal)
    assert config["quality_of_care"]["crude_birth_rate"] == 0.042
    assert config["dq"]["outliers"]["sides"] == "one"
    assert config["dq"]["treatment"] == "set_missing"
    assert config["dq"]["completeness_target"] == 0.9
    assert config["dq"]["timeliness_target"] == 0.75
    assert config["shocks"]["local"]["gap_days"] == 90
    assert config["reporting"]["small_cell_k"] == 5
    assert config["synthetic"] is False
    assert config["mutuals"]["columns"]["annee"] == "year"
    assert config["did"]["wild_draws"] == 9999


def test_same_defaults_as_snakemake_validate() -> None:
    snakemake_utils = pytest.importorskip("snakemake.utils")
    ours, theirs = shipped(), shipped()
    for cfg in (ours, theirs):
        for key in ("dq", "shocks", "privacy", "seeds", "mutuals", "resilience"):
            cfg.pop(key)
        # reporting is required for its primary outcomes; its other keys have defaults.
        cfg["reporting"] = {"primary_outcomes": cfg["reporting"]["primary_outcomes"]}
    validate_config(ours)
    snakemake_utils.validate(theirs, str(SCHEMA_PATH))
    assert ours == theirs


@pytest.mark.parametrize(
    ("edit", "key", "rule"),
    [
        (lambda c: c["dq"].__setitem__("colour", 1), "dq.colour", "additionalProperties"),
        (lambda c: c["dq"]["outliers"].__setitem__("sides", "three"), "dq.outliers.sides", "enum"),
        (
            lambda c: c["reporting"].__setitem__("small_cell_k", "5"),
            "reporting.small_cell_k",
            "type",
        ),
        (lambda c: c["inputs"].pop("facilities"), "inputs", "required"),
        (
            lambda c: c["shocks"]["national"][0].__setitem__("start", "March 2020"),
            "shocks.national[0].start",
            "pattern",
        ),
        (
            lambda c: c["analyses"][0]["outcomes"].append("anc_1"),
            "analyses[0].outcomes",
            "known_outcome",
        ),
        (
            lambda c: c["programmes"][0].__setitem__("area", "kayes"),
            "programmes[0].area",
            "known_area",
        ),
        (
            lambda c: c["did"]["spillover_exclude"].append("Djene"),
            "did.spillover_exclude",
            "known_district_or_facility",
        ),
        (
            lambda c: c["quality_of_care"]["ratios"]["anc_retention"].update(numerator="cpn4"),
            "quality_of_care.ratios.anc_retention.numerator",
            "known_indicator",
        ),
        (
            lambda c: c["quality_of_care"]["ratios"].update(
                anc1={"numerator": "anc4", "denominator": "anc1"}
            ),
            "quality_of_care.ratios.anc1",
            "unique_name",
        ),
        (
            lambda c: c["analyses"][0]["outcomes"].append("anc_retension"),
            "analyses[0].outcomes",
            "known_outcome",
        ),
    ],
)
def test_bad_config_names_key_and_rule(edit, key: str, rule: str) -> None:
    config = shipped()
    edit(config)
    with pytest.raises(InputError) as info:
        validate_config(config, source="config/config.yaml")
    message = str(info.value)
    assert "config/config.yaml" in message
    assert f"'{key}'" in message
    assert f"'{rule}'" in message


def test_misspelled_key_gets_a_suggestion() -> None:
    config = shipped()
    config["dq"]["treatmnet"] = config["dq"].pop("treatment")
    with pytest.raises(InputError, match="did you mean 'treatment'"):
        validate_config(config)


def test_yaml_date_must_be_quoted(tmp_path: Path) -> None:
    text = CONFIG.read_text(encoding="utf-8").replace('start: "2020-03-01"', "start: 2020-03-01")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_config(path)
    assert "shocks.national[0].start" in str(info.value)
    assert "quote dates" in str(info.value)


def test_missing_and_broken_config_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file_exists"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match="yaml_syntax"):
        load_config(bad)


def _properties(schema: dict, defs: dict) -> set[str]:
    """Every property name in the schema, $defs included."""
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                names.add(name)
                walk(sub)
            for key, sub in node.items():
                if key != "properties":
                    walk(sub)
        elif isinstance(node, list):
            for sub in node:
                walk(sub)

    walk(schema)
    walk(defs)
    return names


def test_readme_documents_every_key() -> None:
    schema = load_schema()
    readme = (REPO / "config" / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([A-Za-z0-9_.\[\]*]+)`", readme))
    leaves = {d.split(".")[-1].replace("[]", "") for d in documented}
    missing = sorted(_properties(schema, schema.get("$defs", {})) - leaves)
    assert not missing, f"config/README.md does not document: {missing}"


def test_validate_does_not_mutate_schema_defaults() -> None:
    a = validate_config(copy.deepcopy(shipped()))
    a["shocks"]["local"]["gap_days"] = 1
    b = shipped()
    b.pop("shocks")
    assert validate_config(b)["shocks"]["local"]["gap_days"] == 90


@pytest.mark.parametrize(
    ("version", "says"),
    [
        (None, "has no config_version"),
        (2, "older than this code's 3"),
        (4, "newer than this code's 3"),
        ("3", "must be an integer"),
    ],
)
def test_config_version_is_checked_with_an_upgrade_message(version, says) -> None:
    config = shipped()
    if version is None:
        del config["config_version"]
    else:
        config["config_version"] = version
    with pytest.raises(InputError) as err:
        validate_config(config, source="my/config.yaml")
    message = err.value.message
    assert "my/config.yaml" in message and says in message
    assert "config_version: 3" in message or "update sahel-eval" in message


def test_every_analysis_declares_its_primary_outcomes() -> None:
    """reporting.primary_outcomes is required per analysis, among its own outcomes."""
    config = shipped()
    del config["reporting"]["primary_outcomes"]["mopti_survey"]
    config["reporting"]["primary_outcomes"]["mopti_staggered"] = ["deliveries", "nope"]
    with pytest.raises(InputError) as err:
        validate_config(config, source="my/config.yaml")
    message = err.value.message
    assert "reporting.primary_outcomes.mopti_survey" in message
    assert "reporting.primary_outcomes.mopti_staggered" in message and "nope" in message
    config = shipped()
    del config["reporting"]["primary_outcomes"]
    with pytest.raises(InputError, match="primary_outcomes"):
        validate_config(config, source="my/config.yaml")
