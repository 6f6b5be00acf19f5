"""Resilience indicators of one facility × service × shock window (DESIGN §7).

Every function here is pure and exact: it takes an observed series, an expected
series (from :mod:`sahel_eval.resilience.expected` or from the synthetic truth) and
the months the facility reported, and returns numbers that can be checked by hand.
Nothing here fits a model.

Conventions shared by all functions
-----------------------------------
Arrays are aligned on the shock window: index 0 is the onset month ``m0``, index
``H - 1`` is month ``m0 + H - 1``. ``reported[h]`` says the facility sent its report
for month ``h``; ``observed[h]`` is ignored (and may be NaN) where ``reported[h]`` is
False. A month's *performance* is ``P_h = O_h / E_h``.

Zero expected volume. ``E_h = 0`` can come from a caller's truth table (the model's
own ``E_h`` is always positive). Such a month has no shortfall (``O_h >= 0 = E_h``),
so it adds nothing to the loss and counts as "at expected level" for the recovery
run, but its ratio is undefined: ``P_h`` is NaN and the month is left out of
absorption and bounce-back. The sums of the resilience index and loss share still
include it (it adds ``O_h`` to the numerator and 0 to the denominator).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "CLASSES",
    "WindowIndicators",
    "classify",
    "interruption",
    "substitution",
    "window_indicators",
    "window_indicators_many",
]

#: Classes of :func:`classify`, in the order they are tested.
CLASSES: tuple[str, ...] = (
    "not_assessable",
    "interrupted",
    "resilient",
    "recovered",
    "not_recovered",
)

#: Number of months at the end of the window averaged by the bounce-back.
BOUNCE_BACK_MONTHS = 3


@dataclass(frozen=True)
class WindowIndicators:
    """Indicators of one shock window (DESIGN §7).

    Attributes
    ----------
    absorption : float
        ``1 - min_h P_h`` over reported months with ``E_h > 0``; NaN if there are none.
        Negative when the facility stayed above its expected volume all window.
    tau : int or None
        Time to recovery in months after onset; None when censored.
    censored : bool
        True when no recovery run fits in the window (``tau is None``).
    loss : float
        Cumulative loss ``L = sum_h max(0, E_h - O_h)`` over reported months; NaN if
        no month was reported.
    loss_share : float
        ``L / sum_h E_h`` with both sums over *reported* months only, so that an
        unreported month counts neither as lost volume nor as expected volume (a
        missing report is a data problem, measured by ``continuity``, not a loss of
        care). NaN if that denominator is 0.
    resilience_index : float
        ``sum_h O_h / sum_h E_h`` over reported months; NaN if the denominator is 0.
    bounce_back : float
        Mean ``P_h`` over the window's last three months, among those reported with
        ``E_h > 0``; NaN if there are none.
    continuity : float
        Reported months ÷ H.
    n_reported : int
        Number of reported months in the window.
    """

    absorption: float
    tau: int | None
    censored: bool
    loss: float
    loss_share: float
    resilience_index: float
    bounce_back: float
    continuity: float
    n_reported: int

    def to_dict(self) -> dict[str, float | int | bool | None]:
        """Return the indicators as a plain dict (field order kept)."""
        return asdict(self)


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(WindowIndicators))


def _check_window(
    observed: npt.ArrayLike,
    expected: npt.ArrayLike,
    reported: npt.ArrayLike,
    ndim: int,
    run_length: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    obs = np.asarray(observed, dtype=float)
    exp = np.asarray(expected, dtype=float)
    rep = np.asarray(reported)
    if rep.dtype != bool:
        raise TypeError(f"reported must be a boolean array, got dtype {rep.dtype}")
    if obs.ndim != ndim or obs.shape != exp.shape or obs.shape != rep.shape:
        raise ValueError(
            f"observed, expected and reported must be {ndim}-D arrays of one shape; got "
            f"{obs.shape}, {exp.shape}, {rep.shape}"
        )
    if obs.shape[-1] == 0:
        raise ValueError("the window must hold at least one month (H >= 1)")
    # Expected volume is needed in every month (also unreported ones are allowed to
    # be NaN there), so only reported months are validated.
    bad_exp = rep & ~(np.isfinite(exp) & (exp >= 0))
    if bad_exp.any():
        where = np.argwhere(bad_exp)[:5].tolist()
        raise ValueError(
            "expected volume must be finite and >= 0 in reported months; offending "
            f"positions (first 5): {where}"
        )
    bad_obs = rep & ~(np.isfinite(obs) & (obs >= 0))
    if bad_obs.any():
        where = np.argwhere(bad_obs)[:5].tolist()
        raise ValueError(
            "observed volume must be finite and >= 0 in reported months (a reported "
            f"month has a value); offending positions (first 5): {where}"
        )
    if run_length < 1:
        raise ValueError(f"run_length must be >= 1, got {run_length}")
    return obs, exp, rep


class _Months(NamedTuple):
    """Month-wise arrays of one window (1-D) or many (2-D), see :func:`_months`."""

    obs0: np.ndarray
    exp0: np.ndarray
    defined: np.ndarray
    perf: np.ndarray
    at_level: np.ndarray
    tail_defined: np.ndarray


def _months(
    obs: np.ndarray, exp: np.ndarray, rep: np.ndarray, recovery_threshold: float
) -> _Months:
    """Observed and expected (0 where unreported), where ``P`` is defined, ``P``, the
    months at expected level and the bounce-back months with ``P`` defined (the last
    axis is the window).

    The scalar and the vectorised forms both start here, so they give bit-identical
    numbers: sums are taken over full-length arrays with zeros in unreported months
    (not over compressed arrays), and the level is compared on the ratio where it is
    defined (no rounding difference between O >= c·E and O/E >= c).
    """
    obs0 = np.where(rep, obs, 0.0)
    exp0 = np.where(rep, exp, 0.0)
    defined = rep & (exp0 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        perf = np.where(defined, obs0 / np.where(defined, exp0, 1.0), np.nan)
    at_level = rep & np.where(defined, perf >= recovery_threshold, exp0 == 0)
    horizon = obs.shape[-1]
    tail = np.zeros(horizon, dtype=bool)
    tail[max(0, horizon - BOUNCE_BACK_MONTHS) :] = True
    return _Months(obs0, exp0, defined, perf, at_level, tail & defined)


def _first_run_start(ok: np.ndarray, run_length: int) -> int | None:
    """Smallest ``i`` with ``ok[i : i + run_length]`` all True, fully inside ``ok``."""
    count = 0
    for i, flag in enumerate(ok):
        count = count + 1 if flag else 0
        if count == run_length:
            return i - run_length + 1
    return None


def window_indicators(
    observed: npt.ArrayLike,
    expected: npt.ArrayLike,
    reported: npt.ArrayLike,
    *,
    recovery_threshold: float = 0.9,
    run_length: int = 3,
) -> WindowIndicators:
    """Compute the resilience indicators of one shock window.

    Parameters
    ----------
    observed : array_like of float, shape (H,)
        Observed volume ``O_h``, index 0 = onset month. Ignored where not reported.
    expected : array_like of float, shape (H,)
        Expected volume ``E_h`` (>= 0 in reported months).
    reported : array_like of bool, shape (H,)
        True where the facility reported the month.
    recovery_threshold : float, default 0.9
        A month is at its expected level when ``P_h >= recovery_threshold``.
    run_length : int, default 3
        Consecutive reported months at expected level that make a recovery.

    Returns
    -------
    WindowIndicators
        See the class for each definition. An all-unreported window gives NaN for
        absorption, loss, loss share, resilience index and bounce-back, ``tau=None``,
        ``censored=True``, ``continuity=0.0`` and ``n_reported=0``.

    Notes
    -----
    ``tau`` is the smallest ``tau >= 0`` such that months ``tau, …, tau+run_length-1``
    all lie inside the window, are all reported and all have ``P >= threshold``
    (``E = 0`` counts as at expected level, see the module notes). An unreported
    month breaks a run; a run cut by the window end is not a recovery.
    """
    obs, exp, rep = _check_window(observed, expected, reported, ndim=1, run_length=run_length)
    horizon = obs.shape[0]
    n_reported = int(rep.sum())
    continuity = n_reported / horizon
    if n_reported == 0:
        return WindowIndicators(
            absorption=np.nan,
            tau=None,
            censored=True,
            loss=np.nan,
            loss_share=np.nan,
            resilience_index=np.nan,
            bounce_back=np.nan,
            continuity=continuity,
            n_reported=0,
        )

    obs0, exp0, defined, perf, at_level, tail_defined = _months(obs, exp, rep, recovery_threshold)
    absorption = 1.0 - float(np.min(perf[defined])) if defined.any() else np.nan
    loss = float(np.sum(np.maximum(0.0, exp0 - obs0)))
    total_expected = float(np.sum(exp0))
    total_observed = float(np.sum(obs0))
    loss_share = loss / total_expected if total_expected > 0 else np.nan
    resilience_index = total_observed / total_expected if total_expected > 0 else np.nan

    n_tail = int(tail_defined.sum())
    bounce_back = (
        float(np.sum(np.where(tail_defined, perf, 0.0))) / n_tail if n_tail > 0 else np.nan
    )

    tau = _first_run_start(at_level, run_length)

    return WindowIndicators(
        absorption=absorption,
        tau=tau,
        censored=tau is None,
        loss=loss,
        loss_share=loss_share,
        resilience_index=resilience_index,
        bounce_back=bounce_back,
        continuity=continuity,
        n_reported=n_reported,
    )


def window_indicators_many(
    observed: npt.ArrayLike,
    expected: npt.ArrayLike,
    reported: npt.ArrayLike,
    *,
    recovery_threshold: float = 0.9,
    run_length: int = 3,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """Vectorised :func:`window_indicators` over many windows at once.

    Parameters
    ----------
    observed, expected : array_like of float, shape (n, H)
        One row per facility × service × shock, columns = window months (0 = onset).
    reported : array_like of bool, shape (n, H)
    recovery_threshold, run_length
        As in :func:`window_indicators`.
    index : pandas.Index, optional
        Index of the result (e.g. a MultiIndex facility_id, service, shock_id);
        default a RangeIndex.

    Returns
    -------
    pandas.DataFrame
        One row per window, the columns of :class:`WindowIndicators` in order;
        ``tau`` is a nullable ``Int64`` column (``<NA>`` when censored), ``censored``
        is ``bool``, ``n_reported`` is ``int64``, the rest ``float64``. Row ``i``
        equals ``window_indicators(observed[i], expected[i], reported[i])`` exactly.
    """
    obs, exp, rep = _check_window(observed, expected, reported, ndim=2, run_length=run_length)
    n, horizon = obs.shape

    n_reported = rep.sum(axis=1)
    continuity = n_reported / horizon
    any_rep = n_reported > 0

    obs0, exp0, defined, perf, at_level, tail_defined = _months(obs, exp, rep, recovery_threshold)
    any_defined = defined.any(axis=1)
    min_perf = np.min(np.where(defined, perf, np.inf), axis=1)
    absorption = np.where(any_defined, 1.0 - min_perf, np.nan)

    loss = np.sum(np.maximum(0.0, exp0 - obs0), axis=1)
    total_expected = np.sum(exp0, axis=1)
    total_observed = np.sum(obs0, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss_share = np.where(total_expected > 0, loss / total_expected, np.nan)
        resilience_index = np.where(total_expected > 0, total_observed / total_expected, np.nan)
    loss = np.where(any_rep, loss, np.nan)

    n_tail = tail_defined.sum(axis=1)
    tail_sum = np.sum(np.where(tail_defined, perf, 0.0), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        bounce_back = np.where(n_tail > 0, tail_sum / n_tail, np.nan)

    tau = np.full(n, -1, dtype=np.int64)
    if horizon >= run_length:
        # A run of run_length starts at i iff all of at_level[i : i + run_length]:
        # a sliding-window AND over the columns, then the first True per row.
        run_ok = np.ones((n, horizon - run_length + 1), dtype=bool)
        for k in range(run_length):
            run_ok &= at_level[:, k : horizon - run_length + 1 + k]
        has_run = run_ok.any(axis=1)
        tau = np.where(has_run, np.argmax(run_ok, axis=1), -1)
    censored = tau < 0
    tau_col = pd.array(tau, dtype="Int64")
    tau_col[censored] = pd.NA

    return pd.DataFrame(
        {
            "absorption": absorption,
            "tau": tau_col,
            "censored": censored,
            "loss": loss,
            "loss_share": loss_share,
            "resilience_index": resilience_index,
            "bounce_back": bounce_back,
            "continuity": continuity,
            "n_reported": n_reported.astype(np.int64),
        },
        index=index,
    )


def interruption(service_reported: npt.ArrayLike, *, min_months: int = 3) -> bool:
    """Say whether essential services were interrupted in a window.

    Parameters
    ----------
    service_reported : array_like of bool, shape (H, n_services) or (H,)
        True where the facility reported the essential service (a non-missing,
        positive volume) in that month. An unreported month must be False: it counts
        as no service. A 1-D array is one service.
    min_months : int, default 3
        Length of the no-service run that makes an interruption.

    Returns
    -------
    bool
        True if at least ``min_months`` consecutive months have no essential service
        reported at all.
    """
    arr = np.asarray(service_reported)
    if arr.dtype != bool:
        raise TypeError(f"service_reported must be boolean, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"service_reported must be 1-D or 2-D, got shape {arr.shape}")
    if min_months < 1:
        raise ValueError(f"min_months must be >= 1, got {min_months}")
    no_service = ~arr.any(axis=1)
    return _first_run_start(no_service, min_months) is not None


def substitution(
    facility_window: npt.ArrayLike,
    district_window: npt.ArrayLike,
    facility_before: npt.ArrayLike,
    district_before: npt.ArrayLike,
) -> float:
    """Change in a facility's share of its district's volume.

    ``substitution = F_w / D_w - F_b / D_b`` where ``F`` is the facility's volume,
    ``D`` the district's volume (all facilities, this one included), ``w`` the shock
    window and ``b`` the 12 months before onset. Positive: the facility took patients
    from others (e.g. people fled a closed centre); negative: it lost them.

    Parameters
    ----------
    facility_window, district_window, facility_before, district_before : array_like
        Monthly volumes (summed here) or already-summed scalars. The caller decides
        which months count (typically reported months only, the same months for the
        facility and the district); NaN is refused rather than silently dropped.

    Returns
    -------
    float
        The change in share; NaN if either district total is 0 (no share defined).
    """
    totals = []
    for name, value in (
        ("facility_window", facility_window),
        ("district_window", district_window),
        ("facility_before", facility_before),
        ("district_before", district_before),
    ):
        arr = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must hold finite volumes >= 0 (got NaN, inf or < 0)")
        totals.append(float(np.sum(arr)))
    f_w, d_w, f_b, d_b = totals
    if d_w <= 0 or d_b <= 0:
        return np.nan
    return f_w / d_w - f_b / d_b


def classify(*, assessable: bool, interrupted: bool, tau: int | None) -> str:
    """Class of a window: the first of :data:`CLASSES` that applies.

    Parameters
    ----------
    assessable : bool
        False when the expected volume could not be modelled (see
        :func:`sahel_eval.resilience.expected.fit_expected`).
    interrupted : bool
        Result of :func:`interruption`.
    tau : int or None
        Time to recovery; None when censored.

    Returns
    -------
    str
        ``"not_assessable"``, ``"interrupted"``, ``"resilient"`` (tau = 0),
        ``"recovered"`` (tau > 0) or ``"not_recovered"`` (censored).
    """
    if not assessable:
        return "not_assessable"
    if interrupted:
        return "interrupted"
    if tau is None:
        return "not_recovered"
    if tau < 0:
        raise ValueError(f"tau must be >= 0 or None, got {tau}")
    return "resilient" if tau == 0 else "recovered"
