"""Standard errors for synthetic DiD: placebo, jackknife, bootstrap (Algorithms 2–4).

Follows ``R/vcov.R`` of the R package ``synthdid`` (github.com/synth-inference/synthdid):

- placebo (Algorithm 4): N1 of the N0 controls play the treated units; weights are
  re-estimated on each placebo panel, warm-started at the full-sample weights, with
  the full sample's ζ and stopping rule. R draws ``replications`` random assignments;
  here, when there are no more distinct assignments (C(N0, N1)) than ``reps``, all of
  them are enumerated (38 with one treated unit on Proposition 99) — a random-draw SE
  varies from draw to draw, the enumerated one does not.
- jackknife (Algorithm 3): leave one unit out with the weights fixed (ω renormalised);
  undefined with one treated unit or one control of non-zero weight.
- bootstrap (Algorithm 2): resample units; draws with no treated or no control unit
  are redrawn; weights re-estimated, warm-started. Undefined with one treated unit.

Every SE is R's ``sqrt((r − 1)/r)·sd``, i.e. the population SD of the replicates.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from sahel_eval.did.sdid.solver import SolverOptions, Weights, att, att_batch, fit_weights_batch

# Largest batch of weight problems solved together (bounds the k × k gram matrices).
_BATCH_CELLS = 4_000_000


def _fit_batches(
    ctrl: np.ndarray,
    treated_mean: np.ndarray,
    t0: int,
    opts: SolverOptions,
    controls: np.ndarray | None,
    omega_init: np.ndarray,
    lambda_init: np.ndarray,
) -> np.ndarray:
    """Estimates for a batch of replicate panels, solved in memory-bounded chunks."""
    n_rep, n0, n_t = ctrl.shape
    size = max(1, _BATCH_CELLS // (n0 * n0 + n0 * n_t + t0 * t0))
    out = np.empty(n_rep)
    for lo in range(0, n_rep, size):
        sl = slice(lo, lo + size)
        w = fit_weights_batch(
            ctrl[sl],
            treated_mean[sl],
            t0,
            opts,
            controls=None if controls is None else controls[sl],
            omega_init=omega_init[sl],
            lambda_init=lambda_init[sl],
        )
        out[sl] = att_batch(ctrl[sl], treated_mean[sl], t0, w)
    return out


def _normalize_rows(w: np.ndarray) -> np.ndarray:
    """R's ``sum_normalize`` row by row (uniform over the real entries when all are 0)."""
    total = w.sum(axis=1, keepdims=True)
    return np.divide(w, total, out=np.full_like(w, np.nan), where=total != 0)


def placebo_assignments(
    n0: int, n1: int, reps: int, rng: np.random.Generator
) -> tuple[np.ndarray, bool]:
    """Orderings of the controls whose last ``n1`` entries play the treated units.

    Parameters
    ----------
    n0, n1
        Number of controls and of treated units.
    reps
        Random draws when there are more than ``reps`` distinct assignments.
    rng
        Random generator (unused when enumerating).

    Returns
    -------
    tuple
        R × n0 array of control positions and whether the assignments were enumerated.
    """
    if math.comb(n0, n1) <= reps:
        rows = [
            [j for j in range(n0) if j not in fake] + list(fake)
            for fake in itertools.combinations(range(n0), n1)
        ]
        return np.array(rows, dtype=int), True
    return np.array([rng.permutation(n0) for _ in range(reps)], dtype=int), False


def placebo(
    y: np.ndarray,
    n0: int,
    t0: int,
    opts: SolverOptions,
    weights: Weights,
    reps: int,
    rng: np.random.Generator,
) -> tuple[float, np.ndarray, bool]:
    """Placebo SE (Algorithm 4): controls re-assigned as treated.

    Returns
    -------
    tuple
        SE, placebo estimates, and whether all assignments were enumerated.
    """
    n1 = y.shape[0] - n0
    if n0 <= n1:
        raise ValueError(
            f"synthdid: the placebo SE needs more controls than treated units "
            f"({n0} controls, {n1} treated)"
        )
    perms, enumerated = placebo_assignments(n0, n1, reps, rng)
    m0 = n0 - n1
    panels = y[:n0][perms]  # R × n0 × T, pseudo-treated last
    omega_init = _normalize_rows(weights.omega[perms[:, :m0]])
    omega_init = np.where(np.isnan(omega_init), 1.0 / m0, omega_init)
    lambda_init = np.tile(weights.lam, (len(perms), 1))
    est = _fit_batches(
        panels[:, :m0],
        panels[:, m0:].mean(axis=1),
        t0,
        opts,
        None,
        omega_init,
        lambda_init,
    )
    return float(np.std(est)), est, enumerated


def jackknife(y: np.ndarray, n0: int, t0: int, weights: Weights) -> tuple[float, np.ndarray]:
    """Fixed-weights jackknife SE (Algorithm 3): leave one unit out, ω renormalised."""
    n = y.shape[0]
    if n - n0 == 1:
        raise ValueError(
            "synthdid: the jackknife SE is undefined with one treated unit (leaving it out "
            "leaves no treated unit); use se='placebo'"
        )
    if np.count_nonzero(weights.omega) == 1:
        raise ValueError(
            "synthdid: the jackknife SE is undefined when one control carries all the unit "
            "weight (leaving it out leaves no comparison); use se='placebo' or 'bootstrap'"
        )
    est = np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        omega = weights.omega[keep[:n0]] if i < n0 else weights.omega
        est[i] = att(y[keep], n0 - (i < n0), t0, omega / omega.sum(), weights.lam)
    return float(np.sqrt((n - 1) * np.mean((est - est.mean()) ** 2))), est


def bootstrap(
    y: np.ndarray,
    n0: int,
    t0: int,
    opts: SolverOptions,
    weights: Weights,
    reps: int,
    rng: np.random.Generator,
) -> tuple[float, np.ndarray]:
    """Unit bootstrap SE (Algorithm 2), weights re-estimated on every draw."""
    n, n_t = y.shape
    if n - n0 == 1:
        raise ValueError(
            "synthdid: the bootstrap SE is undefined with one treated unit (most draws "
            "hold no treated unit or only copies of it); use se='placebo'"
        )
    draws: list[np.ndarray] = []
    attempts = 0
    while len(draws) < reps:
        attempts += 1
        if attempts > 100 * reps:
            raise ValueError("synthdid: bootstrap draws keep missing treated or control units")
        ind = np.sort(rng.integers(0, n, size=n))
        n_ctrl = int(np.sum(ind < n0))
        if 0 < n_ctrl < n:
            draws.append(ind)
    m = n - 1  # most controls a valid draw can hold
    ctrl = np.zeros((reps, m, n_t))
    mask = np.zeros((reps, m), dtype=bool)
    omega_init = np.zeros((reps, m))
    treated_mean = np.empty((reps, n_t))
    for r, ind in enumerate(draws):
        c = ind[ind < n0]
        ctrl[r, : len(c)] = y[c]
        mask[r, : len(c)] = True
        omega_init[r, : len(c)] = weights.omega[c]
        treated_mean[r] = y[ind[ind >= n0]].mean(axis=0)
    omega_init = _normalize_rows(omega_init)
    uniform = mask / mask.sum(axis=1, keepdims=True)
    omega_init = np.where(np.isnan(omega_init), uniform, omega_init)
    lambda_init = np.tile(weights.lam, (reps, 1))
    est = _fit_batches(ctrl, treated_mean, t0, opts, mask, omega_init, lambda_init)
    return float(np.std(est)), est
