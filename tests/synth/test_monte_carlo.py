"""Machinery of the Monte Carlo benchmark (benchmarks/monte_carlo.py), not its results.

Replicates of one design share everything but their noise; a seed gives the same
replicate in any process; one small replicate yields every interval the benchmark
tabulates, and the summary counts them right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sahel_eval.config import load_config
from sahel_eval.did.analyses import AnalysisSettings
from sahel_eval.synth.facility_model import district_month_noise
from sahel_eval.synth.monte_carlo import analysis_specs, replicate_records, summarise
from sahel_eval.synth.replicates import design, replicate


@pytest.fixture(scope="module")
def small():
    return design("small")


def test_same_seed_same_replicate_other_seed_other_noise(small) -> None:
    a, b, c = replicate(small, 11), replicate(small, 11), replicate(small, 12)
    col = "consultations_all_per_1000"
    pd.testing.assert_frame_equal(a.panels["mopti"], b.panels["mopti"])
    pd.testing.assert_frame_equal(a.surveys["births"], b.surveys["births"])
    # Same design (rows, groups, truth), different noise.
    same = ["facility_id", "t", "group", "end_t"]
    pd.testing.assert_frame_equal(a.panels["mopti"][same], c.panels["mopti"][same])
    assert a.truth["cs_overall"] == c.truth["cs_overall"]
    assert not np.allclose(a.panels["mopti"][col].fillna(0), c.panels["mopti"][col].fillna(0))


def test_district_month_noise_is_shared_within_a_district() -> None:
    district = np.array(["a", "b", "a", "c", "b"])
    noise = district_month_noise(district, 4000, np.random.default_rng(3), sd=0.1, ar=0.5)
    assert noise.shape == (5, 4000)
    np.testing.assert_array_equal(noise[0], noise[2])
    assert not np.allclose(noise[0], noise[1])
    z = np.log(noise[[0, 1, 3]])
    # Mean one, log SD and lag-1 autocorrelation as asked (4,000 months each).
    assert abs(noise[[0, 1, 3]].mean() - 1) < 0.02
    assert np.allclose(z.std(axis=1), 0.1, atol=0.01)
    lag1 = [np.corrcoef(r[:-1], r[1:])[0, 1] for r in z]
    assert np.allclose(lag1, 0.5, atol=0.06)


def test_one_small_replicate_gives_every_tabulated_interval(small) -> None:
    config = load_config("config/config.yaml")
    rec = replicate_records(small, 5, analysis_specs(config), AnalysisSettings.from_config(config))
    quantities = set(rec["quantity"])
    assert {
        "mopti_cs_overall",
        "mopti_pretest",
        "mopti_persistence",
        "bamako_cs_overall",
        "bamako_persistence",
        "mopti_survey_2018",
        "mopti_survey_2021",
        "mopti_imputation_overall",
        "bamako_sdid_district",
        "bamako_sdid_facility",
    } <= quantities
    imp = rec[rec["quantity"] == "mopti_imputation_overall"]
    assert sorted(imp["interval"]) == ["analytic:facility_id", "randomization:district"]
    head = rec[(rec["quantity"] == "mopti_cs_overall") & rec["headline"].astype(bool)]
    assert list(head["interval"]) == ["randomization:district"]
    fac = rec[(rec["quantity"] == "mopti_cs_overall") & ~rec["headline"].astype(bool)]
    assert list(fac["interval"]) == ["analytic:facility_id"]
    # Where an interval exists, inside says whether it holds the truth.
    rows = rec[rec["inside"].notna()]
    assert len(rows) > 0
    recomputed = (rows["ci_low"] <= rows["truth"]) & (rows["truth"] <= rows["ci_high"])
    assert (recomputed == rows["inside"].astype(bool)).all()
    summary = summarise(rec)
    cs = summary[(summary["quantity"] == "mopti_cs_overall") & summary["headline"].astype(bool)]
    assert int(cs["n"].iloc[0]) == 1
    # The commune-level placebo interval is withheld by the stage (5 placebos) but still
    # measured here, from the SE its fit keeps flagged.
    commune = rec[rec["quantity"] == "bamako_sdid_district"]
    assert len(commune) == 1 and commune["inside"].notna().all()
    assert (commune["ci_low"] < commune["estimate"]).all()
    sdid = summary[summary["quantity"] == "bamako_sdid_facility"].iloc[0]
    one = rec[rec["quantity"] == "bamako_sdid_facility"].iloc[0]
    assert sdid["bias"] == pytest.approx(one["estimate"] - one["truth"])


def test_summary_rates_and_consistency() -> None:
    records = pd.DataFrame(
        {
            "design": "demo",
            "seed": np.arange(100),
            "quantity": "mopti_cs_overall",
            "interval": "randomization:district",
            "headline": True,
            "truth": 1.0,
            "estimate": 1.0 + np.linspace(-1, 1, 100) + 0.5,
            "inside": [True] * 96 + [False] * 4,
            "rejected": None,
            "unbounded": False,
            "confidence_attained": 27 / 28,
            "seconds": 1.0,
            "cpu_seconds": 1.0,
        }
    )
    row = summarise(records).iloc[0]
    assert row["n_interval"] == 100 and row["rate"] == pytest.approx(0.96)
    assert row["mcse"] == pytest.approx(np.sqrt(0.96 * 0.04 / 100))
    assert row["ci_low"] < 27 / 28 < row["ci_high"] and row["consistent"]
    assert row["meets_target"]
    assert row["bias"] == pytest.approx(0.5)
    records["inside"] = [True] * 80 + [False] * 20
    row = summarise(records).iloc[0]
    assert not row["consistent"] and not row["meets_target"]
