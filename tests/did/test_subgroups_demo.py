"""The demo's planted subgroup effects against the subgroup rows the pipeline printed.

Data: the session's demo pipeline run (``demo_run``, tests/conftest.py),
``results/estimates/{mopti,bamako}_survey.json``, section ``subgroups``. Truth:
``data/raw/truth.json`` → ``surveys.subgroup_effects`` (the generator plants ×1.5 the
effect in clusters of the poorest two asset-wealth levels and ×0.5 above, issue 18).
Numbers are printed (``pytest -s``) so they can be quoted.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from demo_panels import RAW


def _inside(value: float, low: float | None, high: float | None) -> bool:
    lo = -math.inf if low is None else low
    hi = math.inf if high is None else high
    return lo <= value <= hi


@pytest.fixture(scope="module")
def wealth(demo_run: Path) -> dict[str, Any]:
    truth = json.loads((RAW / "truth.json").read_text(encoding="utf-8"))
    out = {}
    for area in ("mopti", "bamako"):
        doc = json.loads(
            (demo_run / "results" / "estimates" / f"{area}_survey.json").read_text("utf-8")
        )
        section = doc["subgroups"]
        name = next(
            n
            for n, s in section["definitions"].items()
            if s["variable"] == "cluster_wealth_quintile"
        )
        planted = {
            (t["outcome"], t["round"]): t
            for t in truth["surveys"]["subgroup_effects"]
            if t["area"].lower() == area
        }
        out[area] = {"section": section, "name": name, "planted": planted}
    return out


def test_planted_gap_is_inside_the_printed_interval(wealth: dict[str, Any]) -> None:
    w = wealth["mopti"]
    tests = [t for t in w["section"]["tests"] if t["subgroup"] == w["name"]]
    assert tests
    for t in tests:
        planted = w["planted"][(t["outcome"], t["round"])]["gap_pp"] / 100
        print(t["outcome"], t["round"], planted, t["estimate"], t["ci_low"], t["ci_high"], t["p"])
        assert planted > 0  # a larger effect in the poorest two quintiles was planted
        # Two treated cercles, every district kept: the design can print an interval.
        assert t["verdict"] in ("difference_shown", "not_shown") and t["p_min"] < 0.05
        assert _inside(planted, t["ci_low"], t["ci_high"])


def test_planted_group_effects_are_inside_their_intervals(wealth: dict[str, Any]) -> None:
    w = wealth["mopti"]
    rows = [
        r
        for r in w["section"]["estimates"]
        if r["subgroup"] == w["name"] and r["inference"] == "randomization"
    ]
    assert len(rows) == 2 * 2 * 2  # outcomes × rounds × groups
    for r in rows:
        planted = w["planted"][(r["outcome"], int(r["round"]))]["att_pp"][r["group_name"]] / 100
        print(r["outcome"], r["round"], r["group_name"], planted, r["ci_low"], r["ci_high"])
        assert r["ci_low"] is not None and _inside(planted, r["ci_low"], r["ci_high"])


def test_one_treated_commune_prints_no_interval(wealth: dict[str, Any]) -> None:
    for t in wealth["bamako"]["section"]["tests"]:
        assert t["verdict"] == "not_informative"
        assert t["p"] is None and t["ci_low"] is None and t["ci_high"] is None
