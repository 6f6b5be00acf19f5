"""Denominators that count displaced people where they live (DESIGN §4, issue 17 item 4).

The demo's displacement sites move people between catchments; ``truth.json`` holds the
adjusted populations computed by the generator. The panels come from the session's
in-process demo run (tests/demo_panels.py).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from demo_panels import demo_config, demo_run, demo_tables, truth_frame

from sahel_eval.clean.denominators import (
    adjusted_population,
    area_displacement_table,
    catchment_moves,
)
from sahel_eval.clean.panels import panel_for_area
from sahel_eval.clean.schemas import panel_schema
from sahel_eval.errors import InputError
from sahel_eval.io.parquet import write_parquet

KEY = ["facility_id", "year"]


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return truth_frame(demo_tables()["truth"]["population"], "adjusted")


def _moves() -> pd.DataFrame:
    return catchment_moves(demo_run().sites)


def test_adjusted_populations_equal_the_truth(truth: pd.DataFrame) -> None:
    run = demo_run()
    moves = _moves()
    adjusted = adjusted_population(run.population, moves, "sites.csv")
    got = moves.merge(adjusted, on=["orgunit_uid", "year"]).rename(
        columns={"orgunit_uid": "facility_id"}
    )
    got = got.sort_values(KEY).reset_index(drop=True)
    want = truth.sort_values(KEY).reset_index(drop=True)
    assert got[KEY].equals(want[KEY]), "not the catchment-years the truth names"
    # truth.json rounds to 4 decimals: equal to that rounding, not approximately.
    for ours, theirs in (
        ("displaced_in", "displaced_in"),
        ("displaced_out", "displaced_out"),
        ("population", "adjusted_population"),
        ("population_unadjusted", "population"),
    ):
        assert (got[ours].round(4) == want[theirs]).all(), ours
    # Both sides of a move: hosts gain what origins lose, year by year.
    assert np.allclose(
        got.groupby("year")["displaced_in"].sum(), got.groupby("year")["displaced_out"].sum()
    )


def test_rates_in_host_catchments_use_the_adjusted_population(truth: pd.DataFrame) -> None:
    panel = demo_run().panels["mopti"]
    config = demo_config()
    panel_schema(
        list(config["dhis2"]["indicators"]), unadjusted=True, quality=config["quality_of_care"]
    ).validate(panel)
    truth = truth.rename(columns={"population": "catchment"})
    rows = panel.assign(year=panel["month"].str[:4].astype("int64")).merge(truth, on=KEY)
    hosts = rows[rows["displaced_in"] > 0]
    assert hosts["facility_id"].nunique() == 2  # Socoura and Fatoma
    assert (hosts["population"].round(4) == hosts["adjusted_population"]).all()
    assert (hosts["population_unadjusted"] == hosts["catchment"]).all()
    h = hosts[hosts["consultations_all"].notna()]
    assert len(h) > 24
    assert np.allclose(
        h["consultations_all_per_1000"], h["consultations_all"] / h["adjusted_population"] * 1000
    )
    assert np.allclose(
        h["consultations_all_per_1000_unadjusted"], h["consultations_all"] / h["catchment"] * 1000
    )
    # A host's rate falls with the people it hosts; the catchment they fled, rises.
    assert (h["consultations_all_per_1000"] < h["consultations_all_per_1000_unadjusted"]).all()
    origins = rows[(rows["displaced_out"] > 0) & rows["consultations_all"].notna()]
    assert (
        len(origins)
        and (
            origins["consultations_all_per_1000"] > origins["consultations_all_per_1000_unadjusted"]
        ).all()
    )
    # Elsewhere the two denominators are the same number.
    other = panel[~panel["facility_id"].isin(set(truth["facility_id"]))]
    assert other["population"].equals(other["population_unadjusted"])


def test_switch_off_gives_the_panel_without_displacement(tmp_path) -> None:
    config, run = demo_config(), demo_run()
    off = copy.deepcopy(config)
    off["denominators"]["displacement_adjusted"] = False
    args = (run.clean.facility_month, run.facilities, run.population, run.programmes)
    paths = {}
    for name, cfg, sites in (("off", off, run.sites), ("none", config, None)):
        paths[name] = tmp_path / f"{name}.parquet"
        write_parquet(panel_for_area(*args, cfg, "mopti", sites=sites), paths[name])
    assert paths["off"].read_bytes() == paths["none"].read_bytes()
    plain = pd.read_parquet(paths["off"])
    adjusted = run.panels["mopti"]
    assert "population_unadjusted" not in plain.columns
    assert list(adjusted.columns.drop([c for c in adjusted if c.endswith("_unadjusted")])) == list(
        plain.columns
    )
    # The adjusted panel keeps the old denominator and rates, unchanged, beside its own.
    for col in [c for c in plain.columns if c == "population" or c.endswith("_per_1000")]:
        assert adjusted[f"{col}_unadjusted"].equals(plain[col]), col


def test_dq_table_lists_the_catchments_with_displacement(truth: pd.DataFrame) -> None:
    config, run = demo_config(), demo_run()
    table = area_displacement_table(run.panels["bamako"], run.population, run.sites, config)
    # Bamako hosts Senou (Yirimadio, Commune VI); the people came from Bankass (Mopti).
    assert set(table["district"]) == {"Commune VI"}
    assert (table["displaced_in"] == 1254).all() and (table["displaced_out"] == 0).all()
    mopti = area_displacement_table(run.panels["mopti"], run.population, run.sites, config)
    assert set(mopti["facility_id"]) == set(truth["facility_id"]) - set(table["facility_id"])
    assert (mopti["rate_adjusted"] != mopti["rate_unadjusted"]).all()


def test_more_people_fled_than_lived_there_is_refused() -> None:
    population = pd.DataFrame(
        {"orgunit_uid": ["A", "B"], "year": [2020, 2020], "population": [5, 9]}
    )
    moves = pd.DataFrame(
        {"orgunit_uid": ["A"], "year": [2020], "displaced_in": [0.0], "displaced_out": [6.0]}
    )
    with pytest.raises(InputError) as err:
        adjusted_population(population, moves, "sites.csv")
    text = str(err.value)
    assert "sites.csv" in text and "fled_within_population" in text and "A 2020" in text
