"""HonestDiD bounds of every event study of a facility analysis (DESIGN §6.1, issue 15).

Synthetic panels (seeded): 8 districts × 6 facilities × 30 months, a planted effect of
+3 per 1,000 from the start and parallel trends otherwise, so the bounds at M̄ = 0 / M = 0
must exclude 0 and a breakdown value must be positive.
"""

from __future__ import annotations

import math

import jsonschema
import numpy as np
import pandas as pd
import pytest

from sahel_eval.did.analyses import (
    AnalysisSettings,
    analysis_document,
    estimates_schema,
    run_analysis,
    single_start,
)
from sahel_eval.did.analyses.sensitivity_rows import _study, _window, facility_sensitivity
from sahel_eval.did.cs.model import att_gt
from sahel_eval.did.honest import breakdown, sensitivity
from sahel_eval.did.verdicts import OutcomeSetting

SENS = {"window_pre": 5, "window_post": 5, "mbar": [0, 1], "smoothness": [0, 0.1]}


def _panel(starts: dict[int, int], effect: float = 3.0, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(8):
        shock = rng.normal(0, 0.3, 30)
        for f in range(6):
            level = rng.normal(20, 3)
            g = starts.get(d, 0)
            for t in range(1, 31):
                y = level + 0.05 * t + shock[t - 1] + rng.normal(0, 1.0)
                y += effect if g and t >= g else 0.0
                rows.append(
                    {
                        "facility_id": f"F{d}{f}",
                        "district": f"D{d}",
                        "t": t,
                        "month": f"2020-{t:02d}",
                        "group": g,
                        "end_t": 0,
                        "visits_per_1000": y,
                        "population": 1000.0,
                        "reported": True,
                    }
                )
    return pd.DataFrame(rows)


def _settings(**sens) -> AnalysisSettings:
    return AnalysisSettings(
        wild_draws=99,
        bootstrap_draws=99,
        outcomes={"visits": OutcomeSetting(1.0, "increase")},
        primary_outcomes={"toy_staggered": ["visits"], "toy_single_start": ["visits"]},
        sensitivity={**SENS, **sens},
    )


def _spec(design: str) -> dict:
    return {
        "name": f"toy_{design}",
        "area": "toy",
        "programme": "P",
        "data": "facility",
        "design": design,
        "estimator": "callaway_santanna" if design == "staggered" else "event_study",
        "outcomes": ["visits"],
    }


@pytest.fixture(scope="module")
def staggered() -> tuple[pd.DataFrame, tuple]:
    panel = _panel({0: 13, 1: 16})
    return panel, facility_sensitivity(_spec("staggered"), panel, _settings())


def test_cs_input_is_the_universal_dynamic_aggregation(staggered) -> None:
    panel, (rows, breakdowns, inputs) = staggered
    (record,) = inputs
    assert record["fit"] == "visits:att_gt:facility:universal"
    assert record["event_times"] == [-5, -4, -3, -2, 0, 1, 2, 3, 4, 5]
    assert (record["n_pre"], record["n_post"], record["rank"]) == (4, 6, 10)
    assert record["conditional"] and "reason" not in record
    # β̂ and the standard errors are those of R did's aggte(base_period = "universal").
    tab = _universal_dynamic(panel)
    tab = tab[tab["event_time"] != -1]
    on_impact_m0 = next(
        r
        for r in rows
        if (r["restriction"], r["target"], r["parameter"])
        == ("relative_magnitude", "on_impact", 0.0)
    )
    beta0 = float(tab.loc[tab["event_time"] == 0, "estimate"].iloc[0])
    assert on_impact_m0["lower"] < beta0 < on_impact_m0["upper"]
    assert on_impact_m0["lower"] > 0  # +3 planted, se ≈ 0.4


def test_rows_equal_the_library_on_the_recorded_input(staggered) -> None:
    panel, (rows, breakdowns, _) = staggered
    settings = _settings()
    record, beta, sigma, n_pre, n_post = _study_of(panel, settings)
    avg = np.full(n_post, 1 / n_post)
    for target, l_vec in (("on_impact", None), ("average_post", avg)):
        for restriction, grid in (("relative_magnitude", SENS["mbar"]), ("smoothness", [0, 0.1])):
            mine = [r for r in rows if (r["target"], r["restriction"]) == (target, restriction)]
            ref = sensitivity(
                beta,
                sigma,
                n_pre=n_pre,
                n_post=n_post,
                restriction=restriction,
                grid=grid,
                l_vec=l_vec,
            )
            assert [r["parameter"] for r in mine] == ref["parameter"].tolist()
            # The rows come from the cached grid-and-breakdown search, whose C-LF ends can
            # differ from a fresh call within the search's numerical tolerance (2e-8 seen
            # with one BLAS thread): 1e-6 is far below any printed digit.
            np.testing.assert_allclose([r["lower"] for r in mine], ref["lower"], rtol=1e-6)
            np.testing.assert_allclose([r["upper"] for r in mine], ref["upper"], rtol=1e-6)
            (b,) = [
                x for x in breakdowns if (x["target"], x["restriction"]) == (target, restriction)
            ]
            value = breakdown(
                beta,
                sigma,
                n_pre=n_pre,
                n_post=n_post,
                restriction=restriction,
                l_vec=l_vec,
                search_max=max(grid),
            )
            assert b["beyond_grid"] == math.isinf(value)
            assert b["value"] == (max(grid) if math.isinf(value) else value)
            assert b["value"] > 0


def _universal_dynamic(panel: pd.DataFrame) -> pd.DataFrame:
    res = att_gt(
        panel,
        "visits_per_1000",
        "facility_id",
        "t",
        "group",
        control="never_treated",
        method="dr",
        unbalanced="pairwise",
        base_period="universal",
        cluster="facility_id",
    )
    return res.aggregate("dynamic", min_e=-5, max_e=5).table.iloc[1:]


def _study_of(panel: pd.DataFrame, settings: AnalysisSettings):
    from sahel_eval.did.analyses.sensitivity_rows import _cs_input

    return _cs_input(panel, "visits_per_1000", "visits", settings)


def test_sigma_is_the_facility_clustered_covariance(staggered) -> None:
    panel, _ = staggered
    record, beta, sigma, _, _ = _study_of(panel, _settings())
    tab = _universal_dynamic(panel)
    se = tab.loc[tab["event_time"].isin(record["event_times"]), "se"].to_numpy()
    np.testing.assert_allclose(np.sqrt(np.diag(sigma)), se, rtol=1e-10)


def test_single_start_gets_the_event_study_and_no_end_bin() -> None:
    panel = _panel({0: 13})
    settings = AnalysisSettings(
        **{**_settings().__dict__, "leads": 4, "lags": 48}  # e = −4 is an end bin
    )
    rows, breakdowns, inputs = facility_sensitivity(_spec("single_start"), panel, settings)
    (record,) = inputs  # no programme end: no Callaway–Sant'Anna fit is reported
    assert record["fit"] == "visits:event_study:facility"
    assert record["event_times"] == [-3, -2, 0, 1, 2, 3, 4, 5]
    assert {r["fit"] for r in rows} == {record["fit"]}
    assert len(breakdowns) == 4  # 2 targets × 2 restrictions


def test_single_start_reads_the_event_study_it_reports(monkeypatch) -> None:
    # The analysis's own facility-clustered fit is the input: the same rows as a refit,
    # with two event studies fitted (district RI, facility CRV1) instead of three.
    panel = _panel({0: 13})
    settings = AnalysisSettings(**{**_settings().__dict__, "leads": 4, "lags": 12})
    want = facility_sensitivity(_spec("single_start"), panel, settings)
    calls = []
    real = single_start.event_study
    monkeypatch.setattr(
        single_start, "event_study", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    out = run_analysis(_spec("single_start"), panel, settings)
    assert out.sensitivity == want and want[2][0]["fit"] == "visits:event_study:facility"
    assert len(calls) == 2


def test_window_is_contiguous() -> None:
    assert _window(np.array([-6, -5, -3, -2, 0, 1, 3]), 5, 5) == ([-3, -2], [0, 1])
    assert _window(np.array([-3, 0, 1]), 5, 5) == ([], [0, 1])


def test_rank_deficient_sigma_gives_a_reason_and_no_bounds() -> None:
    e = np.array([-3.0, -2.0, 0.0, 1.0])
    sigma = np.ones((4, 4))  # rank 1
    record, *_ = _study("x", "event_study", e, np.zeros(4), sigma, _settings(), outcome="v")
    assert record["reason"] == "covariance_rank_deficient" and record["rank"] == 1
    record, *_ = _study("x", "event_study", e[2:], np.zeros(2), np.eye(2), _settings())
    assert record["reason"] == "no_pre_period"


def test_no_sensitivity_settings_computes_nothing() -> None:
    panel = _panel({0: 13, 1: 16})
    assert facility_sensitivity(_spec("staggered"), panel, AnalysisSettings()) == ([], [], [])


def test_document_carries_bounds_and_validates() -> None:
    panel = _panel({0: 13, 1: 16})
    out = run_analysis(_spec("staggered"), panel, _settings())
    doc = analysis_document(out)
    validator = jsonschema.Draft202012Validator(estimates_schema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors[:5]
    assert doc["schema_version"] == 3
    assert len(doc["sensitivity"]) == 2 * (2 + 2)  # targets × (Mbar grid + M grid)
    assert {b["restriction"] for b in doc["breakdown"]} == {"relative_magnitude", "smoothness"}
    assert doc["settings"]["sensitivity"] == SENS
    broken = dict(doc["breakdown"][0], beyond_grid="yes")
    assert list(validator.iter_errors({**doc, "breakdown": [broken]}))
