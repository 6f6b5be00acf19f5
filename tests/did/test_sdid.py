"""Synthetic DiD (sahel_eval.did.sdid) on Proposition 99, a cross-check and planted truths.

Reference numbers: /work/shared/reference/sdid_prop99.md (paper Table 1 and the R
package ``synthdid``). Cross-check values: tests/data/sdid_reference.json, written by
tests/data/make_sdid_reference.py with PyPI ``synthdid`` 0.10.1 in its own venv (the
script's docstring has the commands); recorded rather than imported because that
package pins numpy 1.23 / pandas 1.5 and fails on the project's pandas. A second,
imported port, PyPI ``diff-diff`` (a test-only dependency, dev extra), checks SDID and
synthetic control at test time.
"""

from __future__ import annotations

import itertools
import json
import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from diff_diff import SyntheticControl, SyntheticDiD
from matplotlib.figure import Figure
from sdid_reference import frank_wolfe

from sahel_eval.did.sdid import SynthDIDResult, solver, synthdid
from sahel_eval.did.sdid.panel import make_block
from sahel_eval.did.sdid.solver import (
    att,
    fit_weights,
    frank_wolfe_batch,
    solver_options,
    sparsify,
    sum_normalize,
)
from sahel_eval.did.sdid.variance import placebo_assignments

DATA = Path(__file__).parents[1] / "data"
ARGS = ("packspercapita", "state", "year", "treated")


@pytest.fixture(scope="module")
def prop99() -> pd.DataFrame:
    return pd.read_csv(DATA / "prop99.csv")


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads((DATA / "sdid_reference.json").read_text())


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return pd.read_csv(DATA / "sdid_sim.csv")


@pytest.fixture(scope="module")
def sdid_placebo(prop99: pd.DataFrame) -> SynthDIDResult:
    return synthdid(prop99, *ARGS, se="placebo", seed=1)


def planted(seed: int, tau: float = 5.0, n: int = 40, t: int = 24, n1: int = 4) -> pd.DataFrame:
    """Interactive fixed effects; the treated units load more on a trending factor."""
    rng = np.random.default_rng(seed)
    alpha = rng.normal(10, 3, n)
    beta = np.cumsum(rng.normal(0, 1, t))
    load = rng.normal(1, 0.4, n)
    load[-n1:] = rng.normal(1.6, 0.2, n1)
    factor = np.linspace(0, 4, t) + np.sin(np.arange(t))
    d = np.zeros((n, t), dtype=int)
    d[-n1:, 16:] = 1
    y = alpha[:, None] + beta + load[:, None] * factor + rng.normal(0, 0.5, (n, t)) + tau * d
    return pd.DataFrame(
        {
            "unit": np.repeat([f"f{i:02d}" for i in range(n)], t),
            "month": np.tile(np.arange(t), n),
            "y": y.ravel(),
            "d": d.ravel(),
        }
    )


# --- Proposition 99 -------------------------------------------------------------------


def test_prop99_sdid_and_placebo_se(sdid_placebo: SynthDIDResult) -> None:
    r = sdid_placebo
    # sdid_prop99.md: SDID −15.604 (R synthdid_estimate −15.60383).
    assert r.estimate == pytest.approx(-15.604, abs=1e-3)
    assert r.estimate == pytest.approx(-15.60383, abs=5e-6)
    # sdid_prop99.md: one treated unit → 38 distinct placebo estimates, enumerated;
    # population SD 9.37 (sample SD 9.50).
    assert r.info["placebo_enumerated"] is True
    assert r.info["n_replicates"] == len(r.replicates) == 38
    assert r.se == pytest.approx(9.37, abs=5e-3)
    assert np.std(r.replicates, ddof=1) == pytest.approx(9.50, abs=5e-3)
    assert r.info["n_treated"] == 1 and r.info["n_controls"] == 38
    assert (r.info["n_pre"], r.info["n_post"], r.info["start"]) == (19, 12, 1989)
    assert "one_treated_unit" in r.warnings


@pytest.mark.parametrize(
    ("estimator", "table", "r_value"),
    [("sc", -19.620, -19.61966), ("did", -27.349, -27.34911)],
)
def test_prop99_sc_and_did(
    prop99: pd.DataFrame, estimator: str, table: float, r_value: float
) -> None:
    r = synthdid(prop99, *ARGS, estimator=estimator, se=None)
    # sdid_prop99.md: paper Table 1 and R sc_estimate / did_estimate.
    assert r.estimate == pytest.approx(table, abs=1e-3)
    assert r.estimate == pytest.approx(r_value, abs=5e-6)
    assert np.isnan(r.se) and r.info["se_method"] == "none"
    if estimator == "sc":
        assert (r.time_weights == 0).all()  # R sc_estimate: λ = 0
    else:
        assert np.allclose(r.unit_weights, 1 / 38) and np.allclose(r.time_weights, 1 / 19)


def test_prop99_weights_match_python_port(sdid_placebo: SynthDIDResult, reference: dict) -> None:
    ref = reference["prop99"]["sdid"]
    assert sdid_placebo.estimate == pytest.approx(ref["att"], abs=1e-9)
    omega = pd.Series(ref["omega"])
    assert list(sdid_placebo.unit_weights.index) == list(omega.index)
    np.testing.assert_allclose(sdid_placebo.unit_weights, omega, atol=1e-10)
    np.testing.assert_allclose(sdid_placebo.time_weights, ref["lambda"], atol=1e-10)
    # the sparsify step leaves 3 pre-periods (1986–88) and 28 of 38 states
    assert list(sdid_placebo.time_weights[sdid_placebo.time_weights > 0].index) == [
        1986,
        1987,
        1988,
    ]
    assert (sdid_placebo.unit_weights > 0).sum() == 28


def test_prop99_sdid_matches_diff_diff(sdid_placebo: SynthDIDResult, prop99: pd.DataFrame) -> None:
    # diff-diff's SyntheticDiD follows R synthdid's Algorithm 1 (same ζ, Frank–Wolfe and
    # sparsify step): the same estimate and weights, to rounding.
    data = prop99.assign(california=(prop99["state"] == "California").astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        port = SyntheticDiD(variance_method="placebo", n_bootstrap=2, seed=1).fit(
            data,
            "packspercapita",
            "california",
            "state",
            "year",
            post_periods=list(range(1989, 2001)),
        )
    assert sdid_placebo.estimate == pytest.approx(port.att, abs=1e-9)
    omega = pd.Series(port.unit_weights).reindex(sdid_placebo.unit_weights.index)
    np.testing.assert_allclose(sdid_placebo.unit_weights, omega, atol=1e-10)
    lam = pd.Series(port.time_weights).reindex(sdid_placebo.time_weights.index)
    np.testing.assert_allclose(sdid_placebo.time_weights, lam, atol=1e-10)


def test_prop99_sc_matches_diff_diff(prop99: pd.DataFrame) -> None:
    # R's sc_estimate: ω on the simplex, no intercept, λ = 0, ζ = 1e-6·σ (a ridge of
    # ~1e-12), i.e. the synthetic control whose predictors are the 19 pre-period outcomes
    # with equal importance: diff-diff's SyntheticControl with V = I, unstandardised,
    # which it solves exactly (NNLS). R (and this package) stop Frank–Wolfe at
    # R's rule (decrease < 1e-5·σ) after the sparsify step, so the estimates differ by
    # R's stopping rule (−19.620 against −19.514): a definitional tolerance, not a
    # solver error. What must hold: the port's weights are the optimum of the problem
    # ours approximates, ours come within 2 % of its loss, weights within 0.01.
    ours = synthdid(prop99, *ARGS, estimator="sc", se=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        port = SyntheticControl(v_method="custom", custom_v=np.ones(19), standardize="none").fit(
            prop99, "packspercapita", "treated", "state", "year", pre_period_outcomes="all"
        )
    omega = pd.Series(port.donor_weights).reindex(ours.unit_weights.index, fill_value=0.0)
    wide = prop99.pivot(index="state", columns="year", values="packspercapita")
    pre = [y for y in wide.columns if y < 1989]
    y1 = wide.loc["California", pre].to_numpy()
    y0 = wide.loc[ours.unit_weights.index, pre].to_numpy()

    def loss(w: pd.Series) -> float:
        return float(np.mean((w.to_numpy() @ y0 - y1) ** 2))

    assert omega.sum() == pytest.approx(1.0) and (omega >= 0).all()
    assert loss(omega) <= loss(ours.unit_weights) <= 1.02 * loss(omega)
    assert np.abs(omega - ours.unit_weights).max() < 0.01
    assert port.att == pytest.approx(-19.5136, abs=1e-3)
    assert ours.estimate == pytest.approx(port.att, abs=0.15)
    # Against a wrong problem the check fails: SDID's ω (intercept, regularised) is far
    # from the port's synthetic control.
    sdid = synthdid(prop99, *ARGS, se=None)
    assert loss(sdid.unit_weights) > 10 * loss(omega)


def test_prop99_did_matches_python_port(prop99: pd.DataFrame, reference: dict) -> None:
    r = synthdid(prop99, *ARGS, estimator="did", se=None)
    assert r.estimate == pytest.approx(reference["prop99"]["did"]["att"], abs=1e-9)


@pytest.mark.parametrize("state", ["Alabama", "Montana", "Texas"])
def test_prop99_cold_placebo_panels_match_python_port(
    prop99: pd.DataFrame, reference: dict, state: str
) -> None:
    """One control as the treated unit, fitted from scratch: 3 of the 38 recorded panels."""
    controls = prop99[prop99.groupby("state")["treated"].transform("max") == 0]
    fake = controls.assign(
        treated=((controls["state"] == state) & (controls["year"] >= 1989)).astype(int)
    )
    r = synthdid(fake, *ARGS, se=None)
    assert r.estimate == pytest.approx(reference["prop99"]["cold_placebo"][state], abs=1e-8)


# --- several treated units --------------------------------------------------------------


@pytest.mark.parametrize("estimator", ["sdid", "did"])
def test_sim_matches_python_port(sim: pd.DataFrame, reference: dict, estimator: str) -> None:
    r = synthdid(sim, "y", "unit", "period", "treated", estimator=estimator, se=None)
    ref = reference["sim"][estimator]
    assert r.estimate == pytest.approx(ref["att"], abs=1e-9)
    if estimator == "sdid":
        np.testing.assert_allclose(r.unit_weights, pd.Series(ref["omega"]), atol=1e-10)
        np.testing.assert_allclose(r.time_weights, ref["lambda"], atol=1e-10)


def test_planted_effect_recovered() -> None:
    """τ = 5; treated units trend faster (a factor they load more on): DiD is biased."""
    err = {"sdid": [], "did": []}
    for seed in range(3):
        df = planted(seed)
        for est in err:
            err[est].append(
                synthdid(df, "y", "unit", "month", "d", estimator=est, se=None).estimate - 5
            )
    sdid_err, did_err = np.abs(err["sdid"]), np.abs(err["did"])
    assert sdid_err.max() < 0.6 and sdid_err.mean() < 0.3
    assert did_err.mean() > 0.8


def test_jackknife_did_matches_leave_one_out_by_hand(sim: pd.DataFrame) -> None:
    r = synthdid(sim, "y", "unit", "period", "treated", estimator="did", se="jackknife")
    post = sim["period"] >= 2015

    def did(d: pd.DataFrame) -> float:
        m = d.assign(post=post[d.index]).groupby(["treated_unit", "post"])["y"].mean()
        return (m[1, True] - m[1, False]) - (m[0, True] - m[0, False])

    sim = sim.assign(treated_unit=sim.groupby("unit")["treated"].transform("max"))
    loo = np.array([did(sim[sim["unit"] != u]) for u in sim["unit"].unique()])
    n = len(loo)
    assert r.se == pytest.approx(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)), rel=1e-10)
    assert r.info["n_replicates"] == 30


def test_random_placebo_and_bootstrap_are_seeded(sim: pd.DataFrame) -> None:
    kw = {"estimator": "did", "reps": 12}  # DiD: same draws, no weights to solve
    a = synthdid(sim, "y", "unit", "period", "treated", se="placebo", seed=3, **kw)
    b = synthdid(sim, "y", "unit", "period", "treated", se="placebo", seed=3, **kw)
    c = synthdid(sim, "y", "unit", "period", "treated", se="placebo", seed=4, **kw)
    assert a.info["placebo_enumerated"] is False  # C(25, 5) = 53,130 > 12
    assert a.se == b.se and a.se != c.se and len(a.replicates) == 12
    boot = synthdid(sim, "y", "unit", "period", "treated", se="bootstrap", seed=3, **kw)
    again = synthdid(sim, "y", "unit", "period", "treated", se="bootstrap", seed=3, **kw)
    assert boot.se == again.se and 0 < boot.se < 1 and boot.info["seed"] == 3
    assert synthdid(sim, "y", "unit", "period", "treated", se="placebo", **kw).info["seed"]


@pytest.mark.parametrize(("estimator", "reps"), [("sdid", 4), ("sc", 2)])
def test_bootstrap_refits_each_draw(estimator: str, reps: int) -> None:
    """The padded, batched bootstrap equals fitting each resampled panel on its own."""
    df = planted(4, n=12, t=8, n1=3).assign(
        d=lambda x: ((x["unit"] >= "f09") & (x["month"] >= 5)).astype(int)
    )
    r = synthdid(
        df, "y", "unit", "month", "d", estimator=estimator, se="bootstrap", reps=reps, seed=9
    )
    block = make_block(df, "y", "unit", "month", "d")
    y, n0, t0 = block.y, block.n0, block.t0
    opts = solver_options(y, n0, t0, estimator)
    full = fit_weights(y, n0, t0, opts)
    rng, by_hand = np.random.default_rng(9), []
    while len(by_hand) < reps:
        ind = np.sort(rng.integers(0, len(y), size=len(y)))
        k = int(np.sum(ind < n0))
        if 0 < k < len(y):
            w = fit_weights(
                y[ind],
                k,
                t0,
                opts,
                omega_init=sum_normalize(full.omega[ind[:k]]),
                lambda_init=full.lam,
            )
            by_hand.append(att(y[ind], k, t0, w.omega, w.lam))
    np.testing.assert_allclose(r.replicates, by_hand, atol=1e-9)
    assert r.se == pytest.approx(np.std(by_hand))


def test_placebo_enumerates_when_assignments_are_few() -> None:
    rng = np.random.default_rng(0)
    perms, enumerated = placebo_assignments(6, 2, 200, rng)
    assert enumerated and len(perms) == 15  # C(6, 2)
    fakes = {tuple(sorted(p[-2:])) for p in perms}
    assert fakes == set(itertools.combinations(range(6), 2))
    assert all(sorted(p) == list(range(6)) for p in perms)
    perms, enumerated = placebo_assignments(6, 2, 10, rng)
    assert not enumerated and len(perms) == 10


# --- result object ----------------------------------------------------------------------


def test_result_object(sdid_placebo: SynthDIDResult) -> None:
    r = sdid_placebo
    frame = r.to_frame()
    assert list(frame.columns[:6]) == ["term", "estimate", "se", "ci_low", "ci_high", "p"]
    low, high = r.ci(0.95)
    assert frame.loc[0, "ci_low"] == low and low == pytest.approx(r.estimate - 1.959964 * r.se)
    assert r.ci(0.9)[0] > low
    assert 0.05 < r.p < 0.2
    assert r.unit_weights.sum() == pytest.approx(1) and r.time_weights.sum() == pytest.approx(1)
    assert r.unit_weights.index.name == "state" and r.time_weights.index.name == "year"
    # trajectories: the estimate is the post-period mean of treated − shifted synthetic
    traj = r.trajectories
    post = traj.index >= 1989
    gap = traj["treated"] - traj["synthetic_shifted"]
    assert gap[post].mean() == pytest.approx(r.estimate, abs=1e-10)
    pre_gap = (traj["treated"] - traj["synthetic"])[~post]
    assert r.pre_rmse == pytest.approx(np.sqrt(np.mean((pre_gap - pre_gap.mean()) ** 2)))
    for key in ("n_treated", "n_controls", "n_pre", "n_post", "dropped_units", "se_method"):
        assert key in r.info
    assert (r.info["reps"], r.info["seed"], r.info["n_dropped"]) == (200, 1, 0)
    text = r.summary()
    assert "-15.6" in text and "enumerated" in text and "Nevada" in text and "1988" in text
    json.dumps(r.to_dict())
    fig = r.plot()
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) >= 3


# --- design checks ----------------------------------------------------------------------


def _small() -> pd.DataFrame:
    return planted(0, n=8, t=6, n1=2).assign(
        d=lambda x: ((x["unit"] >= "f06") & (x["month"] >= 3)).astype(int)
    )


def test_missing_cells_drop_units_and_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    df = planted(1)
    full = synthdid(df, "y", "unit", "month", "d", estimator="did", se=None)
    holes = df.drop(index=df.index[(df["unit"] == "f03") & (df["month"] == 5)])
    holes.loc[(holes["unit"] == "f38") & (holes["month"] == 2), "y"] = np.nan
    with caplog.at_level(logging.WARNING, logger="sahel_eval.did.sdid"):
        r = synthdid(holes, "y", "unit", "month", "d", estimator="did", se=None)
    assert r.info["dropped_units"] == ["f03", "f38"] and r.info["n_dropped"] == 2
    assert r.info["n_missing_cells"] == 2 and "units_dropped" in r.warnings
    assert (r.info["n_controls"], r.info["n_treated"]) == (35, 3)
    assert "dropped 2 of 40 units" in caplog.text
    kept = df[~df["unit"].isin(["f03", "f38"])]
    assert (
        r.estimate == synthdid(kept, "y", "unit", "month", "d", estimator="did", se=None).estimate
    )
    assert r.estimate != full.estimate


def test_row_order_does_not_matter() -> None:
    df = planted(2)
    a = synthdid(df, "y", "unit", "month", "d", se=None)
    b = synthdid(df.sample(frac=1, random_state=1), "y", "unit", "month", "d", se=None)
    assert a.estimate == b.estimate


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda d: d.assign(d=np.where((d["unit"] == "f07") & (d["month"] == 3), 0, d["d"])),
            "staggered",
        ),
        (
            lambda d: d.assign(d=np.where((d["unit"] == "f07") & (d["month"] == 5), 0, d["d"])),
            "switches off",
        ),
        (lambda d: d.assign(d=0), "no treated unit"),
        (lambda d: d.assign(d=2 * d["d"]), "must be 0/1"),
        (lambda d: pd.concat([d, d.iloc[:1]]), "share a"),
        (
            lambda d: d.assign(d=((d["unit"] >= "f06") & (d["month"] >= 1)).astype(int)),
            "need at least 2",
        ),
        (lambda d: d.drop(columns="y"), "not in the data"),
    ],
)
def test_design_errors(change: Callable[[pd.DataFrame], pd.DataFrame], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        synthdid(change(_small()), "y", "unit", "month", "d", se=None)


@pytest.mark.parametrize("se", ["jackknife", "bootstrap"])
def test_one_treated_unit_has_no_jackknife_or_bootstrap(prop99: pd.DataFrame, se: str) -> None:
    with pytest.raises(ValueError, match="undefined with one treated unit"):
        synthdid(prop99, *ARGS, estimator="did", se=se)


def test_bad_options(prop99: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="estimator"):
        synthdid(prop99, *ARGS, estimator="mc", se=None)
    with pytest.raises(ValueError, match="se must be"):
        synthdid(prop99, *ARGS, se="wild")
    with pytest.raises(ValueError, match="reps"):
        synthdid(prop99, *ARGS, reps=1)


def test_compiled_batch_steps_agree_with_the_single_problem_solver() -> None:
    """The compiled batch loop (placebo replicates) takes the steps the numpy solver of
    one problem takes: same step counts, weights equal to rounding, with a padding
    column masked out."""
    rng = np.random.default_rng(7)
    n_rep, n, k = 6, 12, 9
    a = rng.normal(size=(n_rep, n, k))
    b = rng.normal(size=(n_rep, n))
    columns = np.ones((n_rep, k), dtype=bool)
    columns[2, -1] = False
    a[2, :, -1] = 0.0
    init = columns / columns.sum(axis=1, keepdims=True)
    kw = {"min_decrease": 1e-6, "max_iter": 500}
    x, steps = frank_wolfe_batch(
        a, b, 0.3, init=init, n_rows=np.full(n_rep, float(n)), columns=columns, **kw
    )
    for r in range(n_rep):
        real = columns[r]
        one, t = frank_wolfe(a[r][:, real], b[r], 0.3, init=init[r][real], **kw)
        assert steps[r] == t
        np.testing.assert_allclose(x[r][real], one, rtol=0, atol=1e-12)
        assert x[r][~real].sum() == 0.0
    assert steps.max() > 2  # the stopping rule, not the two-step minimum, ended them


def test_single_panel_fit_takes_the_oracle_steps(prop99: pd.DataFrame) -> None:
    """A single panel goes through the compiled batch loop; R's loop in numpy
    (tests/sdid_reference.py) takes the same steps, in both rounds of both weight
    problems, to the same weights."""
    block = make_block(prop99, *ARGS)
    y, n0, t0 = block.y, block.n0, block.t0
    opts = solver_options(y, n0, t0, "sdid")
    w = fit_weights(y, n0, t0, opts)
    pre, post = y[:n0, :t0], y[:n0, t0:].mean(axis=1)
    a_l, b_l = pre - pre.mean(axis=0), post - post.mean()
    a_o, b_o = pre.T - pre.T.mean(axis=0), y[n0:, :t0].mean(axis=0)
    b_o = b_o - b_o.mean()
    for a, b, zeta, k, weights, steps in (
        (a_l, b_l, opts.zeta_lambda, t0, w.lam, w.iterations_lambda),
        (a_o, b_o, opts.zeta_omega, n0, w.omega, w.iterations_omega),
    ):
        kw = {"min_decrease": opts.min_decrease}
        x, t1 = frank_wolfe(a, b, zeta, init=np.full(k, 1.0 / k), max_iter=100, **kw)
        x, t2 = frank_wolfe(a, b, zeta, init=sparsify(x)[0], max_iter=10_000, **kw)
        assert steps == t1 + t2
        np.testing.assert_allclose(weights, x, rtol=0, atol=1e-12)


def _steps_one_loop_per_quantity(
    a_cols: np.ndarray,
    h: np.ndarray,
    g: np.ndarray,
    ax: np.ndarray,
    x: np.ndarray,
    b: np.ndarray,
    eta: np.ndarray,
    n_rows: np.ndarray,
    columns: np.ndarray,
    z2: float,
    tol: float,
    max_iter: int,
) -> np.ndarray:
    """The batch kernel's steps with a loop per quantity (its code before the loops were
    fused), run by the interpreter."""
    n_rep, k, n = a_cols.shape
    steps = np.zeros(n_rep, dtype=np.int64)
    for r in range(n_rep):
        xr, gr, axr, br, e = x[r], g[r], ax[r], b[r], eta[r]
        cur = np.inf
        t = 0
        while t < max_iter:
            t += 1
            best, i = np.inf, 0
            for j in range(k):
                v = e * xr[j] + gr[j]
                if columns[r, j] and v < best:
                    best, i = v, j
            col = a_cols[r, i]
            d_err2 = 0.0
            for m in range(n):
                d = col[m] - axr[m]
                d_err2 += d * d
            d_x2, slope = 0.0, 0.0
            for j in range(k):
                d_xj = 1.0 - xr[j] if j == i else -xr[j]
                d_x2 += d_xj * d_xj
                slope += (e * xr[j] + gr[j]) * d_xj if j == i else -(e * xr[j] + gr[j]) * xr[j]
            den = d_err2 + e * d_x2
            step = min(1.0, max(0.0, -slope / den)) if den > 0 else 0.0
            hi = h[r, i]
            for j in range(k):
                xr[j] -= step * xr[j]
                gr[j] += step * (hi[j] - gr[j])
            xr[i] += step
            xx = 0.0
            for j in range(k):
                xx += xr[j] * xr[j]
            for m in range(n):
                axr[m] += step * (col[m] - axr[m])
            ee = 0.0
            for m in range(n):
                d = axr[m] - br[m]
                ee += d * d
            prev, cur = cur, z2 * xx + ee / n_rows[r]
            steps[r] += 1
            if t >= 2 and not prev - cur > tol:
                break
    return steps


@pytest.mark.parametrize("zeta", [0.3, 1e-3])
def test_compiled_batch_kernel_is_bit_for_bit_a_loop_per_quantity(
    zeta: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled kernel, its loops fused into two sweeps per step, returns the very bits
    of a loop per quantity: weights and step counts, with padding rows, masked columns
    (the first among them), a start at a vertex, and problems stopped either way."""
    rng = np.random.default_rng(3)
    n_rep, n, k = 6, 8, 11
    a = rng.normal(size=(n_rep, n, k))
    b = rng.normal(size=(n_rep, n))
    n_rows = np.full(n_rep, float(n))
    a[1, -2:], b[1, -2:], n_rows[1] = 0.0, 0.0, n - 2
    columns = np.ones((n_rep, k), dtype=bool)
    columns[2, [0, 5]] = False
    a[2][:, [0, 5]] = 0.0
    init = columns / columns.sum(axis=1, keepdims=True)
    init[3] = np.eye(k)[4]
    kw = {"init": init, "n_rows": n_rows, "columns": columns, "min_decrease": 0.01}
    x, steps = frank_wolfe_batch(a, b, zeta, max_iter=60, **kw)
    monkeypatch.setattr(solver, "_fw_kernel", lambda: _steps_one_loop_per_quantity)
    x_ref, steps_ref = frank_wolfe_batch(a, b, zeta, max_iter=60, **kw)
    assert x.tobytes() == x_ref.tobytes()
    np.testing.assert_array_equal(steps, steps_ref)
    assert (steps == 60).any() and (steps > 2).all() and (steps < 60).any()
