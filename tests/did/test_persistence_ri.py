"""Conley–Taber persistence (DESIGN §6.1): p-values, the exact accepted set, verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sahel_eval.did.cs.model import att_gt
from sahel_eval.did.fieller import fieller_set
from sahel_eval.did.persistence_ri import accepted_set, conley_taber_persistence, ct_pvalue
from sahel_eval.did.verdicts import persistence_verdict


def _grid_set(a, b, a_m, b_m, alpha, grid):
    return np.array([ct_pvalue(r, a, b, a_m, b_m) > alpha for r in grid])


@pytest.mark.parametrize("seed", range(6))
def test_accepted_set_equals_the_grid_of_p_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = 40
    a_m, b_m = rng.normal(0, 1, m), rng.normal(0, 1, m)
    a, b = rng.normal(2, 1), rng.normal(3, 1)
    pieces = accepted_set(a, b, a_m, b_m, 0.05)
    grid = np.linspace(-20, 20, 8001)
    inside = np.zeros_like(grid, bool)
    for lo, hi in pieces:
        inside |= (grid >= lo) & (grid <= hi)
    assert np.array_equal(inside, _grid_set(a, b, a_m, b_m, 0.05, grid))


def test_p_min_and_ties() -> None:
    a_m = np.array([0.1, -0.2, 0.3])
    # The actual value is the most extreme: the smallest attainable p, 1/(M + 1).
    assert ct_pvalue(0.0, 5.0, 1.0, a_m, np.zeros(3)) == pytest.approx(1 / 4)
    # A placebo as extreme as the actual counts (ties are not rejections).
    assert ct_pvalue(0.0, 0.3, 1.0, a_m, np.zeros(3)) == pytest.approx(2 / 4)


def test_fieller_set_shapes() -> None:
    assert fieller_set(1.0, 0.0, -1.0) == [(-1.0, 1.0)]
    assert fieller_set(-1.0, 0.0, -1.0) == [(-np.inf, np.inf)]  # "any value"
    assert fieller_set(-1.0, 0.0, 1.0) == [(-np.inf, -1.0), (1.0, np.inf)]
    assert fieller_set(0.0, -2.0, 0.8) == [(0.4, np.inf)]  # "at least 0.4"


def test_persistence_verdicts() -> None:
    assert persistence_verdict([(0.2, 0.8)]) == "partial_persistence_shown"
    assert persistence_verdict([(0.2, np.inf)]) == "persistence_shown"
    assert persistence_verdict([(-np.inf, 0.8)]) == "decline_shown"
    assert persistence_verdict([(-0.2, 1.3)]) == "not_shown"


def _panel(n_districts: int, treated: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(n_districts):
        shock = rng.normal(0, 0.3, 40)
        for f in range(4):
            start = 11 if d < treated else 0
            for t in range(1, 41):
                effect = 0.0
                if start and start <= t <= 25:
                    effect = 4.0
                elif start and t > 25:
                    effect = 2.0  # planted persistence ratio 0.5
                y = 10 + 0.1 * t + shock[t - 1] + rng.normal(0, 0.5) + effect
                rows.append((f"F{d:02d}{f}", f"D{d:02d}", t, start, y))
    return pd.DataFrame(rows, columns=["facility_id", "district", "t", "group", "y"])


@pytest.mark.parametrize(("districts", "informative"), [(8, False), (12, True)])
def test_conley_taber_on_a_planted_ratio(districts: int, informative: bool) -> None:
    panel = _panel(districts, 2, seed=districts)
    opts = {"control": "never_treated", "method": "dr", "unbalanced": "pairwise"}
    cal = att_gt(panel, "y", "facility_id", "t", "group", **opts).aggregate("calendar")
    tab = cal.table.dropna(subset=["time"])
    after = list(tab.loc[tab["time"].between(26, 40), "term"])
    during = list(tab.loc[tab["time"].between(11, 25), "term"])
    est = tab.set_index("term")["estimate"]
    rec = conley_taber_persistence(
        panel,
        "y",
        unit="facility_id",
        time="t",
        group="group",
        cluster="district",
        after_terms=after,
        during_terms=during,
        actual_after=float(est[after].mean()),
        actual_during=float(est[during].mean()),
        level=0.95,
        **opts,
    )
    controls = districts - 2
    assert rec["permutations"] == controls * (controls - 1) // 2 + 1
    assert rec["p_min"] == pytest.approx(1 / rec["permutations"])
    if not informative:
        # C(6, 2) + 1 = 16 values: p_min = 1/16 > 5 %, nothing printed but the verdict.
        assert rec["verdict"] == "not_informative" and "ci_set" not in rec
        return
    assert rec["confidence_attained"] == pytest.approx(1 - 2 / 46, abs=1e-3)
    lo, hi = rec["ci_set"][0][0], rec["ci_set"][-1][1]
    assert lo <= 0.5 <= hi
    assert rec["verdict"] in ("partial_persistence_shown", "persistence_shown", "not_shown")
