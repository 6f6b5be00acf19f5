"""Imputation beside CS and SDID against the planted effect in the technical report:
the rows picked from the estimates JSON and the included partial, both languages."""

from __future__ import annotations

import pytest

from sahel_eval.report.render import get_environment
from sahel_eval.report.second_opinion import second_opinion
from sahel_eval.text.formatting import fmt_interval


def _row(estimator: str, inference: str, conditional: bool, est: float, **kw) -> dict:
    return {
        "outcome": "consultations_all",
        "estimator": estimator,
        "aggregation": "simple",
        "robustness": None,
        "inference": inference,
        "conditional": conditional,
        "estimate": est,
        "ci_low": est - 1,
        "ci_high": est + 1,
        "p": 0.0357,
        "confidence_attained": None if conditional else 0.964,
        "verdict": None if conditional else "increase_shown",
        **kw,
    }


DOC = {
    "fits": [
        {
            "estimator": "imputation",
            "outcome": "consultations_all",
            "comparison": {
                "with_fit": "consultations_all:att_gt:district_ri",
                "cs_estimate": 6.0,
                "imputation_estimate": 7.25,
                "difference": 1.25,
                "verdict": "within_intervals",
                "horizons_compared": 96,
                "horizons_disjoint": 2,
            },
        }
    ],
    "estimates": [
        _row("imputation", "analytic", True, 7.25),
        _row("imputation", "randomization", False, 7.25),
        _row("callaway_santanna", "analytic", True, 6.0),
        _row("callaway_santanna", "randomization", False, 6.0),
        _row("callaway_santanna", "randomization", False, 9.0, aggregation="group"),
        _row("callaway_santanna", "randomization", False, 5.0, robustness="balanced"),
    ],
}


def test_rows_cs_first_assignment_level_first() -> None:
    got = second_opinion(DOC, "consultations_all")
    order = [(r["estimator"], r["inference"]) for r in got["rows"]]
    assert order == [
        ("callaway_santanna", "randomization"),
        ("callaway_santanna", "analytic"),
        ("imputation", "randomization"),
        ("imputation", "analytic"),
    ]
    assert second_opinion(DOC, "anc1") is None


@pytest.mark.parametrize(
    ("lang", "words", "number"),
    [("en", "do not differ by more than", "1.25"), ("fr", "ne diffèrent pas", "1,25")],
)
def test_partial_formats_the_stage_codes(lang: str, words: str, number: str) -> None:
    block = {
        "analysis": "mopti_staggered",
        "outcome": "consultations_all",
        "data": "facility",
        "unit": "per_1000_month",
        "imputation": second_opinion(DOC, "consultations_all"),
        "planted": [
            {
                "level": "district",
                "window_from": "201711",
                "window_to": "201910",
                "estimate": 5.1,
                "planted": 5.25,
                "error": -0.15,
            }
        ],
    }
    html = (
        get_environment(lang)
        .get_template("second_opinion.html.j2")
        .render(
            b=block,
            outcome_keys={"consultations_all": "dq.ind.consultations_all"},
            lang=lang,
            # The area's unit word, from the summary as the technical report passes it.
            summary={"district_unit": {lang: "communes"}},
        )
    )
    assert words in html and number in html
    assert html.count("<tr>") == 4 + 1 + 2  # 4 estimator rows, 1 SDID row, 2 headers


def _dyn(estimator: str, h: int, est: float, conditional: bool = False) -> dict:
    return _row(
        estimator,
        "analytic" if conditional else "randomization",
        conditional,
        est,
        aggregation="dynamic",
        event_time=float(h),
        term=f"ATT(e={h})",
    )


def test_horizons_pair_the_two_estimators_at_assignment_level() -> None:
    doc = {
        **DOC,
        "settings": {"sensitivity": {"window_post": 2}},
        "estimates": DOC["estimates"]
        + [_dyn("callaway_santanna", h, 1.0 + h) for h in (-2, -1, 0, 1, 2, 3)]
        + [_dyn("imputation", h, 2.0 + h) for h in (0, 2, 3)]
        + [_dyn("imputation", 1, 99.0, conditional=True)],
    }
    got = second_opinion(doc, "consultations_all")
    # h = 1 has no assignment-level imputation row (only a conditional one): left out;
    # leads and horizons past the window are not shown.
    assert [h["event_time"] for h in got["horizons"]] == [0, 2]
    assert [h["cs"]["estimate"] for h in got["horizons"]] == [1.0, 3.0]
    assert [h["imputation"]["estimate"] for h in got["horizons"]] == [2.0, 4.0]
    assert got["horizons_attained"] == 0.964
    html = (
        get_environment("fr")
        .get_template("second_opinion.html.j2")
        .render(
            b={
                "analysis": "mopti_staggered",
                "outcome": "consultations_all",
                "unit": "per_1000_month",
                "imputation": got,
                "planted": [],
            },
            outcome_keys={"consultations_all": "dq.ind.consultations_all"},
        )
    )
    table = html.split('id="imp-h-mopti_staggered-consultations_all"')[1]
    assert table.count("<tr>") == 1 + 2 and "96,4" in table
    assert f"<td>4,00</td><td>{fmt_interval(3.0, 5.0, 'fr', 2)}</td>" in table
    # Without the analysis settings (an older estimates file) there is no horizon table.
    assert second_opinion({**doc, "settings": {}}, "consultations_all")["horizons"] == []
