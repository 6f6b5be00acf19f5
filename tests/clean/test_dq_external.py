"""WHO DQR domains 3-4 on the demo run: the planted projection gaps (truth.json) are
flagged, no other district is, and the bounds come from the config."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from sahel_eval.clean import dq_external as dx
from sahel_eval.config import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run(demo_run: Path) -> dict:
    r = demo_run / "results"
    return {
        "truth": json.loads((ROOT / "data" / "raw" / "truth.json").read_text("utf-8")),
        "population": pd.read_csv(r / "dq" / "external_population.csv"),
        "coverage": pd.read_csv(r / "dq" / "external_consistency.csv"),
        "interim": r / "interim",
    }


def test_planted_population_gaps_and_only_them(run: dict) -> None:
    pop = run["population"]
    flagged = set(pop.loc[pop["flagged"], ["district", "year"]].itertuples(index=False, name=None))
    planted = {(g["district"], g["year"]) for g in run["truth"]["dq_population"]}
    assert planted and flagged == planted
    got = pop.set_index(["district", "year"])["ratio"]
    for g in run["truth"]["dq_population"]:
        assert got[(g["district"], g["year"])] == pytest.approx(g["catchment_ratio"], abs=1e-4)


def test_planted_coverage_gaps_and_only_them(run: dict) -> None:
    cov = run["coverage"]
    cols = ["district", "year", "indicator"]
    flagged = set(cov.loc[cov["flagged"], cols].itertuples(index=False, name=None))
    planted = {
        (g["district"], g["year"], i) for g in run["truth"]["dq_external"] for i in g["indicators"]
    }
    assert planted and flagged == planted
    # The gaps are in the projections only: over the catchments nothing is flagged.
    assert not cov["catchment_flagged"].any()


def test_bounds_from_config_change_the_flag_set(run: dict) -> None:
    config = load_config(ROOT / "config" / "config.yaml")
    narrow = copy.deepcopy(config)
    narrow["dq"]["external"]["population_bounds"] = [0.95, 1.05]
    catchment = dx.catchment_by_district(
        pd.read_parquet(run["interim"] / "population.parquet"),
        pd.read_parquet(run["interim"] / "facilities.parquet"),
    )
    proj = pd.read_parquet(run["interim"] / "district_population.parquet")
    default = dx.population_consistency(
        catchment, proj, dx.ExternalSettings.from_config(config).population_bounds
    )
    tight = dx.population_consistency(
        catchment, proj, dx.ExternalSettings.from_config(narrow).population_bounds
    )
    assert default["flagged"].sum() == len(run["truth"]["dq_population"])
    assert tight["flagged"].sum() > default["flagged"].sum()
    assert (tight["lower"] == 0.95).all()


@pytest.mark.parametrize(
    ("area", "lang", "district", "words"),
    [
        ("mopti", "fr", "Youwarou", "Districts concernés\u00a0: Youwarou."),
        ("bamako", "en", "Commune V", "Districts concerned: Commune V."),
    ],
)
def test_report_section_names_the_flagged_district(
    demo_run: Path, area: str, lang: str, district: str, words: str
) -> None:
    html = (demo_run / "reports" / f"data_quality_{area}_{lang}.html").read_text("utf-8")
    start = html.index('id="dq-external"')
    section = html[start : html.index("</section>", start)]
    assert words in section
    # One flagged population row per planted year, each marked for screen readers too.
    flag = "(signalé)" if lang == "fr" else "(flagged)"
    planted = [
        g
        for g in json.loads((ROOT / "data/raw/truth.json").read_text("utf-8"))["dq_population"]
        if g["district"] == district
    ]
    table = section[section.index('id="dq-external-population"') :]
    table = table[: table.index("</table>")]
    assert table.count(flag) == len(planted) > 0
