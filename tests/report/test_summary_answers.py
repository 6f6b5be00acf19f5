"""Issue 20, what was left (G5, G14, a district health officer's reading): the summary
opens with one answer per question and its certainty in words; the brief draws the
trends; one word for the assignment unit; a verdict said once when it holds for every
result; mutual actions with each KPI's value and threshold; one rounding per list;
warnings every outcome shares said once in the technical report."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from report_pages import AREAS, LANGS, area_summary, element, page, text

from sahel_eval.report.summary import _attained_common, _verdict_once, one_rounding, shown
from sahel_eval.report.summary_answers import answers
from sahel_eval.report.technical import shared_warnings
from sahel_eval.text.i18n import load_catalogue

QUESTIONS = ("care", "shocks", "mutuals", "data")


# --- units ------------------------------------------------------------------------------


def _effect(outcome: str, verdict: str, **kw: object) -> dict:
    return {"outcome": outcome, "verdict": verdict, "holm_p": None, **kw}


def _config() -> dict:
    return {
        "areas": {"a": {"districts": ["D1", "D2"]}},
        "reporting": {"actions": {"continuity_months": 2}},
        "dq": {"completeness_target": 0.9, "timeliness_target": 0.75},
    }


def _completeness() -> pd.DataFrame:
    # D1 meets both targets over the last two months; D2 misses timeliness (1 of 2).
    return pd.DataFrame(
        {
            "district": ["D1", "D1", "D1", "D2", "D2", "D2"],
            "period": [202301, 202302, 202303] * 2,
            "expected": [1] * 6,
            "reported": [0, 1, 1, 0, 1, 1],
            "timely": [0, 1, 1, 0, 0, 1],
        }
    )


def _summary(cards: list[dict], shocks: list[dict] | None = None) -> dict:
    return {
        "languages": list(LANGS),
        "cards": cards,
        "survey_effects": [],
        "shocks": shocks or [],
        "kpi": {"mutuals": [], "alarms": []},
    }


def _answers(summary: dict) -> dict:
    """The answers of area ``a`` with the test config and completeness table."""
    return answers(
        summary, area="a", config=_config(), completeness_district=_completeness(), show=shown
    )


def test_care_answer_counts_verdicts_and_holm():
    cards = [
        _effect("a", "increase_shown"),
        _effect("b", "increase_shown", holm_p=0.2),  # shown alone, not after Holm
        _effect("c", "not_shown"),
    ]
    got = _answers(_summary(cards))
    assert got["care"] == {
        "certainty": "shown",
        "n": 3,
        "shown": ["a"],
        "all": False,
        "direction": "increase",
    }
    unclear = [_effect(o, "not_informative") for o in "ab"]
    got = _answers(_summary(unclear))
    assert got["care"]["certainty"] == "not_informative"
    assert got["mutuals"] is None and got["shocks"] is None
    mixed = [_effect("a", "not_shown"), _effect("b", "not_informative")]
    got = _answers(_summary(mixed))
    assert got["care"]["certainty"] == "not_shown"


def test_shock_and_data_answers_are_the_stages_numbers():
    shares = {"resilient": 0.2, "recovered": 0.4, "not_recovered": 0.25, "interrupted": 0.05}
    shocks = [
        {"shock_id": "s1", "kind": "strike", "district": None, "onset": "2018-07", "n": 9,
         "comparison": "better", "shares": shares},
        {"shock_id": "s2", "kind": "pandemic", "district": None, "onset": "2020-03", "n": 10,
         "comparison": "cannot_tell", "shares": shares},
        # A later local shock is not the area's last crisis.
        {"shock_id": "s3", "kind": "local", "district": "D1", "onset": "2022-03", "n": 3,
         "comparison": "not_applicable", "shares": shares},
    ]  # fmt: skip
    got = _answers(_summary([], shocks))
    s = got["shocks"]
    assert (s["shock"]["shock_id"], s["n"], s["certainty"]) == ("s2", 10, "not_informative")
    assert (s["held"]["text"]["fr"], s["lost"]["text"]["en"]) == ("60\u00a0%", "30%")
    assert s["held"]["source"].endswith("shock_id=s2:resilient+recovered")
    d = got["data"]
    # The last two months: 4 of 4 reports arrived, 3 of them on time; D2 misses 75 %.
    assert (d["completeness"]["value"], d["timeliness"]["value"]) == (1.0, 0.75)
    assert (d["below"], d["districts"], d["certainty"]) == (["D2"], 2, "caution")
    assert d["targets"]["timeliness"]["source"] == "config:dq.timeliness_target"


def test_one_rounding_per_list_and_a_level_said_once():
    effects = [{"digits": 0, "ci_digits": 0}, {"digits": 1, "ci_digits": 2}]
    assert [(e["digits"], e["ci_digits"]) for e in one_rounding(effects)] == [(1, 2), (1, 2)]
    level = shown(0.964, "percent", LANGS, 1)
    rows = [{"low": 1, "attained": level}, {"low": 2, "attained": level}]
    assert _attained_common(rows) == level
    other = shown(0.95, "percent", LANGS, 1)
    assert _attained_common([*rows, {"low": 0, "attained": other}]) is None
    assert _verdict_once([{"verdict": "not_informative"}] * 3) == {
        "verdict": "not_informative",
        "n": 3,
    }
    assert _verdict_once([{"verdict": "not_informative"}, {"verdict": "not_shown"}]) is None


def test_warnings_every_outcome_shares_are_said_once():
    few = {"code": "few_treated_clusters", "params": {"treated": 2}}
    own = {"code": "pretrends_rejected", "params": {}}
    blocks = [
        {"analysis": "x", "warnings": [few, own]},
        {"analysis": "x", "warnings": [few]},
        {"analysis": "y", "warnings": [few]},  # one block: nothing to factor out
    ]
    assert shared_warnings(blocks) == {"x": [few]}
    assert [b["warnings"] for b in blocks] == [[own], [], [few]]


# --- the demo run -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(demo_run: Path) -> Path:
    return demo_run


def test_summary_opens_with_one_answer_per_question(run: Path) -> None:
    """G5: in brief and technical report, the summary opens with the four answers, each
    with its certainty in the catalogue's words and the summary's numbers."""
    cat = load_catalogue()
    for area in AREAS:
        s = area_summary(run, area)
        a = s["answers"]
        for kind in ("brief", "technical"):
            for lang in LANGS:
                section = element(page(run, kind, area, lang), "section", "summary")
                block = element(section, "ul", "summary-answers")
                # The answers come first, the effect cards after them.
                assert section.index(block) < section.index('id="summary-effects"')
                items = re.findall(r'<li data-question="(\w+)">(.*?)</li>', block, re.S)
                assert [q for q, _ in items] == list(QUESTIONS), (area, kind, lang)
                said = {q: text(body) for q, body in items}
                for q in QUESTIONS:
                    assert cat[f"summary.question.{q}"][lang] in said[q]
                certainty = {
                    "care": a["care"]["certainty"],
                    "shocks": "observed",
                    "mutuals": a["mutuals"]["certainty"],
                    "data": a["data"]["certainty"],
                }
                for q, c in certainty.items():
                    assert f"answer-c-{c}" in dict(items)[q], (area, q)
                    assert cat[f"summary.certainty.{c}"][lang] in said[q]
                shock = a["shocks"]
                assert shock["held"]["text"][lang] in said["shocks"]
                assert cat[f"brief.compare.{shock['comparison']}"][lang] in said["shocks"]
                d = a["data"]
                for x in (d["completeness"], d["timeliness"], *d["targets"].values()):
                    assert x["text"][lang] in said["data"]
                assert str(a["mutuals"]["alarms"]) in said["mutuals"]


def test_brief_draws_the_trends_figure(run: Path) -> None:
    """G14: the brief's trends section holds the technical report's figure, smaller."""
    for area in AREAS:
        for lang in LANGS:
            brief = element(page(run, "brief", area, lang), "section", "trends")
            fig = element(brief, "figure", "brief-trends")
            svg = re.search(r"<svg\b[^>]*>", fig)
            assert svg and "<text" in fig, (area, lang)
            tech = element(page(run, "technical", area, lang), "section", "trends")
            # The same figure code: the technical figure's title stands in the brief's.
            title = re.search(r"<text[^>]*>([^<]{20,})</text>", tech)
            assert title and title.group(1) in fig, (area, lang)
            width = float(re.search(r'width="([\d.]+)pt"', svg.group(0)).group(1))
            tech_svg = re.search(r"<svg\b[^>]*>", tech).group(0)
            height = float(re.search(r'height="([\d.]+)pt"', svg.group(0)).group(1))
            tech_height = float(re.search(r'height="([\d.]+)pt"', tech_svg).group(1))
            assert height < tech_height and width > 0


def test_french_briefs_name_the_unit_not_zones(run: Path) -> None:
    """One word per role: the assignment unit is the config's (cercles, communes)."""
    for area in AREAS:
        seen = text(page(run, "brief", area, "fr"))
        assert not re.search(r"\bzones?\b", seen, re.I), (
            area,
            re.findall(r".{40}\bzones?\b.{20}", seen),
        )
        # "the catchment area" is the health area of a CSCOM, not the assignment unit.
        assert not re.search(r"\bareas\b", text(page(run, "brief", area, "en"))), area


def test_a_verdict_for_every_result_is_said_once(run: Path) -> None:
    """Bamako: one programme commune, so no result can conclude; the brief says so once
    and lists the values without repeating the verdict or "no reliable range"."""
    cat = load_catalogue()
    once = [a for a in AREAS if area_summary(run, a)["verdict_once"]]
    assert once, "no area of the demo run where every result cannot conclude"
    for area in once:
        s = area_summary(run, area)
        n = len(s["cards"] + s["more_effects"] + s["survey_effects"])
        assert s["verdict_once"]["n"] == n
        for lang in LANGS:
            brief = page(run, "brief", area, lang)
            line = text(element(brief, "p", "verdict-once"))
            assert str(n) in line
            section = element(brief, "section", "summary")
            effects = section.split('id="summary-effects"')[1]
            for words in (cat["brief.verdict.not_informative"][lang], cat["brief.no_range"][lang]):
                assert words not in text(effects), (area, lang, words)
            # Once in the effects, once in the answers and the crisis table at most.
            verdict = cat["brief.verdict.not_informative"][lang]
            assert text(brief).count(verdict) <= 2 + len(s["shocks"]), (area, lang)


def test_mutual_actions_give_value_and_threshold(run: Path) -> None:
    """Each KPI in alarm: its value against the band it fell out of, then an action in
    the infinitive."""
    cat = load_catalogue()
    seen = 0
    for area in AREAS:
        acts = [a for a in area_summary(run, area)["actions"] if a["action"] == "kpi_alarm"]
        for lang in LANGS:
            section = element(page(run, "brief", area, lang), "section", "actions")
            lines = re.findall(r'<li data-kpi="(\w+)">(.*?)</li>', section, re.S)
            evidence = [ev for a in acts for ev in a["evidence"]]
            assert [k for k, _ in lines] == [ev["kpi"] for ev in evidence], (area, lang)
            for (_, body), ev in zip(lines, evidence, strict=True):
                line = text(body)
                assert ev["value"]["text"][lang] in line and ev["edge"]["text"][lang] in line
                side = cat[f"summary.kpi_alarm.{ev['side']}"][lang].split("{edge}")[0]
                assert side.split("{value}")[1].strip() in line
                seen += 1
    assert seen, "no mutual KPI in alarm in the demo run"
    for key, entry in cat.items():
        if key.startswith("summary.kpi_action."):
            assert re.match(r"\w+(er|ir|re)\b", entry["fr"]), (key, entry["fr"])


def test_each_list_is_rounded_alike(run: Path) -> None:
    """Within one list of effects, every value has as many decimals as the others."""
    for area in AREAS:
        s = area_summary(run, area)
        for name in ("cards", "more_effects", "survey_effects"):
            for lang in LANGS:
                sep = "," if lang == "fr" else "."
                places = {len(e["value"]["text"][lang].partition(sep)[2]) for e in s[name]}
                assert len(places) <= 1, (area, name, lang, places)
