"""Synthetic DiD beside Bamako's event study (issue 19 item 2) on the demo panel.

The planted truth to compare with is the mean Djantoli effect over the programme's
months (Nov 2017 – Oct 2019) in ``data/raw/truth.json``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from demo_panels import RAW, demo_config, demo_run, unadjusted_panel

from sahel_eval.did.analyses import AnalysisSettings
from sahel_eval.did.analyses.facility import _end_t, _variable
from sahel_eval.did.analyses.fits import _Outcome
from sahel_eval.did.analyses.headline import apply_verdicts
from sahel_eval.did.analyses.synthetic import MAX_MISSING_SHARE, synthetic_fits


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
    return {"spec": spec, "settings": settings, "fits": out}


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


def test_facts_carry_weights_fit_window_and_the_balanced_block_rule(fits: dict) -> None:
    for fs in fits["fits"].values():
        district, facility = (f.facts for f in fs)
        for facts in (district, facility):
            assert facts["window"]["from"] == "201711" and facts["window"]["to"] == "201910"
            assert facts["pre_rmse"] > 0
            weights = [w["weight"] for w in facts["unit_weights"]]
            assert weights == sorted(weights, reverse=True) and 0 < sum(weights) <= 1 + 1e-9
            assert sum(w["weight"] for w in facts["time_weights"]) == pytest.approx(1.0)
        assert district["n_treated_units"] == 1 and district["n_control_units"] == 5
        assert facility["n_treated_units"] > 1
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
