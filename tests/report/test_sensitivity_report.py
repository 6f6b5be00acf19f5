"""Sensitivity to parallel trends in words: the reports pick the stage's numbers.

The documents here are hand-made estimates JSON fragments (schema v3 ``sensitivity``,
``breakdown``, ``sensitivity_inputs``); the demo run's HTML is checked at the end.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sahel_eval.report.sensitivity import brief_sensitivity, sensitivity_lines, sensitivity_rows
from sahel_eval.text.i18n import translate


def _doc(value: float, beyond: bool = False, direction: str | None = "increase") -> dict:
    fits = {
        "callaway_santanna": "visits:att_gt:facility:universal",
        "event_study": "visits:event_study:facility",
    }
    breakdown = []
    for estimator, fit in fits.items():
        for target in ("on_impact", "average_post"):
            for restriction in ("relative_magnitude", "smoothness"):
                # Each record its own value, so a wrong pick shows.
                v = (
                    value
                    if (estimator, target, restriction)
                    == (
                        "callaway_santanna",
                        "average_post",
                        "relative_magnitude",
                    )
                    else 0.37
                )
                breakdown.append(
                    {
                        "fit": fit,
                        "target": target,
                        "restriction": restriction,
                        "value": v,
                        "beyond_grid": beyond and v == value,
                        "direction": direction if v else None,
                    }
                )
    return {
        "analysis": {"name": "a", "estimator": "callaway_santanna", "data": "facility"},
        "units": {"visits": "per_1000_month"},
        "settings": {"sensitivity": {"window_post": 5}},
        "sensitivity_inputs": [
            {"fit": fit, "outcome": "visits", "estimator": est} for est, fit in fits.items()
        ],
        "breakdown": breakdown,
        "sensitivity": [
            {
                "fit": fits["callaway_santanna"],
                "target": "average_post",
                "restriction": "relative_magnitude",
                "parameter": 0.0,
                "lower": 0.4,
                "upper": 2.5,
            }
        ],
    }


def test_brief_picks_the_analysis_estimator_and_the_average_effect() -> None:
    line = brief_sensitivity(_doc(1.5), "visits")
    assert line == {
        "value": 1.5,
        "beyond": False,
        "direction": "increase",
        "digits": 1,
        "outcome": "visits",
        "months": 6,
    }
    assert brief_sensitivity(_doc(0.098), "visits")["digits"] == 3
    zero = brief_sensitivity(_doc(0.0, direction=None), "visits")
    assert (zero["value"], zero["digits"], zero["direction"]) == (0.0, 0, None)
    assert brief_sensitivity(_doc(1.5), "other") is None


def test_technical_rows_one_per_study_and_target() -> None:
    rows = sensitivity_rows([{"name": "a"}], {"a": _doc(1.5)})
    assert [(r["estimator"], r["target"]) for r in rows] == [
        ("callaway_santanna", "on_impact"),
        ("callaway_santanna", "average_post"),
        ("event_study", "on_impact"),
        ("event_study", "average_post"),
    ]
    assert (rows[1]["low0"], rows[1]["high0"], rows[1]["rm"]["value"]) == (0.4, 2.5, 1.5)
    assert rows[0]["low0"] is None and rows[0]["rm"]["value"] == 0.37
    # A proportion (a quality-of-care ratio) reads in points: its interval and the
    # smoothness breakdown M scale by 100, the relative magnitude M̄ has no unit.
    ratio = {**_doc(1.5), "units": {"visits": "proportion"}}
    r = sensitivity_rows([{"name": "a"}], {"a": ratio})[1]
    assert (r["low0"], r["high0"], r["rm"]["value"]) == (40.0, 250.0, 1.5)
    assert r["sd"]["value"] == pytest.approx(37.0) and r["sd"]["digits"] == 0
    spec = {"name": "a", "data": "facility"}
    assert sensitivity_lines([spec], {"a": _doc(1.5)}, {"a": ["visits"]})[0]["value"] == 1.5
    assert sensitivity_lines([spec], {"a": _doc(1.5)}, {"a": []}) == []


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (
            "brief.sensitivity.holds.increase",
            "holds only if the trend gap after the start stays below 1.5 times",
        ),
        ("brief.sensitivity.beyond.increase", "even if the trend gap after the start reaches 1.5"),
        ("brief.sensitivity.zero", "does not confirm a change"),
    ],
)
def test_sentences_have_the_design_shape(key: str, words: str) -> None:
    en = translate(key, "en", {"outcome": "Visits", "months": 6, "mbar": "1.5"})
    assert words in en
    fr = translate(key, "fr", {"outcome": "Visites", "months": 6, "mbar": "1,5"})
    assert "Visites" in fr and "6 premiers mois" in fr


def test_demo_reports_say_the_sensitivity(demo_run: Path) -> None:
    for area in ("mopti", "bamako"):
        for lang, word in (("fr", "écart de tendance"), ("en", "trend gap")):
            tech = (demo_run / "reports" / f"technical_{area}_{lang}.html").read_text("utf-8")
            assert 'id="tech-sensitivity"' in tech
            table = tech.split('id="tech-sensitivity"')[1].split("</table>")[0]
            assert len(re.findall(r"<tr><th scope=\"row\">", table)) >= 10  # 5 outcomes × 2
            brief = (demo_run / "reports" / f"brief_{area}_{lang}.html").read_text("utf-8")
            line = re.search(r'<p id="brief-sensitivity">(.*?)</p>', brief, re.S)
            summary = json.loads((demo_run / "results" / "summary" / f"{area}.json").read_text())
            if summary["sensitivity"]["value"] == 0:
                # A check whose range holds zero even without drift confirms nothing:
                # the technical report says so, the brief leaves it out.
                assert line is None and word in tech, (area, lang)
                continue
            assert line and word in line.group(1), (area, lang)
