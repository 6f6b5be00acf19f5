"""Sustainability (DESIGN §8): mutual KPIs equal the truth; persistence intervals hold it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from demo_panels import RAW, demo_tables, truth_frame

from sahel_eval import ingest
from sahel_eval.clean.survey import clean_survey_rounds
from sahel_eval.clean.survey_settings import SurveySettings, programme_districts
from sahel_eval.did import att_gt
from sahel_eval.did.analyses import (
    FACILITY_ATT_GT,
)
from sahel_eval.did.persistence import persistence_ratio
from sahel_eval.sustainability import (
    DEFAULT_THRESHOLDS,
    KPI_DEFINITIONS,
    PERSISTENCE_COLUMNS,
    consumption_per_person,
    kpi_status,
    mutual_kpis,
)


@pytest.fixture(scope="module")
def demo() -> dict:
    # The demo data are committed: their absence is a broken checkout, not a skip.
    assert (RAW / "truth.json").is_file(), "data/raw/truth.json missing (make demo-data)"
    tables = demo_tables()
    config = tables["config"]
    facilities = ingest.ingest_facilities(config)
    programmes = ingest.ingest_programmes(config, facility_ids=facilities["orgunit_uid"])
    settings = SurveySettings.from_config(config, programme_districts(programmes, facilities))
    parts = [
        ingest.ingest_survey(config, year=r["year"], unit="households")
        for r in config["inputs"]["surveys"]
    ]
    households = clean_survey_rounds(
        parts,
        unit="households",
        variables=config["survey"]["variables"]["households"],
        settings=settings,
    )
    return {**tables, "households": households}


def test_mutual_kpis_equal_truth(demo: dict) -> None:
    settings = demo["config"]["sustainability"]
    registers = demo["mutuals"].assign(
        consumption_per_person=consumption_per_person(
            demo["mutuals"], demo["households"], demo["config"]["mutuals"]["areas"]
        )
    )
    kpis = mutual_kpis(registers, settings["kpi_thresholds"], settings["kpi_not_applicable"])
    keys = ["mutual", "scheme", "year"]
    wide = kpis.pivot(index=keys, columns="kpi", values="value").reset_index()
    truth = truth_frame(demo["truth"], "mutuals")
    both = truth.merge(wide, on=keys, suffixes=("_truth", ""))
    assert len(both) == len(truth) == len(wide)
    for kpi in KPI_DEFINITIONS:
        got = both[kpi].to_numpy(dtype=float)
        want = both[f"{kpi}_truth"].to_numpy(dtype=float)
        # Affordability divides by a weighted mean of survey consumption, summed in
        # another order than the generator's: equal up to rounding (1e-12 relative).
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=0, equal_nan=True, err_msg=kpi)
    empty = kpis[kpis["value"].isna()]
    zero = empty["reason"] == "zero_denominator"
    assert zero.any() and (empty.loc[zero, "status"] == "not_available").all()
    # RAMED members pay no contribution: collection and renewal never show as a number.
    ramed = kpis[kpis["scheme"] == "RAMED+"]
    na = ramed[ramed["kpi"].isin(settings["kpi_not_applicable"]["RAMED+"])]
    assert {"renewal", "collection"} <= set(na["kpi"]) and len(ramed) > 0
    assert na["value"].isna().all() and (na["status"] == "not_applicable").all()
    assert (empty["reason"].isin(["zero_denominator", "not_applicable"])).all()
    # Djantoli's count in the Commune III register: 5,760 = 5,563 AMV+ + 197 RAMED+.
    count = demo["truth"]["djantoli_count"]
    c3 = demo["mutuals"][
        (demo["mutuals"]["mutual"] == "Mutuelle de santé de la Commune III")
        & (demo["mutuals"]["year"] == count["year"])
    ]
    got = dict(zip(c3["scheme"], c3["beneficiaries"].astype(int), strict=True))
    assert got == count["by_scheme"] and sum(got.values()) == 5_760


def test_kpi_edge_cases() -> None:
    row = {
        "mutual": "M",
        "scheme": "AMV",
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
        "contribution_per_beneficiary": 3.0,
        "consumption_per_person": 100.0,
    }
    k = mutual_kpis(pd.DataFrame([row])).set_index("kpi")
    assert k.loc["penetration", "reason"] == "zero_denominator"
    assert k.loc["renewal", "reason"] == "missing_input"
    assert k.loc["collection", "value"] == 0.8 and k.loc["collection", "status"] == "watch"
    assert k.loc["claims_ratio", "value"] == 0.75 and k.loc["claims_ratio", "status"] == "good"
    assert k.loc["cost_recovery", "value"] == 1.0
    assert k.loc["cost_recovery_with_subsidies", "value"] == 90 / 80
    assert k.loc["affordability", "value"] == 0.03 and k.loc["affordability", "status"] == "good"


def test_status_bands_are_closed_and_two_sided() -> None:
    v = np.array([0.39, 0.4, 0.6, 0.8, 0.81, 1.0, 1.01, np.nan])
    got = kpi_status("claims_ratio", v, DEFAULT_THRESHOLDS).tolist()
    assert got == ["alarm", "watch", "good", "good", "watch", "watch", "alarm", "not_available"]


@pytest.fixture(scope="module")
def persistence(demo: dict, demo_run: Path) -> pd.DataFrame:
    """persistence.csv of the session's pipeline run (DiD documents → table), with truth."""
    table = pd.read_csv(
        demo_run / "results" / "sustainability" / "persistence.csv",
        dtype={c: str for c in ("during_from", "during_to", "after_from", "after_to")},
    )
    assert list(table.columns) == list(PERSISTENCE_COLUMNS)
    truth = truth_frame(demo["truth"], "persistence")
    both = table.merge(truth, on=["programme", "indicator"], suffixes=("", "_truth"))
    low, high = both["ci_low"].fillna(-np.inf), both["ci_high"].fillna(np.inf)
    both["inside"] = (low <= both["ratio"]) & (both["ratio"] <= high)
    cols = ["programme", "indicator", "cluster", "ratio", "estimate", "ci_low", "ci_high", "inside"]
    print("\nPersistence ratio vs truth.json persistence\n" + both[cols].to_string(index=False))
    print(both.groupby(["programme", "cluster"])["inside"].agg(["sum", "count"]).to_string())
    return both


def test_persistence_table_windows_and_headline(persistence: pd.DataFrame) -> None:
    both = persistence
    # Issue 14 removed the cercle-level multiplier-bootstrap fit (2 treated cercles: a
    # cluster bootstrap at that level is never a result); each outcome with a planted
    # effect (I3S 4 rates and 2 quality-of-care ratios, Djantoli 5 and 2) has the
    # facility-level Fieller row (conditional) and the Conley–Taber row.
    assert len(both) == 26
    assert set(both["cluster"]) == {"facility_id", "district"}
    assert (both["status"] == "ok").all()
    assert (both["during_from"] == both["during_months"].str[0]).all()
    assert (both["after_to"] == both["after_months"].str[1]).all()
    # One headline row per programme × indicator: the assignment-level one.
    head = both[both["headline"]]
    assert head.groupby(["programme", "indicator"]).size().eq(1).all()
    assert set(head["cluster"]) == {"district"} and not head["conditional"].any()
    assert set(head["inference"]) == {"conley_taber"}
    assert both.loc[~both["headline"], "conditional"].all()
    assert both.loc[~both["headline"], "verdict"].isna().all()


def test_conley_taber_headline_is_not_informative_on_the_demo(
    persistence: pd.DataFrame,
) -> None:
    """DESIGN §6.1: Mopti C(6, 2) + 1 = 16 values (p_min 1/16 > 5 %), Bamako one
    treated commune: no assignment-level p or set is printed, only the verdict."""
    head = persistence[persistence["headline"]]
    assert (head["verdict"] == "not_informative").all()
    assert head[["ci_low", "ci_high", "p_vs_1", "confidence_attained"]].isna().all().all()
    assert head["ci_set"].isna().all()
    i3s = head[head["programme"] == "I3S"]
    assert (i3s["permutations"] == 16).all()
    assert i3s["p_min"].to_numpy() == pytest.approx(1 / 16)
    assert (head.loc[head["programme"] != "I3S", "treated_clusters"] == 1).all()


def test_persistence_ratios_inside_simultaneous_intervals(
    demo: dict, persistence: pd.DataFrame
) -> None:
    """All planted ratios at once inside their facility-level (conditional) Fieller
    intervals, Bonferroni-adjusted (the assignment-level rows are not informative).

    "The planted ratios lie inside their CIs" is a joint claim over 13 correlated
    ratios (their shocks are common to the services of a facility), so it needs
    simultaneous 95 % coverage: each Fieller interval at level 1 − 0.05/13. Before the
    quality-of-care outcomes (9 ratios) only 3 were bounded at that level (measured),
    so this is the weak check; the strong one is the pointwise intervals' calibration
    on replicates (tests/test_persistence_coverage.py).
    """
    head = persistence[persistence["conditional"] & persistence["ratio"].notna()]
    level = 1 - 0.05 / len(head)
    panels = demo["panels"]
    for r in head.itertuples(index=False):
        panel = panels[r.area]
        fit = att_gt(
            panel,
            r.outcome,
            **FACILITY_ATT_GT,
            cluster=r.cluster,
        )
        rec = persistence_ratio(
            fit.aggregate("calendar"),
            end_t=int(r.end_t),
            first_t=int(panel.loc[panel["group"] > 0, "group"].min()),
            last_t=int(panel["t"].max()),
            level=level,
        )
        assert rec["estimate"] == pytest.approx(r.estimate, rel=1e-9)
        assert rec["ci_low"] <= r.ratio <= rec["ci_high"], (r.programme, r.indicator, rec)
    assert len(head) == 13
