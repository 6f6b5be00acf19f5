"""``synthdid``: synthetic difference-in-differences for a block design (DESIGN §6.2).

Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021), "Synthetic Difference-in-
Differences", American Economic Review 111(12), Algorithm 1, with the solver details of
the authors' R package ``synthdid`` (see :mod:`.solver`) and its standard errors
(see :mod:`.variance`). Validated on Proposition 99 (shared/reference/sdid_prop99.md).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from sahel_eval.did.sdid import variance
from sahel_eval.did.sdid.panel import make_block
from sahel_eval.did.sdid.results import SynthDIDResult
from sahel_eval.did.sdid.solver import att, fit_weights, solver_options

SE_METHODS = ("placebo", "jackknife", "bootstrap")


def synthdid(
    df: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    treat: str,
    *,
    estimator: Literal["sdid", "sc", "did"] = "sdid",
    se: Literal["placebo", "jackknife", "bootstrap"] | None = "placebo",
    reps: int = 200,
    seed: int | None = None,
) -> SynthDIDResult:
    """Synthetic DiD, synthetic control or DiD estimate of the ATT on a treated block.

    Parameters
    ----------
    df
        Long panel: one row per unit and period.
    outcome, unit, time, treat
        Column names. ``treat`` is 0/1, 1 for treated units from the common start on;
        it must be absorbing and start at one date for all treated units.
    estimator
        ``"sdid"`` (unit and time weights), ``"sc"`` (unit weights without intercept,
        no time weights) or ``"did"`` (equal weights).
    se
        ``"placebo"`` (Algorithm 4; the only one defined with one treated unit),
        ``"jackknife"`` (Algorithm 3, fixed weights), ``"bootstrap"`` (Algorithm 2),
        or ``None`` for no SE.
    reps
        Placebo or bootstrap replicates. Placebo assignments are enumerated when
        there are at most ``reps`` distinct ones (C(N0, N1)).
    seed
        Seed of the numpy Generator for random placebo or bootstrap draws; when
        ``None`` a fresh seed is drawn and recorded in ``info["seed"]``.

    Returns
    -------
    SynthDIDResult
        Estimate, SE, interval, weights, trajectories, pre-period fit and ``info``.

    Raises
    ------
    ValueError
        Bad design (see :func:`.panel.make_block`), unknown options, or an SE that is
        undefined for the data (jackknife or bootstrap with one treated unit).
    """
    if se not in (*SE_METHODS, None):
        raise ValueError(f"synthdid: se must be one of {SE_METHODS} or None, got {se!r}")
    if not isinstance(reps, (int, np.integer)) or reps < 2:
        raise ValueError(f"synthdid: reps must be an integer ≥ 2, got {reps!r}")
    block = make_block(df, outcome, unit, time, treat)
    y, n0, t0 = block.y, block.n0, block.t0
    opts = solver_options(y, n0, t0, estimator)
    weights = fit_weights(y, n0, t0, opts)
    estimate = att(y, n0, t0, weights.omega, weights.lam)

    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)
    rng = np.random.default_rng(seed)
    warnings: list[str] = []
    enumerated = False
    if se == "placebo":
        se_value, reps_est, enumerated = variance.placebo(y, n0, t0, opts, weights, reps, rng)
    elif se == "jackknife":
        se_value, reps_est = variance.jackknife(y, n0, t0, weights)
        if estimator == "sc":
            warnings.append("jackknife_not_recommended_for_sc")
    elif se == "bootstrap":
        se_value, reps_est = variance.bootstrap(y, n0, t0, opts, weights, reps, rng)
    else:
        se_value, reps_est = float("nan"), np.array([])
    if block.dropped:
        warnings.append("units_dropped")
    if block.n1 == 1:
        warnings.append("one_treated_unit")

    controls, treated = block.units[:n0], block.units[n0:]
    pre = block.times[:t0]
    synthetic = weights.omega @ y[:n0]
    treated_mean = y[n0:].mean(axis=0)
    gap = treated_mean - synthetic
    shifted = synthetic + gap[:t0] @ weights.lam
    # Fit of the unit weights before the start, net of the intercept the estimator allows.
    offset = 0.0 if estimator == "sc" else gap[:t0].mean()
    pre_rmse = float(np.sqrt(np.mean((gap[:t0] - offset) ** 2)))
    info: dict[str, Any] = {
        "estimator": estimator,
        "outcome": outcome,
        "n_treated": int(block.n1),
        "n_controls": int(n0),
        "n_controls_effective": float(1 / np.sum(weights.omega**2)),
        "n_pre": int(t0),
        "n_post": int(block.t1),
        "start": _plain(block.start),
        "first_period": _plain(block.times[0]),
        "last_period": _plain(block.times[-1]),
        "treated_units": [_plain(u) for u in treated],
        "dropped_units": [_plain(u) for u in block.dropped],
        "n_dropped": len(block.dropped),
        "n_missing_cells": block.n_missing_cells,
        "se_method": se or "none",
        "reps": int(reps),
        "n_replicates": len(reps_est),
        "placebo_enumerated": enumerated,
        "seed": seed,
        "pre_rmse": pre_rmse,
        "pre_rmse_offset": float(offset),
        "noise_level": opts.noise_level,
        "zeta_omega": opts.zeta_omega,
        "zeta_lambda": opts.zeta_lambda,
        "iterations_omega": weights.iterations_omega,
        "iterations_lambda": weights.iterations_lambda,
    }
    return SynthDIDResult(
        estimate=estimate,
        se=se_value,
        estimator=estimator,
        unit_weights=pd.Series(weights.omega, index=controls, name="omega"),
        time_weights=pd.Series(weights.lam, index=pre, name="lambda"),
        trajectories=pd.DataFrame(
            {"treated": treated_mean, "synthetic": synthetic, "synthetic_shifted": shifted},
            index=block.times,
        ),
        replicates=reps_est,
        info=info,
        warnings=warnings,
    )


def _plain(value: Any) -> Any:
    """A label as a JSON-ready scalar: numbers and strings kept, dates etc. as text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return value if isinstance(value, (bool, int, float, str)) else str(value)
