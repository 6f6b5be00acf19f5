"""Sustainability (DESIGN §8): mutual KPIs equal the truth; persistence CIs cover it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from demo_panels import RAW, demo_tables, truth_frame

from sahel_eval.sustainability import (
    DEFAULT_THRESHOLDS,
    KPI_DEFINITIONS,
    kpi_status,
    mutual_kpis,
    persistence_table,
)


@pytest.fixture(scope="module")
def demo() -> dict:
    if not (RAW / "truth.json").is_file():
        pytest.skip("demo data not generated (make demo-data)")
    return demo_tables()


def test_mutual_kpis_equal_truth(demo: dict) -> None:
    thresholds = demo["config"]["sustainability"]["kpi_thresholds"]
    kpis = mutual_kpis(demo["mutuals"], thresholds)
    wide = kpis.pivot(index=["mutual", "year"], columns="kpi", values="value").reset_index()
    truth = truth_frame(demo["truth"], "mutuals")
    both = truth.merge(wide, on=["mutual", "year"], suffixes=("_truth", ""))
    assert len(both) == len(truth) == len(wide)
    for kpi in KPI_DEFINITIONS:
        got = both[kpi].to_numpy(dtype=float)
        want = both[f"{kpi}_truth"].to_numpy(dtype=float)
        assert np.array_equal(got, want, equal_nan=True), kpi
    empty = kpis[kpis["value"].isna()]
    assert (empty["reason"] == "zero_denominator").all() and len(empty) > 0
    assert (empty["status"] == "not_available").all()


def test_kpi_edge_cases() -> None:
    row = {
        "mutual": "M",
        "year": 2020,
        "target_population": 0.0,
        "members": 0.0,
        "beneficiaries": 0.0,
        "renewals_due": 10.0,
        "renewed": np.nan,
        "contributions_due": 100.0,
        "contributions_collected": 80.0,
        "claims_paid": 60.0,
        "admin_costs": 20.0,
        "subsidies": 10.0,
    }
    k = mutual_kpis(pd.DataFrame([row])).set_index("kpi")
    assert k.loc["penetration", "reason"] == "zero_denominator"
    assert k.loc["renewal", "reason"] == "missing_input"
    assert k.loc["collection", "value"] == 0.8 and k.loc["collection", "status"] == "watch"
    assert k.loc["claims_ratio", "value"] == 0.75 and k.loc["claims_ratio", "status"] == "good"
    assert k.loc["cost_recovery", "value"] == 1.0
    assert k.loc["cost_recovery_with_subsidies", "value"] == 90 / 80


def test_status_bands_are_closed_and_two_sided() -> None:
    v = np.array([0.39, 0.4, 0.6, 0.8, 0.81, 1.0, 1.01, np.nan])
    got = kpi_status("claims_ratio", v, DEFAULT_THRESHOLDS).tolist()
    assert got == ["alarm", "watch", "good", "good", "watch", "watch", "alarm", "not_available"]


def test_persistence_ratios_inside_their_cis(demo: dict) -> None:
    table = persistence_table(demo["panels"], demo["config"], exclude=demo["outliers"])
    truth = truth_frame(demo["truth"], "persistence")
    both = table.merge(truth, on=["programme", "indicator"], suffixes=("", "_truth"))
    assert len(both) >= 8
    assert (both["during_from"] == both["during_months"].str[0]).all()
    assert (both["after_to"] == both["after_months"].str[1]).all()
    inside = (both["ci_low"] <= both["ratio"]) & (both["ratio"] <= both["ci_high"])
    print(
        "\n"
        + both[["programme", "indicator", "ratio", "estimate", "ci_low", "ci_high"]].to_string(
            index=False
        )
    )
    assert inside.all()
