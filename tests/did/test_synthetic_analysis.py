"""Synthetic DiD beside Bamako's event study (issue 19 item 2) on the demo panel.

The planted truth to compare with is the mean Djantoli effect over the programme's
months (Nov 2017 – Oct 2019) in ``data/raw/truth.json``.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from demo_panels import RAW, demo_config, demo_run, unadjusted_panel

from sahel_eval.did.analyses import AnalysisSettings
from sahel_eval.did.analyses.facility import _end_t, _variable
from sahel_eval.did.analyses.fits import _Outcome
from sahel_eval.did.analyses.headline import apply_verdicts
from sahel_eval.did.analyses.synthetic import MAX_MISSING_SHARE, min_placebos, synthetic_fits


@pytest.fixture(scope="module")
def fits() -> dict:
    config = demo_config()
    spec = next(a for a in config["analyses"] if a["design"] == "single_start")
    # The planted effects are rates over the catchment population as given (see
    # unadjusted_panel): with the adjusted denominators, Commune VI's host CSCOM's rate
    # steps down in 2019 in the demo (its counts do not follow the displaced people).
    panel = unadjusted_panel(demo_run().panels[spec["area"]])
    settings = AnalysisSettings.from_config(config)
    out = {}
    for outcome in spec["outcomes"]:
        o = _Outcome(spec, panel, outcome, _variable(panel, outcome, spec, settings), settings)
        out[outcome] = synthetic_fits(o, _end_t(panel))
    return {"spec": spec, "settings": settings, "fits": out, "panel": panel}


def _truth_window_mean(outcome: str, start: str, end: str) -> float:
    truth = json.loads((RAW / "truth.json").read_text(encoding="utf-8"))
    cal = truth["effects"]["Djantoli"][outcome]["calendar"]
    months = [m for m in cal if start <= m <= end]
    return float(np.mean([cal[m] for m in months]))


def test_commune_level_is_not_informative_and_facility_level_conditional(fits: dict) -> None:
    rows = pd.concat([f.rows for fs in fits["fits"].values() for f in fs], ignore_index=True)
    rows["robustness"] = None  # as run_analysis marks the rows that are not robustness rows
    judged = apply_verdicts(rows, fits["spec"], fits["settings"])
    district = judged[judged["cluster"] == "district"]
    facility = judged[judged["cluster"] == "facility_id"]
    assert len(district) == len(facility) == len(fits["spec"]["outcomes"])
    # One treated commune of six: p_min = 1/6 > 5 %, so no assignment-level interval.
    assert (district["verdict"] == "not_informative").all()
    assert district[["p", "ci_low", "ci_high"]].isna().all().all()
    assert np.allclose(district["p_min"], 1 / 6) and (~district["conditional"]).all()
    assert facility["verdict"].isna().all() and facility["conditional"].all()
    assert (facility["ci_low"] < facility["estimate"]).all()
    assert (facility["estimate"] < facility["ci_high"]).all()
    # 5 placebo communes cannot carry an interval (issue 19, G19-2): the degenerate SE of
    # five placebo estimates is withheld with the interval, the facility level keeps both.
    assert district["se"].isna().all() and (facility["se"] > 0).all()


def test_min_placebos_is_one_over_the_test_level() -> None:
    assert min_placebos(0.95) == 20
    assert min_placebos(0.9) == 10
    assert min_placebos(0.99) == 100
    assert min_placebos(0.8) == 5


def test_commune_interval_withheld_with_too_few_placebos_and_said_why(fits: dict) -> None:
    for fs in fits["fits"].values():
        district, facility = (f.facts for f in fs)
        assert {k: v for k, v in district["placebo"].items() if k != "se"} == {
            "replicates": 5,
            "enumerated": True,
            "min_for_interval": 20,
            "interval": "withheld",
            "reason": "too_few_placebos",
        }
        # The SD of the 5 placebos, kept flagged for the Monte Carlo, never in the rows.
        assert district["placebo"]["se"] >= 0
        assert district["draws"] == 5  # placebos actually behind the fit, not the reps asked
        codes = {w["code"]: w["params"] for w in district["warnings"]}
        assert codes["placebo_too_few"] == {"placebos": 5, "minimum": 20}
        assert facility["placebo"]["interval"] == "conditional"
        assert facility["placebo"]["reason"] is None
        assert facility["placebo"]["replicates"] == fits["settings"].synthdid_reps >= 20
        assert "placebo_too_few" not in {w["code"] for w in facility["warnings"]}


def test_commune_interval_shown_when_the_level_allows_the_placebos(fits: dict) -> None:
    # At 80 % five placebos reach ⌈1/α⌉ = 5: the interval is printed (and stays beside a
    # not_informative verdict, since one treated commune can reject nothing).
    settings = dataclasses.replace(fits["settings"], level=0.8)
    spec, panel = fits["spec"], fits["panel"]
    o = _Outcome(
        spec, panel, "deliveries", _variable(panel, "deliveries", spec, settings), settings
    )
    district = synthetic_fits(o, _end_t(panel))[0]
    row = district.rows.iloc[0]
    assert row["se"] > 0 and row["ci_low"] < row["estimate"] < row["ci_high"]
    assert district.facts["placebo"]["interval"] == "conditional"
    assert "placebo_too_few" not in {w["code"] for w in district.facts["warnings"]}


def test_facts_carry_weights_fit_window_and_the_balanced_block_rule(fits: dict) -> None:
    for fs in fits["fits"].values():
        district, facility = (f.facts for f in fs)
        for facts in (district, facility):
            assert facts["window"]["from"] == "201711" and facts["window"]["to"] == "201910"
            assert facts["pre_rmse"] > 0
            weights = [w["weight"] for w in facts["unit_weights"]]
            # Every non-zero unit weight (the weights table), largest first.
            assert weights == sorted(weights, reverse=True) and min(weights) > 0
            assert sum(weights) == pytest.approx(1.0)
            assert sum(w["weight"] for w in facts["time_weights"]) == pytest.approx(1.0)
        assert district["n_treated_units"] == 1 and district["n_control_units"] == 5
        assert facility["n_treated_units"] > 1
        assert len(facility["unit_weights"]) > 10  # more than the former top ten
        assert facility["max_missing_share"] == MAX_MISSING_SHARE
        assert facility["cells_filled"] > 0 and facility["facilities_dropped"] >= 0
        assert any(w["code"] == "conditional_on_no_cluster_shocks" for w in facility["warnings"])


def test_estimates_are_near_the_planted_window_mean(fits: dict) -> None:
    # Rates: both levels within 25 % of the planted mean effect over the programme's
    # months. Quality-of-care ratios (planted ANC retention +1.7 points, noise of a ratio
    # of small monthly counts): the planted mean inside the facility-level interval.
    ratios = fits["settings"].quality_ratios
    checked = set()
    for outcome, fs in fits["fits"].items():
        if outcome not in _planted_outcomes():
            continue  # nothing planted (Penta drop-out)
        truth = _truth_window_mean(outcome, "201711", "201910")
        for f in fs:
            row = f.rows.iloc[0]
            est = float(row["estimate"])
            print(f"{outcome} {f.facts['level']}: {est:.3f} vs planted {truth:.3f}")
            if outcome not in ratios:
                assert abs(est - truth) <= 0.25 * abs(truth)
            elif f.facts["level"] == "facility":
                assert row["ci_low"] <= truth <= row["ci_high"]
        checked.add(outcome)
    assert {"anc_retention", "delivery_coverage", "consultations_all"} <= checked


def _planted_outcomes() -> set[str]:
    truth = json.loads((RAW / "truth.json").read_text(encoding="utf-8"))
    return set(truth["effects"]["Djantoli"])
