"""Issue 14: studentised RI with exact inversion, attained levels, verdicts, rank checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sahel_eval.did.inference.studentized import attained_level, studentized_ri
from sahel_eval.did.twfe_ri import twfe_assignment_ri
from sahel_eval.did.verdicts import holm, mde, pretest_verdict, verdict
from sahel_eval.stats.covariance import covariance_rank


def _brute_p(theta, b, c, v, b0, c0, v0, enumerated=True):
    def t(bb, cc, vv):
        var = vv[0] - 2 * theta * vv[1] + theta**2 * vv[2]
        return np.abs(bb - theta * cc) / np.sqrt(var)

    t0 = t(b0, c0, v0)
    tm = t(b, c, v)
    hits = (tm >= t0 * (1 - 1e-9)).sum()
    return hits / len(b) if enumerated else (1 + hits) / (len(b) + 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_inverted_interval_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = 28
    b = rng.normal(0, 1, m)
    c = rng.normal(0, 0.4, m)
    s_y = rng.normal(0, 1, (m, 6))
    s_d = rng.normal(0, 0.3, (m, 6))
    v = ((s_y**2).sum(1), (s_y * s_d).sum(1), (s_d**2).sum(1))
    b[0], c[0] = 3.0, 1.0  # the actual assignment is among the enumerated ones
    v0 = tuple(x[0] for x in v)
    res = studentized_ri(b, c, v, b[0], c[0], v0, enumerated=True, level=0.95)
    assert res.p == pytest.approx(_brute_p(0.0, b, c, v, b[0], c[0], v0))
    assert res.p_min == pytest.approx(1 / 28) and res.confidence_attained == 0.964
    grid = np.linspace(-20, 20, 4001)
    accepted = np.array([_brute_p(x, b, c, v, b[0], c[0], v0) > 0.05 for x in grid])
    inside = grid[accepted]
    if np.isfinite(res.ci_low) and inside.size:
        assert inside.min() >= res.ci_low - 1e-6
    if np.isfinite(res.ci_high) and inside.size:
        assert inside.max() <= res.ci_high + 1e-6
    for x in (res.ci_low, res.ci_high):
        if np.isfinite(x):
            assert _brute_p(x, b, c, v, b[0], c[0], v0) > 0.05


def test_attained_levels() -> None:
    assert attained_level(0.95, 28, enumerated=True) == 0.964
    assert attained_level(0.95, 16, enumerated=True) == 1.0  # p_min = 1/16 > 5 %
    assert attained_level(0.95, 9999, enumerated=False) == 0.95


def test_verdict_table_first_match_wins() -> None:
    kw = {"level": 0.95, "smallest_effect": 1.0}
    assert verdict(treated=1, p_min=0.1, ci_low=2, ci_high=3, **kw) == "not_informative"
    assert verdict(treated=2, p_min=1 / 16, ci_low=2, ci_high=3, **kw) == "not_informative"
    assert verdict(treated=2, p_min=1 / 28, ci_low=0.1, ci_high=3, **kw) == "increase_shown"
    assert verdict(treated=2, p_min=1 / 28, ci_low=-3, ci_high=-0.1, **kw) == "decrease_shown"
    assert verdict(treated=2, p_min=1 / 28, ci_low=-0.5, ci_high=0.9, **kw) == "no_large_effect"
    assert verdict(treated=2, p_min=1 / 28, ci_low=-0.5, ci_high=1.5, **kw) == "not_shown"
    assert verdict(treated=2, p_min=1 / 28, ci_low=-np.inf, ci_high=0.5, **kw) == "not_shown"
    assert mde(1.0, 0.2, 2.5, "increase") == pytest.approx(0.8)
    assert mde(1.0, 0.2, 2.5, "decrease") == pytest.approx(1.5)
    assert mde(1.0, -np.inf, 2.5, "increase") is None


def test_pretest_verdicts_and_holm() -> None:
    assert pretest_verdict(None, None, 0.95) == "not_testable"
    assert pretest_verdict(0.2, 1 / 6, 0.95) == "not_testable"
    assert pretest_verdict(1 / 28, 1 / 28, 0.95) == "pretrend_rejected"
    assert pretest_verdict(0.2, 1 / 28, 0.95) == "pretrend_not_rejected"
    np.testing.assert_allclose(holm([0.01, 0.04, np.nan, 0.03]), [0.03, 0.06, np.nan, 0.06])


def test_cluster_covariance_rank_is_at_most_g_minus_1() -> None:
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(6, 11))  # 6 clusters, 11 coefficients
    scores -= scores.mean(axis=0)
    v = scores.T @ scores
    assert covariance_rank(v) == 5
    assert covariance_rank(np.eye(3)) == 3


def test_twfe_ri_recovers_a_planted_effect() -> None:
    rng = np.random.default_rng(4)
    rows = []
    for d in range(8):
        start = 10 if d < 2 else 0
        shock = rng.normal(0, 0.3, 20)
        for f in range(5):
            alpha = rng.normal()
            for t in range(1, 21):
                effect = 2.0 if start and t >= start else 0.0
                y = alpha + 0.1 * t + shock[t - 1] + effect + rng.normal(0, 0.5)
                rows.append((f"d{d}", f"d{d}f{f}", t, start, y))
    df = pd.DataFrame(rows, columns=["district", "facility", "t", "group", "y"])
    ri = twfe_assignment_ri(df, "y", "facility", "t", "group", "district", level=0.95)
    assert ri.permutations == 28 and ri.enumerated
    r = ri.result
    assert r.p == pytest.approx(1 / 28)
    assert r.ci_low < 2.0 < r.ci_high


def test_two_way_within_equals_least_squares_residuals() -> None:
    """The count-based unit + period projection equals OLS on dummies.

    Unbalanced panel (a third of the cells missing), several columns at once.
    """
    from sahel_eval.stats.linear import TwoWayWithin

    rng = np.random.default_rng(9)
    units, periods = 30, 12
    u, t = np.meshgrid(np.arange(units), np.arange(periods), indexing="ij")
    keep = rng.random(u.size) > 0.33
    u, t = u.ravel()[keep], t.ravel()[keep]
    v = rng.normal(size=(len(u), 3))
    dummies = np.column_stack(
        [(u == i).astype(float) for i in range(units)]
        + [(t == s).astype(float) for s in range(1, periods)]
    )
    want = v - dummies @ np.linalg.lstsq(dummies, v, rcond=None)[0]
    within = TwoWayWithin(u, t)
    assert within.rank == periods - 1
    np.testing.assert_allclose(within.residuals(v), want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_onset_residuals_are_the_residuals_of_the_formed_columns(weighted: bool) -> None:
    """The compiled onset columns give :meth:`residuals`' bits (unbalanced, NaN starts)."""
    from sahel_eval.stats.linear import TwoWayWithin

    rng = np.random.default_rng(3)
    units, periods = 25, 14
    u, t = np.meshgrid(np.arange(units), np.arange(periods), indexing="ij")
    keep = rng.random(u.size) > 0.3
    u, t = u.ravel()[keep], t.ravel()[keep]
    time = t + 2001.0
    starts = rng.choice([np.nan, 2004.0, 2008.0, 2010.5], size=(6, units))
    within = TwoWayWithin(u, t, rng.uniform(0.5, 2.0, len(u)) if weighted else None)
    want = within.residuals((time[:, None] >= starts[:, u].T).astype(float))
    np.testing.assert_array_equal(within.onset_residuals(time, starts), want)
