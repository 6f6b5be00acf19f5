"""One source of numbers (issue 20): the summary stage, its actions and support list,
plurals by Babel, and the reports that render it (brief numbers found in the technical
report, section ids, French without hedges or decimal points)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest

from sahel_eval.report import brief
from sahel_eval.report.summary import _timeline_axis, shown
from sahel_eval.report.summary_actions import (
    actions,
    recent_since,
    support_by_cscom,
    support_list,
)
from sahel_eval.text import i18n

AREAS = ("mopti", "bamako")
LANGS = ("fr", "en")
SECTIONS = ("summary", "actions", "support-list", "timeline", "trends", "provenance")


# --- units ------------------------------------------------------------------------------


def test_plural_follows_babel_rules():
    cat = {"k.one": {"fr": "{n:count} zone", "en": "{n:count} area"}}
    cat["k.other"] = {"fr": "{n:count} zones", "en": "{n:count} areas"}
    # French "one" covers 0 and 1; English 0 is plural.
    assert i18n.translate_plural("k", 0, "fr", catalogue=cat) == "0 zone"
    assert i18n.translate_plural("k", 1, "fr", catalogue=cat) == "1 zone"
    assert i18n.translate_plural("k", 2, "fr", catalogue=cat) == "2 zones"
    assert i18n.translate_plural("k", 0, "en", catalogue=cat) == "0 areas"
    assert i18n.translate_plural("k", 1, "en", catalogue=cat) == "1 area"


def test_shown_rounds_once_per_language():
    n = shown(3.8249, "number", LANGS, 2, sign=True, source="f#r")
    assert n["text"] == {"fr": "+3,82", "en": "+3.82"} and n["source"] == "f#r"
    assert shown(-0.004, "number", LANGS, 2, sign=True)["text"]["en"] in ("−0.00", "0.00")
    assert shown(None, "number", LANGS) is None


def test_timeline_axis_places_items_on_the_reporting_months():
    # 2016-01 .. 2019-12: 48 months; a programme 2016-07 (last start 2017-01) to 2018-06.
    items = [
        {"kind": "programme", "start": "2016-07", "last_start": "2017-01", "end": "2018-06"},
        {"kind": "shock", "start": "2015-03"},  # before the data: pinned to the start
        {"kind": "shock", "start": "2019-12"},
    ]
    axis = _timeline_axis(items, pd.Series([201601, 201912, 201803]))
    assert (axis["from"], axis["to"]) == ("2016-01", "2019-12")
    assert [y["year"] for y in axis["years"]] == [2016, 2017, 2018, 2019]
    assert [y["at"] for y in axis["years"]] == [0.0, 0.25, 0.5, 0.75]
    prog, early, late = items
    assert (prog["at"], prog["full_at"], prog["to"]) == (0.125, 0.25, 0.625)
    assert early["at"] == 0.0 and late["at"] == round(47 / 48, 4)
    # A programme with no end runs to the end of the axis; no months, no axis.
    open_ended = [{"kind": "programme", "start": "2017-01", "last_start": "2017-01", "end": None}]
    assert _timeline_axis(open_ended, pd.Series([201601, 201712]))["years"][-1]["at"] == 0.5
    assert open_ended[0]["to"] == 1.0
    assert _timeline_axis([], pd.Series([], dtype="int64")) is None


def _config() -> dict:
    return {
        "areas": {"a": {"districts": ["D1", "D2"]}},
        "reporting": {
            "actions": {
                "continuity_min": 0.75,
                "continuity_months": 4,
                "support_recent_months": 36,
            }
        },
        "resilience": {"window_months": 12},
        "dq": {"completeness_target": 0.9, "timeliness_target": 0.75},
    }


def test_support_list_worst_first_with_last_month():
    periods = [202301, 202302, 202303, 202304]
    status = pd.DataFrame(
        {
            "facility_id": ["f1"] * 4 + ["f2"] * 4 + ["f3"] * 4,
            "district": ["D1"] * 4 + ["D2"] * 4 + ["X"] * 4,
            "period": periods * 3,
            # f2 reports 2 of 4 months (50 % < 75 %); f3 is outside the area.
            "reported": [True] * 4 + [True, False, True, False] + [False] * 4,
            "timely": [True] * 12,
        }
    )
    indicators = pd.DataFrame(
        {
            "facility_id": ["f1", "f1", "f1"],
            "service": ["anc1", "anc1", "deliveries"],
            "shock_id": ["s1", "s2", "s2"],
            "onset": ["201901", "202003", "202003"],
            "class": ["interrupted", "not_recovered", "resilient"],
        }
    )
    facilities = pd.DataFrame({"facility_id": ["f1", "f2", "f3"], "name": ["A", "B", "C"]})
    rows = support_list("a", _config(), indicators, status, facilities)
    # f1's anc1 row is its latest shock (not recovered after s2), not the older one.
    assert [(r["facility"], r["reason"], r["services"], r["since"]) for r in rows] == [
        ("A", "not_recovered", ["anc1"], "2020-03"),
        ("B", "low_continuity", [], None),
    ]
    assert rows[1]["last_reported"] == "2023-03" and rows[1]["continuity"] == 0.5
    # A shorter recency: s2's window (2020-03 to 2021-02) ends before 2021-05, the first
    # month of the last 24 of the data (to 2023-04); f1 is no longer listed for it.
    short = _config()
    short["reporting"]["actions"]["support_recent_months"] = 24
    assert recent_since(202304, short) == "2021-05"
    fresh = support_list("a", short, indicators, status, facilities)
    assert [(r["facility"], r["reason"]) for r in fresh] == [("B", "low_continuity")]
    short["reporting"]["actions"]["support_recent_months"] = 27  # from 2021-02: s2 counts
    assert [r["facility"] for r in support_list("a", short, indicators, status, facilities)] == [
        "A",
        "B",
    ]
    completeness = status.assign(expected=1).rename(columns={"reported": "r"})
    completeness = completeness.assign(reported=completeness["r"].astype(int), timely=1)
    # The KPI table as the summary stores it: shown values, the config's bands.
    band = {"low": shown(0.75, "percent", LANGS, 0), "high": None}
    kpi = {
        "mutuals": [{"mutual": "M", "year": 2023}],
        "rows": [
            {
                "kpi": "collection",
                "bands": {"good": band, "watch": band},
                "cells": [{"shown": shown(0.2, "percent", LANGS, 0), "status": "alarm"}],
            }
        ],
        "alarms": [{"mutual": "M", "year": 2023, "kpi": "collection", "value": 0.2}],
    }
    unclear = [{"outcome": "y", "verdict": "not_informative"}]
    summary = {"cards": [], "more_effects": [], "survey_effects": unclear}
    acts = {a["action"]: a for a in actions("a", _config(), rows, completeness, kpi, summary)}
    assert set(acts) == {
        "support_cscom",
        "support_reporting",
        "dq_visit",
        "kpi_alarm",
        "evaluate_more",
    }
    assert acts["dq_visit"]["districts"] == ["D2"]
    # A mutual's action gives each KPI's value and the edge of the band it fell out of.
    (ev,) = acts["kpi_alarm"]["evidence"]
    assert (ev["kpi"], ev["side"], ev["value"]["text"]["fr"], ev["edge"]["text"]["fr"]) == (
        "collection",
        "below",
        "20\u00a0%",
        "75\u00a0%",
    )
    # G17: a persistence and a shock comparison that cannot conclude count as well.
    summary = {
        **summary,
        "persistence": {"verdict": "not_informative"},
        "shocks": [
            {"shock_id": "s1", "comparison": "cannot_tell"},
            {"shock_id": "s2", "comparison": "better"},
        ],
    }
    more = {a["action"]: a for a in actions("a", _config(), rows, completeness, kpi, summary)}
    assert (more["evaluate_more"]["n"], more["evaluate_more"]["shocks"]) == (3, 1)
    assert more["evaluate_more"]["persistence"] == 1 and more["evaluate_more"]["shock_ids"] == [
        "s1"
    ]


def test_support_rows_say_when_reports_resumed_and_count_cscoms_once():
    """An interrupted CSCOM names its months without reports and the month they came
    back (not only its last month reported); a CSCOM listed for a crisis and for its
    reports counts once."""
    periods = [202301, 202302, 202303, 202304, 202305, 202306]
    status = pd.DataFrame(
        {
            "facility_id": ["f1"] * 6 + ["f2"] * 6,
            "district": ["D1"] * 6 + ["D2"] * 6,
            "period": periods * 2,
            # f1: no report in 2023-02 and 2023-03, back from 2023-04 (4 of 6 months);
            # f2 stops after 2023-02.
            "reported": [True, False, False, True, True, True]
            + [True, True, False, False, False, False],
        }
    )
    indicators = pd.DataFrame(
        {
            "facility_id": ["f1", "f2"],
            "service": ["anc1", "anc1"],
            "shock_id": ["s1", "s1"],
            "onset": ["202301", "202301"],
            "class": ["interrupted", "interrupted"],
        }
    )
    facilities = pd.DataFrame({"facility_id": ["f1", "f2"], "name": ["A", "B"]})
    config = _config()
    config["reporting"]["actions"]["continuity_months"] = 6
    rows = support_list("a", config, indicators, status, facilities)
    got = {(r["facility"], r["reason"]): (r["gap_from"], r["gap_to"], r["resumed"]) for r in rows}
    assert got[("A", "interrupted")] == ("2023-02", "2023-03", "2023-04")
    assert got[("B", "interrupted")] == ("2023-03", "2023-06", None)
    # Both also report too rarely (4 and 2 of 6 < 75 %): four rows, two CSCOMs.
    assert len(rows) == 4
    cscoms = support_by_cscom(rows)
    assert [(c["facility"], len(c["reasons"])) for c in cscoms] == [("A", 2), ("B", 2)]
    acts = {
        a["action"]: a["n"]
        for a in actions(
            "a",
            config,
            rows,
            status.iloc[:0].assign(expected=0, timely=0),
            {"alarms": []},
            {"cards": [], "more_effects": [], "survey_effects": []},
        )
    }
    assert acts == {"support_cscom": 2, "support_reporting": 2}


def _est(outcome, aggregation, estimator, cluster, headline, estimate, **kw):
    return {
        "outcome": outcome,
        "aggregation": aggregation,
        "estimator": estimator,
        "cluster": cluster,
        "headline": headline,
        "estimate": estimate,
        "ci_low": kw.get("ci_low", 0.1),
        "ci_high": kw.get("ci_high", 0.2),
        "treated_clusters": 1,
        "clusters": 6,
        "verdict": kw.get("verdict"),
        "conditional": cluster != "district",
    }


def test_lead_estimator_leads_and_keeps_the_assignment_verdict():
    # Bamako: the config's lead (Callaway–Sant'Anna) has only a facility-level row; the
    # assignment-level TWFE row is not informative (one treated commune), a property
    # of the design that holds for every estimator. Its interval stays conditional.
    doc = {
        "analysis": {"outcomes": ["y"], "data": "facility", "design": "single_start"},
        "units": {"y": "per_1000_month"},
        "estimates": [
            _est(
                "y",
                "static",
                "twfe",
                "district",
                True,
                4.8,
                verdict="not_informative",
                ci_low=None,
                ci_high=None,
            ),
            _est(
                "y",
                "simple",
                "callaway_santanna",
                "facility_id",
                False,
                3.82,
                ci_low=-1.0,
                ci_high=8.3,
            ),
        ],
    }
    (e,) = brief.headline_effects(doc, {"single_start": "callaway_santanna"})
    assert (e["estimator"], e["value"]) == ("callaway_santanna", 3.82)
    assert e["verdict"] == "not_informative"
    assert e["low"] is None and e["conditional"]["low"] == -1.0
    (t,) = brief.headline_effects(doc, {"single_start": "twfe"})
    assert (t["estimator"], t["value"]) == ("twfe", 4.8)


# --- on the demo run ----------------------------------------------------------------------


def _visible(text: str, *, drop_provenance: bool = True) -> str:
    """Text a reader sees: no style, scripts, figures or (optionally) provenance."""
    for tag in ("style", "script", "svg"):
        text = re.sub(rf"<{tag}\b.*?</{tag}>", " ", text, flags=re.S)
    if drop_provenance:
        text = re.sub(r'<section[^>]*id="provenance".*?</section>', " ", text, flags=re.S)
        text = re.sub(r'<section class="provenance".*?</section>', " ", text, flags=re.S)
    text = re.sub(r'<a [^>]*class="lang-switch".*?</a>', " ", text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


# A number as a reader sees it: signed, grouped by narrow spaces, decimal comma or point.
NUMBER = re.compile(r"[+−-]?\d+(?:[\u202f\u00a0 ,]\d{3})*(?:[.,]\d+)?\s?%?")


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_brief_number_stands_in_the_technical_report(demo_run: Path, area, lang):
    reports = demo_run / "reports"
    brief_text = _visible((reports / f"brief_{area}_{lang}.html").read_text("utf-8"))
    tech_text = _visible((reports / f"technical_{area}_{lang}.html").read_text("utf-8"))
    numbers = {m.group(0).strip() for m in NUMBER.finditer(brief_text)}
    assert len(numbers) > 20, numbers
    missing = sorted(n for n in numbers if n not in tech_text)
    assert missing == [], missing


@pytest.mark.parametrize("area", AREAS)
def test_section_ids_in_every_report(demo_run: Path, area):
    for lang in LANGS:
        for kind, extra in (("brief", ()), ("technical", ("glossary",))):
            text = (demo_run / "reports" / f"{kind}_{area}_{lang}.html").read_text("utf-8")
            for sid in SECTIONS + extra:
                assert f'id="{sid}"' in text, (kind, area, lang, sid)
    assert (demo_run / "results" / "summary" / f"{area}_support.xlsx").stat().st_size > 0


FRENCH_REPORTS = (
    "brief_{area}_fr.html",
    "technical_{area}_fr.html",
    "data_quality_{area}_fr.html",
    "data_inventory_fr.html",
)


@pytest.mark.parametrize("area", AREAS)
def test_french_reports_say_plurals_and_decimal_commas(demo_run: Path, area):
    for name in FRENCH_REPORTS:
        text = _visible((demo_run / "reports" / name.format(area=area)).read_text("utf-8"))
        hedges = re.findall(r"\w\((?:e?s|e)\)|\(\d+ trait", text)
        assert hedges == [], (name, hedges[:5])
        points = re.findall(r"\S*\d\.\d\S*", text)
        assert points == [], (name, points[:10])
        # Place names in their French form (config areas.<area>.place).
        assert "à Commune" not in text and "à Bandiagara" not in text, name
