"""Facility quality-of-care ratios (issue 17 item 2, DESIGN §4) on the demo data.

ANC1 → ANC4 retention, Penta1 → Penta3 drop-out and assisted deliveries ÷ expected
births: the panel columns against their definitions recomputed from the panel's own
counts, the SDID district block's sums, and the planted truth against the generator's
definitions (``data/raw/truth.json``).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from demo_panels import RAW, demo_config, demo_run

from sahel_eval.did.analyses import AnalysisSettings
from sahel_eval.did.analyses.facility import _variable
from sahel_eval.did.analyses.fits import _Outcome
from sahel_eval.did.analyses.synthetic import _district_block
from sahel_eval.synth.params import CRUDE_BIRTH_RATE, QUALITY_RATIOS


@pytest.fixture(scope="module")
def quality() -> dict:
    return demo_config()["quality_of_care"]


def test_demo_generator_uses_the_configured_definitions(quality: dict) -> None:
    # truth.json is computed with the generator's copy of the definitions: it must be
    # the demo config's, or the planted values would be of another quantity.
    assert quality["crude_birth_rate"] == CRUDE_BIRTH_RATE
    assert {
        name: (r["numerator"], r["denominator"], r["complement"])
        for name, r in quality["ratios"].items()
    } == QUALITY_RATIOS


@pytest.mark.parametrize("area", ["mopti", "bamako"])
def test_panel_ratios_follow_their_definitions(area: str, quality: dict) -> None:
    panel = demo_run().panels[area]
    births = panel["population"] * quality["crude_birth_rate"] / 12
    assert np.allclose(panel["expected_births"], births, rtol=1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = {
            "anc_retention": panel["anc4"] / panel["anc1"],
            "penta_dropout": (panel["penta1"] - panel["penta3"]) / panel["penta1"],
            "delivery_coverage": panel["deliveries"] / births,
        }
    zero = {"anc_retention": "anc1", "penta_dropout": "penta1"}
    for name, expected in want.items():
        got = panel[name]
        if name in zero:  # no ANC1 (Penta1) that month: no retention (drop-out), not inf
            expected = expected.where(panel[zero[name]] > 0)
        assert got.isna().equals(expected.isna()), name
        assert np.allclose(got.dropna(), expected.dropna(), rtol=1e-12), name
    # Drop-out can be negative (more Penta3 than Penta1 in a month): no clipping.
    assert (panel["penta_dropout"] < 0).any()


def test_coverage_over_expected_births_is_kept_unadjusted_beside(quality: dict) -> None:
    # Bamako's Commune VI hosts the Senou site: adjusted and unadjusted populations
    # differ there, and the ratio over expected births follows each one.
    panel = demo_run().panels["bamako"]
    births = panel["population_unadjusted"] * quality["crude_birth_rate"] / 12
    assert np.allclose(panel["expected_births_unadjusted"], births, rtol=1e-12)
    assert np.allclose(
        panel["delivery_coverage_unadjusted"].dropna(),
        (panel["deliveries"] / births).dropna(),
        rtol=1e-12,
    )
    moved = panel["population"] != panel["population_unadjusted"]
    assert moved.any()
    assert not np.allclose(
        panel.loc[moved, "delivery_coverage"].dropna(),
        panel.loc[moved, "delivery_coverage_unadjusted"].dropna(),
    )
    # Retention and drop-out do not divide by the population: no unadjusted twin.
    assert "anc_retention_unadjusted" not in panel and "penta_dropout_unadjusted" not in panel


def test_district_block_sums_numerators_and_denominators() -> None:
    config = demo_config()
    spec = next(a for a in config["analyses"] if a["design"] == "single_start")
    panel = demo_run().panels[spec["area"]]
    settings = AnalysisSettings.from_config(config)
    end_t = 60
    for outcome, num, den, complement in (
        ("anc_retention", "anc4", "anc1", False),
        ("penta_dropout", "penta3", "penta1", True),
    ):
        variable = _variable(panel, outcome, spec, settings)
        assert variable == outcome
        block, _ = _district_block(_Outcome(spec, panel, outcome, variable, settings), end_t)
        p = panel[(panel["t"] <= end_t) & panel[num].notna() & (panel[den] > 0)]
        sums = p.groupby(["district", "t"])[[num, den]].sum()
        ratio = sums[num] / sums[den]
        want = (1 - ratio) if complement else ratio
        got = block.set_index(["district", "t"])["y"]
        pd.testing.assert_series_equal(got, want.rename("y"), check_exact=False, rtol=1e-12)


def test_planted_ratio_effects_follow_the_definitions() -> None:
    # Deliveries ÷ expected births is the deliveries rate per 1,000 rescaled:
    # × 12 / (1,000 × crude birth rate), month by month, in the planted truth too.
    truth = json.loads((RAW / "truth.json").read_text(encoding="utf-8"))
    factor = 12 / (1000 * CRUDE_BIRTH_RATE)
    for prog in ("I3S", "Djantoli"):
        rate = truth["effects"][prog]["deliveries"]["calendar"]
        coverage = truth["effects"][prog]["delivery_coverage"]["calendar"]
        assert coverage.keys() == rate.keys()
        assert np.allclose([coverage[m] for m in rate], [rate[m] * factor for m in rate])
        # Planted on ANC4 more than in proportion to ANC1: retention rises.
        retention = truth["effects"][prog]["anc_retention"]["calendar"]
        assert min(retention.values()) > 0
        # Nothing planted on Penta: no drop-out effect in the truth.
        assert "penta_dropout" not in truth["effects"][prog]
