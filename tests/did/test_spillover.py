"""Spillover robustness rows: which CSCOMs leave the sample, and an unknown UID refused."""

from __future__ import annotations

import pandas as pd
import pytest

from sahel_eval.did.analyses.spillover import spillover_units
from sahel_eval.errors import InputError
from sahel_eval.ingest.crosscheck import check_spillover_units
from sahel_eval.report.inference_notes import spillover_block
from sahel_eval.report.render import get_environment

PANEL = pd.DataFrame(
    {
        "facility_id": ["Aaaaaaaaaa1", "Bbbbbbbbbb2", "Cccccccccc3", "Dddddddddd4", "Eeeeeeeeee5"],
        "district": ["Koro", "Koro", "Mopti", "Bankass", "Djenné"],
        "group": [0, 0, 7, 0, 0],
    }
)


def test_spillover_units_are_the_named_never_treated_cscoms() -> None:
    # Koro by name, a treated CSCOM by id (stays: it is the effect), one by id.
    got = spillover_units(PANEL, ["Koro", "Cccccccccc3", "Eeeeeeeeee5", "Commune II"])
    assert list(got) == ["Aaaaaaaaaa1", "Bbbbbbbbbb2", "Eeeeeeeeee5"]
    assert spillover_units(PANEL, []).empty


def test_unknown_spillover_uid_is_refused_with_its_position_masked() -> None:
    facilities = PANEL.rename(columns={"facility_id": "orgunit_uid"})
    check_spillover_units({"did": {"spillover_exclude": ["Koro", "Dddddddddd4"]}}, facilities)
    with pytest.raises(InputError) as info:
        check_spillover_units({"did": {"spillover_exclude": ["Koro", "Zzzzzzzzzz9"]}}, facilities)
    message = str(info.value)
    assert "did.spillover_exclude" in message and "'spillover_unit_known'" in message
    assert "did.spillover_exclude[1]" in message and "Zzzzzzzzzz9" not in message


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_spillover_partial_shows_the_rows_numbers_in_both_languages(lang: str) -> None:
    """The report partial formats the stage's numbers; a not-informative row shows no
    interval; the spillover facts come from the fit, never from the balanced one."""
    rows = [
        {"outcome": "anc1", "robustness": "spillover_excluded", "estimate": 0.4925,
         "ci_low": 0.1852, "ci_high": 0.9396, "confidence_attained": 0.952,
         "treated_clusters": 2, "p_min": 1 / 21},
        {"outcome": "anc1", "robustness": "balanced_subsample", "estimate": 9.0},
        {"outcome": "anc1", "robustness": None, "estimate": 0.5},
    ]  # fmt: skip
    doc = {
        "fits": [
            {"robustness": {"subsample": "balanced_subsample", "facilities_kept": 1}},
            {
                "robustness": {
                    "subsample": "spillover_excluded",
                    "facilities_kept": 154,
                    "facilities_total": 176,
                    "districts_touched": ["Douentza"],
                }
            },
        ]
    }
    block = spillover_block(rows, doc)
    assert [r["estimate"] for r in block["rows"]] == [0.4925]
    for r in block["rows"]:
        r.update({f"{k}_shown": r[k] for k in ("estimate", "ci_low", "ci_high")})
    html = get_environment(lang).get_template("spillover.html.j2").render(b={"spillover": block})
    assert "Douentza" in html and "154" in html and "176" in html
    assert ("0,49" if lang == "fr" else "0.49") in html
    assert ("0,94" if lang == "fr" else "0.94") in html
    assert (
        get_environment(lang)
        .get_template("spillover.html.j2")
        .render(b={"spillover": None})
        .strip()
        == ""
    )
    # A quality-of-care ratio (a proportion) reads in points, one decimal.
    env = get_environment(lang)
    html = env.get_template("spillover.html.j2").render(
        b={"spillover": block, "unit": "proportion"}
    )
    assert ("0,5 point" if lang == "fr" else "0.5 percentage point") in html
    block["rows"][0].update(ci_low=None, ci_low_shown=None, ci_high_shown=None)
    html = get_environment(lang).get_template("spillover.html.j2").render(b={"spillover": block})
    assert ("0,94" if lang == "fr" else "0.94") not in html and "0.048" in html.replace(",", ".")
