"""Spillover robustness rows: which CSCOMs leave the sample (named, or hosting a
displacement site), and an unknown UID refused."""

from __future__ import annotations

import pandas as pd
import pytest

from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.analyses.spillover import spillover_fits, spillover_units
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


SITES = pd.DataFrame(
    {
        "site": ["Site A", "Site A", "Site B", "Site C"],
        "month": ["2019-01", "2019-02", "2019-01", "2019-01"],
        "persons": pd.array([120, 130, 80, 0], dtype="Int64"),
        # Host CSCOMs: a comparison one, a treated one (stays), one with nobody (stays).
        "orgunit_uid": ["Dddddddddd4", "Dddddddddd4", "Cccccccccc3", "Eeeeeeeeee5"],
    }
)


def test_displacement_hosts_leave_the_spillover_sample_when_the_option_is_on() -> None:
    """G18-4: a never-treated CSCOM whose aire hosts a site leaves with the named ones;
    a treated host stays (it is the effect), a site with no one hosts nobody; with
    did.spillover_displacement_hosts false, or no sites configured, only the list."""
    on = AnalysisSettings(spillover_exclude=("Koro",)).with_displacement_sites(SITES)
    assert on.displacement_hosts == ("Cccccccccc3", "Dddddddddd4")
    got = spillover_units(PANEL, on.spillover_exclude, on.displacement_hosts)
    assert list(got) == ["Aaaaaaaaaa1", "Bbbbbbbbbb2", "Dddddddddd4"]
    # Hosts alone make rows even with an empty list.
    assert list(spillover_units(PANEL, (), on.displacement_hosts)) == ["Dddddddddd4"]
    off = AnalysisSettings(spillover_exclude=("Koro",), spillover_displacement_hosts=False)
    assert off.with_displacement_sites(SITES).displacement_hosts == ()
    assert AnalysisSettings().with_displacement_sites(None).displacement_hosts == ()
    assert list(spillover_units(PANEL, off.spillover_exclude)) == ["Aaaaaaaaaa1", "Bbbbbbbbbb2"]


def test_spillover_fits_record_the_displacement_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The robustness facts name the host CSCOMs removed and the districts touched; the
    panel handed to the fits lacks exactly the removed CSCOMs."""
    seen = {}

    def fake(spec, sub, facts, settings):  # the fits themselves are tested elsewhere
        seen.update(facts=facts, kept=sorted(sub["facility_id"].unique()))
        return []

    monkeypatch.setattr("sahel_eval.did.analyses.spillover.subsample_fits", fake)
    settings = AnalysisSettings(spillover_exclude=("Koro",)).with_displacement_sites(SITES)
    spillover_fits({"name": "x", "outcomes": []}, PANEL, settings)
    assert seen["kept"] == ["Cccccccccc3", "Eeeeeeeeee5"]
    assert seen["facts"]["displacement_hosts"] == ["Dddddddddd4"]
    assert seen["facts"]["districts_touched"] == ["Bankass", "Koro"]
    assert seen["facts"]["excluded"] == ["Koro"]
    assert (seen["facts"]["facilities_kept"], seen["facts"]["facilities_total"]) == (2, 5)


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
    # Hosts of a displacement site among the removed CSCOMs are counted.
    hosted = {"rows": block["rows"], "facts": dict(block["facts"], displacement_hosts=["X"])}
    for r in hosted["rows"]:
        r.update({f"{k}_shown": r[k] for k in ("estimate", "ci_low", "ci_high")})
    html = get_environment(lang).get_template("spillover.html.j2").render(b={"spillover": hosted})
    words = "hôtes d’un site de déplacés" if lang == "fr" else "hosts of a displacement site"
    assert words in html and "154" in html
    assert words not in get_environment(lang).get_template("spillover.html.j2").render(
        b={"spillover": block}
    )
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
