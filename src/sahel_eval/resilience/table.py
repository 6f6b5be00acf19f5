"""The resilience table of one area: every facility through every shock (DESIGN §7).

From an analysis panel (``panel_{area}``, DESIGN §4) and a shock table
(:func:`sahel_eval.resilience.shocks.shock_table`) it builds one row per facility ×
essential service × shock:

1. **Scope.** A national shock concerns every facility of the panel, a local one the
   facilities of its district. A facility with no panel row in the onset month (not
   yet open, or closed) is outside the shock's population and gets no row — exactly
   as the planted truth; every facility open at onset gets a row, assessable or not.
2. **Expected volume** Ê: :func:`~sahel_eval.resilience.expected.fit_expected` on the
   usable months (reported with a value, before onset, outside the windows of the
   other shocks that concern the facility — national ones and local ones of its
   district), all series of the area in one batched call. The programme term is the
   absorbing exposure ``t >= group`` (DESIGN §6: a programme's end does not switch
   treatment off); it is estimated only where it varies over the usable months.
3. **Indicators** over the window ``m0 … m0+H−1`` with
   :func:`~sahel_eval.resilience.indicators.window_indicators_many`, interruption per
   facility × shock over the essential services (a month with no report or no
   positive volume of any of them counts as no service), substitution, and the class.

Not-assessable rows keep every indicator empty and carry ``reason``: the codes of
:data:`sahel_eval.resilience.expected.REASONS` plus :data:`EXTRA_REASONS`.

Substitution uses, for the facility and its district alike, the months in which the
facility reported (the district total sums every facility of the district that
reported that month), so a missing report changes neither share.

The module is a little over 500 lines because :func:`resilience_table` is one batched
pass (scope, fit, indicators) over the panel arrays its helpers share; the model and
the indicators themselves live in :mod:`.expected` and :mod:`.indicators`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean.periods import month_number, to_period
from sahel_eval.resilience.design import design_matrix, pre_shock_mask
from sahel_eval.resilience.expected import fit_expected
from sahel_eval.resilience.indicators import (
    classify,
    interruption,
    substitution,
    window_indicators_many,
)
from sahel_eval.resilience.settings import ResilienceSettings

__all__ = [
    "EXTRA_REASONS",
    "INDICATOR_COLUMNS",
    "ResilienceResult",
    "recovery_time",
    "resilience_table",
]

LOG = logging.getLogger(__name__)

#: Not-assessable reasons decided here, beyond those of the expected-volume model.
EXTRA_REASONS: dict[str, str] = {
    "incomplete_window": "the shock window runs past the last month of the data",
}

#: Months of the recovery run (DESIGN §7: m0+τ, m0+τ+1, m0+τ+2).
RUN_LENGTH = 3

#: Months before onset that define the "before" share of substitution (DESIGN §7).
BEFORE_MONTHS = 12

#: Columns of :attr:`ResilienceResult.indicators`, in order.
INDICATOR_COLUMNS: tuple[str, ...] = (
    "shock_id",
    "kind",
    "facility_id",
    "district",
    "service",
    "onset",
    "onset_t",
    "group",
    "programme",
    "assessable",
    "reason",
    "n_history",
    "dispersion",
    "expected_total",
    "observed_total",
    "absorption",
    "tau",
    "censored",
    "loss",
    "loss_share",
    "resilience_index",
    "bounce_back",
    "continuity",
    "n_reported",
    "interrupted",
    "substitution",
    "pre_ratio",
    "class",
)


@dataclass
class ResilienceResult:
    """Output of :func:`resilience_table`.

    Attributes
    ----------
    indicators
        One row per facility × service × shock, columns :data:`INDICATOR_COLUMNS`.
    windows
        Long table, one row per facility × service × shock × window month ``h``:
        ``shock_id, facility_id, service, h, t, month, reported, observed, expected,
        lower, upper`` (empty numbers where not reported / not assessable).
    shocks
        The shock table with ``onset`` as ``YYYYMM``, ``onset_t`` and the number of
        facilities in scope (``n_facilities``; 0 when the shock is outside the data or
        its district is not in the panel).
    timings
        Seconds spent per step (``fit``, ``indicators``, ``total``).
    """

    indicators: pd.DataFrame
    windows: pd.DataFrame
    shocks: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _Panel:
    """The panel as (facility × month) arrays, months t = 1 … T."""

    facility_id: np.ndarray
    district: np.ndarray
    group: np.ndarray
    open: np.ndarray  # (F, T) a panel row exists
    valid: dict[str, np.ndarray]  # service -> (F, T) reported with a value
    values: dict[str, np.ndarray]  # service -> (F, T) value where valid, else NaN
    first_month: int  # month number of t = 1
    n_months: int

    def month_of_year(self, t: np.ndarray) -> np.ndarray:
        return (self.first_month + np.asarray(t, dtype=np.int64) - 1) % 12 + 1


def _arrays(panel: pd.DataFrame, services: Sequence[str]) -> _Panel:
    need = ["facility_id", "district", "t", "month", "group", "reported", *services]
    missing = [c for c in need if c not in panel.columns]
    if missing:
        raise ValueError(
            f"panel lacks column(s) {missing}; resilience.essential_services must name "
            "monthly indicators of the panel (keys of dhis2.indicators; a quarterly one has "
            "no panel column, and `make check` names its rows)"
        )
    fac, f_idx = np.unique(panel["facility_id"].astype(str).to_numpy(), return_inverse=True)
    t = panel["t"].to_numpy(dtype=np.int64)
    if t.min() < 1:
        raise ValueError("panel: month index t must start at 1")
    n_months = int(t.max())
    # t = 1 is the same calendar month in every row; take it from any row.
    first = int(month_number(panel["month"].astype(str).to_numpy()[:1])[0] - (t[0] - 1))
    n_fac = fac.size
    open_ = np.zeros((n_fac, n_months), dtype=bool)
    open_[f_idx, t - 1] = True
    reported = panel["reported"].to_numpy(dtype=bool)
    valid, values = {}, {}
    for s in services:
        v = panel[s].to_numpy(dtype=float)
        ok = reported & np.isfinite(v)
        if np.any(ok & (v < 0)):
            raise ValueError(f"panel column {s!r} holds negative volumes")
        arr = np.full((n_fac, n_months), np.nan)
        arr[f_idx[ok], t[ok] - 1] = v[ok]
        values[s] = arr
        valid[s] = np.isfinite(arr)
    first_row = pd.DataFrame({"f": f_idx, "d": panel["district"].astype(str).to_numpy()})
    first_row["g"] = panel["group"].to_numpy(dtype=np.int64)
    per_fac = first_row.groupby("f", sort=True).first()
    return _Panel(
        facility_id=fac,
        district=per_fac["d"].to_numpy(dtype=object),
        group=per_fac["g"].to_numpy(dtype=np.int64),
        open=open_,
        valid=valid,
        values=values,
        first_month=first,
        n_months=n_months,
    )


def recovery_time(at_level: np.ndarray, run_length: int = RUN_LENGTH) -> np.ndarray:
    """Smallest ``τ`` per row with ``at_level[τ : τ + run_length]`` all True, else -1.

    Parameters
    ----------
    at_level : numpy.ndarray of bool, shape (n, H)
        Month at its expected level (an unreported month must be False: it breaks
        the run).
    run_length : int
        Consecutive months required.

    Returns
    -------
    numpy.ndarray of int, shape (n,)
        τ, or -1 when censored.
    """
    n, horizon = at_level.shape
    if horizon < run_length:
        return np.full(n, -1, dtype=np.int64)
    run_ok = np.ones((n, horizon - run_length + 1), dtype=bool)
    for k in range(run_length):
        run_ok &= at_level[:, k : horizon - run_length + 1 + k]
    return np.where(run_ok.any(axis=1), np.argmax(run_ok, axis=1), -1).astype(np.int64)


def _shock_scope(shocks: pd.DataFrame, arr: _Panel) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Onset index of each shock and the facilities (indices) it concerns."""
    table = shocks.copy()
    onset_num = table["onset"].dt.year.to_numpy() * 12 + table["onset"].dt.month.to_numpy() - 1
    table["onset_t"] = (onset_num - arr.first_month + 1).astype(np.int64)
    members = []
    for row in table.itertuples(index=False):
        if not 1 <= row.onset_t <= arr.n_months:
            members.append(np.array([], dtype=np.int64))
            continue
        in_scope = np.ones(arr.facility_id.size, dtype=bool)
        if row.kind == "local":
            in_scope = arr.district == row.district
        members.append(np.flatnonzero(in_scope & arr.open[:, row.onset_t - 1]))
    table["n_facilities"] = [m.size for m in members]
    table["onset"] = table["onset"].dt.strftime("%Y%m")
    return table, members


def resilience_table(
    panel: pd.DataFrame,
    shocks: pd.DataFrame,
    settings: ResilienceSettings | None = None,
) -> ResilienceResult:
    """Resilience indicators per facility × essential service × shock.

    Parameters
    ----------
    panel
        ``panel_{area}``: ``facility_id, district, t, month, group, reported`` and
        the essential services' columns, as the cleaning stage delivers them
        (``dq.treatment`` decides what a flagged outlier becomes). A missing value
        counts as not reported for its service.
    shocks
        Shock table (:data:`~sahel_eval.resilience.shocks.SHOCK_COLUMNS`).
    settings
        Defaults of :class:`ResilienceSettings` when omitted.
    Returns
    -------
    ResilienceResult
        See the class; ``indicators`` sorted by shock (table order), facility and
        service (settings order).

    Raises
    ------
    ValueError
        When the panel lacks an essential service or its month index is malformed.
    """
    s = settings or ResilienceSettings()
    start = time.perf_counter()
    services = list(s.essential_services)
    horizon = s.window_months
    if s.recovery_rule not in ("ratio", "interval"):
        raise ValueError(f"recovery_rule must be 'ratio' or 'interval', got {s.recovery_rule!r}")
    arr = _arrays(panel, services)
    table, members = _shock_scope(shocks, arr)

    # Onsets of the shocks concerning each facility, for "other shock windows".
    n_shocks = len(table)
    onset_of = np.full((arr.facility_id.size, n_shocks), np.nan)
    # A local shock's other windows include national shocks even where the facility
    # was closed at their onset: those months are not usable either way.
    for k, row in enumerate(table.itertuples(index=False)):
        scope = (
            np.ones(arr.facility_id.size, bool)
            if row.kind == "national"
            else arr.district == row.district
        )
        onset_of[scope, k] = row.onset_t

    pairs = [(k, f) for k in range(n_shocks) for f in members[k]]
    if not pairs:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in INDICATOR_COLUMNS})
        return ResilienceResult(empty, pd.DataFrame(), table, {"total": 0.0})
    pair_shock = np.array([p[0] for p in pairs], dtype=np.int64)
    pair_fac = np.array([p[1] for p in pairs], dtype=np.int64)
    n_pairs = len(pairs)
    n_serv = len(services)
    # Series i = pair i // n_serv, service i % n_serv.
    ser_pair = np.repeat(np.arange(n_pairs), n_serv)
    ser_serv = np.tile(np.arange(n_serv), n_pairs)
    ser_fac = pair_fac[ser_pair]
    onset_t = table["onset_t"].to_numpy()[pair_shock][ser_pair]

    t_axis = np.arange(1, arr.n_months + 1)
    y = np.empty((ser_pair.size, arr.n_months))
    valid = np.empty((ser_pair.size, arr.n_months), dtype=bool)
    for j, name in enumerate(services):
        rows = ser_serv == j
        y[rows] = arr.values[name][ser_fac[rows]]
        valid[rows] = arr.valid[name][ser_fac[rows]]
    others = onset_of[ser_fac].copy()
    others[np.arange(ser_pair.size), pair_shock[ser_pair]] = np.nan
    usable = pre_shock_mask(valid, t_axis, onset_t, other_onsets_t=others, window_length=horizon)

    h_t = onset_t[:, None] + np.arange(horizon)[None, :]
    group = arr.group[ser_fac]
    prog = prog_h = None
    if s.programme_term:
        prog = ((group[:, None] > 0) & (t_axis[None, :] >= group[:, None])).astype(float)
        prog_h = ((group[:, None] > 0) & (h_t >= group[:, None])).astype(float)
    t0 = time.perf_counter()
    fit = fit_expected(
        np.where(usable, y, np.nan),
        usable,
        t_axis,
        arr.month_of_year(t_axis),
        prog,
        horizon_t=h_t,
        horizon_month_of_year=arr.month_of_year(h_t),
        horizon_programme=prog_h,
        family=s.family,
        min_history=s.min_history_months,
        n_boot=s.bootstrap_draws,
        level=s.level,
        seed=s.seed,
    )
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()

    # Window observations; months past the data are unreported.
    inside = h_t <= arr.n_months
    col = np.clip(h_t, 1, arr.n_months) - 1
    rows = np.arange(ser_pair.size)[:, None]
    obs_w = np.where(inside, y[rows, col], np.nan)
    rep_w = inside & valid[rows, col]
    complete = inside.all(axis=1)
    reason = fit.reason.astype(object).copy()
    reason[(reason == "") & ~complete] = "incomplete_window"
    ok = reason == ""

    ind = window_indicators_many(
        obs_w[ok],
        fit.expected[ok],
        rep_w[ok],
        recovery_threshold=s.recovery_threshold,
        run_length=RUN_LENGTH,
    )

    if s.recovery_rule == "interval":
        exp_ok, obs_ok, rep_ok = fit.expected[ok], obs_w[ok], rep_w[ok]
        floor = np.minimum(s.recovery_threshold * exp_ok, fit.lower[ok])
        tau_i = recovery_time(rep_ok & (np.nan_to_num(obs_ok) >= floor))
        tau_col = pd.array(tau_i, dtype="Int64")
        tau_col[tau_i < 0] = pd.NA
        ind["tau"] = tau_col
        ind["censored"] = tau_i < 0

    # Interruption per facility × shock: no essential service in a month.
    served = np.zeros((n_pairs, horizon, n_serv), dtype=bool)
    for j in range(n_serv):
        sel = ser_serv == j
        served[:, :, j] = rep_w[sel] & (np.nan_to_num(obs_w[sel]) > 0)
    interrupted_pair = np.array(
        [interruption(served[i], min_months=s.interruption_months) for i in range(n_pairs)]
    )

    sub = _substitution(arr, services, table, ser_fac, ser_serv, onset_t, horizon)
    pre_ratio = _pre_ratio(fit, y, usable, onset_t, arr, group if s.programme_term else None)

    n = ser_pair.size
    out = pd.DataFrame(
        {
            "shock_id": table["shock_id"].to_numpy()[pair_shock][ser_pair],
            "kind": table["kind"].to_numpy()[pair_shock][ser_pair],
            "facility_id": arr.facility_id[ser_fac],
            "district": arr.district[ser_fac],
            "service": np.asarray(services, dtype=object)[ser_serv],
            "onset": table["onset"].to_numpy()[pair_shock][ser_pair],
            "onset_t": onset_t.astype(np.int64),
            "group": group,
            "programme": (group > 0) & (group <= onset_t),
            "assessable": ok,
            "reason": reason,
            "n_history": fit.n_used.astype(np.int64),
            "dispersion": np.where(ok, fit.dispersion, np.nan),
        }
    )
    exp_sum = np.where(ok, np.nansum(np.where(rep_w, fit.expected, 0.0), axis=1), np.nan)
    obs_sum = np.where(ok, np.nansum(np.where(rep_w, obs_w, 0.0), axis=1), np.nan)
    out["expected_total"] = exp_sum
    out["observed_total"] = obs_sum
    for name in ("absorption", "loss", "loss_share", "resilience_index", "bounce_back"):
        col_v = np.full(n, np.nan)
        col_v[ok] = ind[name].to_numpy(dtype=float)
        out[name] = col_v
    tau = pd.array([pd.NA] * n, dtype="Int64")
    tau[np.flatnonzero(ok)] = ind["tau"].to_numpy()
    out["tau"] = tau
    censored = pd.array([pd.NA] * n, dtype="boolean")
    censored[np.flatnonzero(ok)] = ind["censored"].to_numpy()
    out["censored"] = censored
    out["continuity"] = rep_w.sum(axis=1) / horizon
    out["n_reported"] = rep_w.sum(axis=1).astype(np.int64)
    out["interrupted"] = interrupted_pair[ser_pair]
    out["substitution"] = sub
    out["pre_ratio"] = np.where(ok, pre_ratio, np.nan)
    taus = out["tau"].to_numpy(dtype=object)
    out["class"] = [
        classify(
            assessable=bool(a),
            interrupted=bool(i),
            tau=None if tau_i is pd.NA or tau_i is None else int(tau_i),
        )
        for a, i, tau_i in zip(out["assessable"], out["interrupted"], taus, strict=True)
    ]
    out = out.loc[:, list(INDICATOR_COLUMNS)]

    windows = _windows_frame(out, fit, obs_w, rep_w, h_t, ok, arr)
    t_ind = time.perf_counter() - t0
    timings = {"fit": t_fit, "indicators": t_ind, "total": time.perf_counter() - start}
    LOG.info(
        "resilience: %d series (%d facility × shock pairs, %d services), %d assessable; "
        "fit %.2f s, indicators %.2f s",
        n,
        n_pairs,
        n_serv,
        int(ok.sum()),
        t_fit,
        t_ind,
    )
    return ResilienceResult(out, windows, table, timings)


def _substitution(
    arr: _Panel,
    services: Sequence[str],
    table: pd.DataFrame,
    ser_fac: np.ndarray,
    ser_serv: np.ndarray,
    onset_t: np.ndarray,
    horizon: int,
) -> np.ndarray:
    """Change in the facility's share of district volume (window vs 12 months before)."""
    districts, d_idx = np.unique(arr.district.astype(str), return_inverse=True)
    out = np.full(ser_fac.size, np.nan)
    t_idx = np.arange(arr.n_months)
    for j, name in enumerate(services):
        vals = np.nan_to_num(arr.values[name])
        dsum = np.zeros((districts.size, arr.n_months))
        np.add.at(dsum, d_idx, vals)
        sel = np.flatnonzero(ser_serv == j)
        f = ser_fac[sel]
        m0 = onset_t[sel][:, None] - 1
        in_w = (t_idx[None, :] >= m0) & (t_idx[None, :] < m0 + horizon)
        in_b = (t_idx[None, :] >= m0 - BEFORE_MONTHS) & (t_idx[None, :] < m0)
        rep = arr.valid[name][f]
        fv = vals[f]
        dv = dsum[d_idx[f]]
        sums = [
            ((mask & rep) * v).sum(axis=1)
            for mask, v in ((in_w, fv), (in_w, dv), (in_b, fv), (in_b, dv))
        ]
        out[sel] = [substitution(a, b, c, d) for a, b, c, d in zip(*sums, strict=True)]
    return out


def _pre_ratio(
    fit: Any,
    y: np.ndarray,
    usable: np.ndarray,
    onset_t: np.ndarray,
    arr: _Panel,
    group: np.ndarray | None,
) -> np.ndarray:
    """Σ O ÷ Σ Ê over the usable months of the 12 before onset (in-sample fit).

    The "pre" reading of the programme-vs-comparison DiD: close to 1 by construction,
    it removes what is left of a facility's level difference not captured by Ê.
    """
    t_axis = np.arange(1, arr.n_months + 1)
    before = (t_axis[None, :] >= onset_t[:, None] - BEFORE_MONTHS) & (
        t_axis[None, :] < onset_t[:, None]
    )
    mask = usable & before
    prog = None
    if group is not None:
        prog = ((group[:, None] > 0) & (t_axis[None, :] >= group[:, None])).astype(float)
    x = design_matrix(
        np.broadcast_to(t_axis, y.shape), arr.month_of_year(np.broadcast_to(t_axis, y.shape)), prog
    )
    beta = np.nan_to_num(fit.params)
    mu = np.exp(np.einsum("ntp,np->nt", x, beta))
    num = np.where(mask, y, 0.0).sum(axis=1)
    den = np.where(mask, mu, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _windows_frame(
    out: pd.DataFrame,
    fit: Any,
    obs_w: np.ndarray,
    rep_w: np.ndarray,
    h_t: np.ndarray,
    ok: np.ndarray,
    arr: _Panel,
) -> pd.DataFrame:
    n, horizon = h_t.shape
    month = to_period(arr.first_month + h_t.ravel() - 1)
    return pd.DataFrame(
        {
            "shock_id": np.repeat(out["shock_id"].to_numpy(), horizon),
            "facility_id": np.repeat(out["facility_id"].to_numpy(), horizon),
            "district": np.repeat(out["district"].to_numpy(), horizon),
            "service": np.repeat(out["service"].to_numpy(), horizon),
            "programme": np.repeat(out["programme"].to_numpy(), horizon),
            "h": np.tile(np.arange(horizon), n),
            "t": h_t.ravel().astype(np.int64),
            "month": month,
            "reported": rep_w.ravel(),
            "observed": np.where(rep_w, obs_w, np.nan).ravel(),
            "expected": np.where(ok[:, None], fit.expected, np.nan).ravel(),
            "lower": np.where(ok[:, None], fit.lower, np.nan).ravel(),
            "upper": np.where(ok[:, None], fit.upper, np.nan).ravel(),
        }
    )
