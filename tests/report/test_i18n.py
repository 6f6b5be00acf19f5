"""The catalogue is complete, French and English differ, and gaps fail loudly."""

import re
from dataclasses import dataclass, field

import pytest

from sahel_eval.report.inventory import INPUT_KINDS
from sahel_eval.text import i18n
from sahel_eval.text.formatting import LANGS

# Keys whose French and English texts may be identical: proper nouns and acronyms only.
SAME_IN_BOTH = frozenset(
    {
        "summary.col.facility",
        "glossary.cscom.term",
        "glossary.twfe.term",
        "glossary.callaway_santanna.term",
        "tech.imputation.estimator.callaway_santanna",  # a proper name
        "summary.col.district",  # "District" in both
        "glossary.schemes.term",  # AMV, AMO, RAMED: the schemes' own acronyms
        "methods.value.seeds.bootstrap",  # the same word in both languages
        "methods.value.seeds.randomisation",
        "summary.timeline.crises",  # "Crises" in both
        "summary.action.evaluate_more.sep",  # a comma in both
        "summary.answer.sep",  # a comma in both
        # Glossary terms that are names or acronyms in both languages.
        "glossary.att_gt.term",
        "glossary.hc1.term",
        "glossary.crv1.term",
        "glossary.korn_graubard.term",
        "glossary.fieller.term",
        "glossary.conley_taber.term",
        "glossary.bootstrap.term",
        "tech.imputation.horizons.col.cs",  # CS: Callaway–Sant'Anna's acronym
        "tech.imputation.horizons.col.imputation",  # "Imputation" in both
    }
)

WARNING_CODES = ("few_treated_clusters", "single_treated_cluster", "not_informative", "small_group")
SECTIONS = ("data_inventory", "provenance", "methods", "limitations", "synthetic_notice")


def test_every_key_has_every_language():
    assert i18n.missing_translations() == []
    for key, entry in i18n.load_catalogue().items():
        assert set(entry) == set(LANGS), key


def test_french_differs_from_english():
    same = [k for k, e in i18n.load_catalogue().items() if e["fr"] == e["en"]]
    assert sorted(set(same) - SAME_IN_BOTH) == []


def test_placeholders_match_between_languages():
    field = re.compile(r"\{(\w+)(?::\w+)?\}")
    for key, entry in i18n.load_catalogue().items():
        assert set(field.findall(entry["fr"])) == set(field.findall(entry["en"])), key


def test_seeded_keys_present():
    cat = i18n.load_catalogue()
    for code in WARNING_CODES:
        assert f"warning.{code}" in cat
    for section in SECTIONS:
        assert f"section.{section}" in cat
    for kind in INPUT_KINDS:
        assert f"kind.{kind}" in cat


def test_missing_key_raises_naming_it():
    with pytest.raises(i18n.TranslationError, match="no.such.key"):
        i18n.translate("no.such.key", "fr")


def test_missing_language_raises_naming_key():
    cat = {"only.french": {"fr": "Bonjour"}}
    assert i18n.translate("only.french", "fr", catalogue=cat) == "Bonjour"
    with pytest.raises(i18n.TranslationError, match="only.french.*'en'"):
        i18n.translate("only.french", "en", catalogue=cat)


def test_missing_parameter_raises():
    with pytest.raises(i18n.TranslationError, match="treated"):
        i18n.translate_warning("few_treated_clusters", "fr", {"g": 12})


def test_warning_sentences_format_numbers_per_language():
    fr = i18n.translate_warning("few_treated_clusters", "fr", {"g": 1234, "treated": 3})
    en = i18n.translate_warning("few_treated_clusters", "en", {"g": 1234, "treated": 3})
    assert "3 sur 1\u202f234" in fr
    assert "3 of 1,234" in en
    # A group label is text: a cohort year must not gain a thousands separator.
    assert "2019" in i18n.translate_warning("small_group", "fr", {"group": 2019, "n_units": 4})


@dataclass(frozen=True)
class _WarningCode:
    """Same shape as sahel_eval.did.results.WarningCode, without importing the DiD code."""

    code: str
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"code": self.code, "params": dict(self.params)}


def test_warning_accepts_result_objects():
    w = _WarningCode("few_treated_clusters", {"g": 20, "treated": 2})
    assert i18n.translate_warning(w, "en") == i18n.translate_warning(w.to_dict(), "en")
    assert i18n.translate_warning("single_treated_cluster", "fr").startswith("Une seule")


@pytest.mark.parametrize(
    "key",
    [
        "n.closures",
        "n.tests_computed",
        "n.tests_rejecting",
        "n.not_computable",
        "n.tests_impossible",
        "n.conditional_rejecting",
        "n.rejections",
        "dq.summary.inactive",
        "summary.support.closed",
        "summary.action.evaluate_more",
        "summary.action.evaluate_more.effects",
        "summary.action.evaluate_more.shocks",
    ],
)
def test_counted_nouns_agree_by_babel(key):
    """Issue 20, G10: a count before a noun takes Babel's plural form: French "0 fermeture",
    "1 fermeture", "2 fermetures" (one covers 0 and 1), English "1 closure", "0 closures"."""
    cat = i18n.load_catalogue()
    assert {f"{key}.one", f"{key}.other"} <= set(cat)
    params = {"total": 48, "months": 3, "unit": "cercles", "parts": "x"}
    fr = {n: i18n.translate_plural(key, n, "fr", params) for n in (0, 1, 2)}
    en = {n: i18n.translate_plural(key, n, "en", params) for n in (0, 1, 2)}
    assert fr[0].replace("0", "1", 1) == fr[1] != fr[2].replace("2", "1", 1)
    if key != "n.not_computable":  # the same in English whatever the count
        assert en[0].replace("0", "2", 1) == en[2] != en[1].replace("1", "2", 1)
