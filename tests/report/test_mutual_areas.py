"""Mutuals are placed in an area by config (mutuals.areas), never by their name."""

import logging

import pytest

from sahel_eval.report.mutual_areas import mutuals_of_area

CONFIG = {
    "areas": {"mopti": {}, "bamako": {}},
    "mutuals": {"areas": {"Mutuelle de Mopti": "mopti", "Mutuelle de la Commune III": "bamako"}},
}


def test_mutuals_placed_by_config_not_by_name():
    names = ["Mutuelle de la Commune III", "Mutuelle de Mopti", "Mutuelle de Bandiagara"]
    assert mutuals_of_area(names, "mopti", CONFIG) == ["Mutuelle de Mopti"]
    assert mutuals_of_area(names, "bamako", CONFIG) == ["Mutuelle de la Commune III"]


def test_unplaced_mutual_shown_nowhere_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="sahel_eval.report.mutual_areas"):
        assert mutuals_of_area(["Mutuelle de Bandiagara"], "mopti", CONFIG) == []
    assert "Mutuelle de Bandiagara" in caplog.text and "mutuals.areas" in caplog.text


def test_unknown_area_raises_naming_config_key():
    bad = {**CONFIG, "mutuals": {"areas": {"M": "gao"}}}
    with pytest.raises(ValueError, match="mutuals.areas.*gao"):
        mutuals_of_area(["M"], "mopti", bad)
