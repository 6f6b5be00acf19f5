"""Callaway & Sant'Anna (2021) group-time average treatment effects.

Model. Units belong to cohorts ``g`` (first period of exposure; ``g = 0`` never
treated; treatment is absorbing). For each cohort ``g`` and period ``t`` the estimand is

    ATT(g, t) = E[Y_t(g) − Y_t(0) | G = g],

identified under conditional parallel trends from the 2×2 comparison of cohort ``g``
with a comparison group ``C`` (never treated, or not yet treated by
``max(t, b) + anticipation``) between ``t`` and a base period ``b``:

    ATT(g, t) = E[Y_t − Y_b | G = g] − E[ w(X) (Y_t − Y_b) | C ]   (IPW form),

with ``b = g − anticipation − 1`` (last untreated period) for post-treatment cells and,
for pre-treatment cells, ``b = t − 1`` (``base_period="varying"``) or ``g − δ − 1``
(``"universal"``). Each 2×2 is estimated by Sant'Anna & Zhao (2020) doubly robust,
normalised IPW or outcome regression (:mod:`sahel_eval.did._drdid`), exactly as R
``did::att_gt`` does. Inference uses the influence functions ``psi`` (n_units ×
n_cells): analytic ``se = sqrt(sum psi**2) / n`` (cluster sums when ``cluster`` is
given) or the multiplier bootstrap with sup-t uniform bands
(:mod:`sahel_eval.did.inference.multiplier`).

Aggregations (``AttGtResult.aggregate``) follow R ``did::aggte``: weighted averages of
ATT(g, t) with cohort-size weights ``P(G = g)``, whose estimation is part of the
influence function (the "wif" term). Every aggregate is a linear map of one basis
``[psi, omega]`` (``omega_g = w_i 1{G_i = g} − P(G = g)``), so each result carries its
coefficient vectors: standard errors are quadratic forms of one Gram matrix and
bootstrap draws are taken once and reused, which keeps ratios of aggregates (the
persistence ratio) consistent with both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from sahel_eval.did import _drdid
from sahel_eval.did.fieller import fieller_ratio
from sahel_eval.did.inference.multiplier import (
    SE_ZERO,
    bootstrap_inference,
    cluster_sums,
    multiplier_draws,
)
from sahel_eval.did.results import EstimateResult, WarningCode

__all__ = [
    "AggregateResult",
    "AttGtPoints",
    "AttGtResult",
    "RatioResult",
    "att_gt",
]

SMALL_GROUP = 5


# ----------------------------------------------------------------------------- results


@dataclass
class AttGtResult(EstimateResult):
    """Group-time ATTs with their influence functions.

    Attributes
    ----------
    influence
        (n_units × n_cells) influence functions, columns in table order, rows in
        ``unit_ids`` order; ``se = sqrt(sum psi**2) / n_units`` without clusters.
    unit_ids
        Unit labels for the rows of ``influence`` (row numbers for repeated
        cross-sections).
    """

    influence: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    unit_ids: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _basis: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _gram: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _draws: np.ndarray | None = field(default=None, repr=False)
    _cohorts: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _pg: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    _cluster_codes: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_units(self) -> int:
        """Number of units (rows of the influence-function matrix)."""
        return int(self.influence.shape[0])

    def aggregate(
        self,
        kind: Literal["simple", "group", "calendar", "dynamic"],
        *,
        balance_e: int | None = None,
        min_e: float = -np.inf,
        max_e: float = np.inf,
        level: float | None = None,
    ) -> AggregateResult:
        """Aggregate ATT(g, t) as R ``did::aggte``.

        Parameters
        ----------
        kind
            ``"simple"``: ``Σ_{t≥g} P(G=g) ATT(g,t) / Σ P(G=g)`` over post cells;
            ``"group"``: per cohort the mean of its post cells, overall weighted by
            ``P(G=g)``; ``"dynamic"``: per event time ``e = t − g`` the
            ``P(G=g)``-weighted mean, overall the mean over ``e ≥ 0``;
            ``"calendar"``: per period ``t`` the ``P(G=g)``-weighted mean over cohorts
            already treated, overall the mean over periods.
        balance_e
            Dynamic only: keep cohorts observed for at least ``balance_e`` periods after
            treatment and event times ``e ≤ balance_e``.
        min_e, max_e
            Event-time window (simple, group, dynamic; ignored for calendar as in R).
        level
            Confidence level; defaults to the level of the ``att_gt`` call.

        Returns
        -------
        AggregateResult
            Tidy table with an ``overall`` row first, then one row per term.
        """
        return _aggregate(self, kind, balance_e=balance_e, min_e=min_e, max_e=max_e, level=level)


@dataclass
class AggregateResult(EstimateResult):
    """An aggregation of ATT(g, t), keeping influence functions of every row.

    Attributes
    ----------
    influence
        (n_units × n_terms) influence functions of the per-term rows (table rows after
        ``overall``, in table order).
    overall_influence
        (n_units,) influence function of the overall row.
    coef
        (n_basis × n_rows) coefficients of every table row on the parent's basis.
    """

    influence: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    overall_influence: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    coef: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    parent: AttGtResult = field(default=None, repr=False)  # type: ignore[assignment]

    def ratio(
        self,
        numerator: Iterable[Any],
        denominator: Iterable[Any],
        *,
        level: float | None = None,
    ) -> RatioResult:
        """Ratio of two means of terms: delta-method SE, Fieller confidence set.

        ``r = mean_{a∈A} θ_a / mean_{b∈B} θ_b``, with influence function
        ``(ψ_A − r ψ_B) / θ_B``. Used for persistence: the mean calendar-time ATT over
        the 24 months after a programme ends divided by the mean over its last 24
        months, e.g. ``cal.ratio(range(t_end + 1, t_end + 25), range(t_end - 23,
        t_end + 1))``. The interval is :func:`~sahel_eval.did.fieller.fieller_ratio`'s
        (t critical value with Welch–Satterthwaite df over the fit's clusters), always
        analytic: a multiplier bootstrap over a handful of clusters (2 treated cercles)
        gave standard errors below the facility-level ones.

        Parameters
        ----------
        numerator, denominator
            Terms, given either as term labels (``"ATT(t=2004)"``) or as values of the
            aggregation's key column (``time`` for calendar, ``event_time`` for dynamic,
            ``group`` for group).
        level
            Confidence level; defaults to this result's level.

        Returns
        -------
        RatioResult
            One row ``ratio``: estimate, delta-method se, ``df``, the Fieller
            ``ci_low``/``ci_high`` (infinite when unbounded) with ``ci_note``,
            ``p_vs_1`` (ratio = 1), and the numerator and denominator means with
            their SEs.
        """
        level = self.info["level"] if level is None else level
        ia = self._term_index(numerator, "numerator")
        ib = self._term_index(denominator, "denominator")
        est = self.table["estimate"].to_numpy()
        theta_a, theta_b = est[ia].mean(), est[ib].mean()
        if theta_b == 0:
            raise ValueError("ratio: the denominator mean is exactly zero")
        basis = self.parent._basis
        psi_a = basis @ self.coef[:, ia].mean(axis=1)
        psi_b = basis @ self.coef[:, ib].mean(axis=1)
        f = fieller_ratio(
            theta_a, psi_a, theta_b, psi_b, level=level, cluster=self.parent._cluster_codes
        )
        r = f["estimate"]
        labels = self.table["term"].to_numpy()
        table = pd.DataFrame(
            {
                "term": ["ratio"],
                "estimate": [r],
                "se": [f["se"]],
                "df": [f["df"]],
                "ci_low": [f["ci_low"]],
                "ci_high": [f["ci_high"]],
                "ci_note": [f["ci_note"]],
                "p": [f["p"]],
                "p_vs_1": [f["p_vs_1"]],
                "numerator": [theta_a],
                "se_numerator": [f["se_numerator"]],
                "denominator": [theta_b],
                "se_denominator": [f["se_denominator"]],
            }
        )
        info = {
            "estimator": "callaway_santanna_ratio",
            "aggregation": self.info["aggregation"],
            "numerator_terms": list(labels[ia]),
            "denominator_terms": list(labels[ib]),
            "inference": "fieller_satterthwaite",
            "level": level,
            "n_units": self.parent.n_units,
        }
        return RatioResult(
            table=table,
            info=info,
            warnings=list(self.warnings),
            influence=(psi_a - r * psi_b) / theta_b,
        )

    def _term_index(self, sel: Iterable[Any], what: str) -> np.ndarray:
        sel = list(sel)
        if not sel:
            raise ValueError(f"ratio: the {what} selects no terms")
        t = self.table.iloc[1:]
        key = {"group": "group", "dynamic": "event_time", "calendar": "time"}.get(
            self.info["aggregation"]
        )
        idx = []
        for s in sel:
            hit = np.flatnonzero(t["term"].to_numpy() == s)
            if hit.size == 0 and key is not None and not isinstance(s, str):
                hit = np.flatnonzero(t[key].to_numpy() == s)
            if hit.size == 0:
                raise ValueError(
                    f"ratio: {what} term {s!r} is not in this {self.info['aggregation']} "
                    f"aggregation; available: {list(t['term'])}"
                )
            idx.append(int(hit[0]) + 1)
        return np.asarray(idx)


@dataclass
class RatioResult(EstimateResult):
    """Ratio of two aggregates; ``influence`` is its delta-method influence function."""

    influence: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]


# ------------------------------------------------------------------------ preparation


@dataclass
class _Data:
    """Arrays for estimation; unit-level except the ``rc_*`` row-level arrays."""

    mode: str  # "panel" or "rc"
    times: np.ndarray  # sorted period values
    unit_ids: np.ndarray
    unit_group: np.ndarray  # cohort per unit (0 = never)
    unit_weight: np.ndarray  # normalised to mean one
    cluster_codes: np.ndarray | None
    n_clusters: int | None
    n_rows: int
    Y: np.ndarray | None = None  # panel: (n_units, T)
    X: np.ndarray | None = None  # panel: (n_units, T, k)
    rc_y: np.ndarray | None = None
    rc_X: np.ndarray | None = None
    rc_w: np.ndarray | None = None
    rc_t: np.ndarray | None = None  # period index per row
    rc_unit: np.ndarray | None = None  # unit code per row
    warnings: list[WarningCode] = field(default_factory=list)


def _prepare(
    df: pd.DataFrame,
    outcome: str,
    unit: str | None,
    time: str,
    group: str,
    covariates: Sequence[str],
    panel: bool,
    weights: str | None,
    cluster: str | None,
    unbalanced: str = "repeated_cross_section",
) -> tuple[_Data, int]:
    needed = [outcome, time, group, *covariates]
    if unit is not None:
        needed.append(unit)
    elif panel:
        raise ValueError("att_gt: panel=True needs `unit` (the unit id column)")
    for c in (weights, cluster):
        if c is not None:
            needed.append(c)
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise ValueError(
            f"att_gt: columns {missing} are not in the data (columns: {list(df.columns)})"
        )
    cols = list(dict.fromkeys(needed))
    sub = df.loc[:, cols]
    keep = sub.notna().all(axis=1).to_numpy()
    n_dropped = int((~keep).sum())
    sub = sub.loc[keep]
    if len(sub) == 0:
        raise ValueError("att_gt: no rows left after dropping rows with missing values")

    y = sub[outcome].to_numpy(dtype=float)
    tvals = sub[time].to_numpy(dtype=float)
    gvals = sub[group].to_numpy(dtype=float)
    w = np.ones(len(sub)) if weights is None else sub[weights].to_numpy(dtype=float)
    if np.any(w < 0) or not np.any(w > 0):
        raise ValueError(f"att_gt: weights column {weights!r} has negative or all-zero values")
    X = np.column_stack([np.ones(len(sub))] + [sub[c].to_numpy(dtype=float) for c in covariates])
    times, t_idx = np.unique(tvals, return_inverse=True)
    warns: list[WarningCode] = []

    # R did recodes cohorts first treated after the sample as never treated.
    late = gvals > times[-1]
    if late.any():
        gvals = np.where(late, 0.0, gvals)
        warns.append(WarningCode("treated_after_sample", {"n_rows": int(late.sum())}))

    if panel:
        ucodes, uids = pd.factorize(sub[unit], sort=True)
        ucodes = ucodes.astype(np.int64)
        n_units = len(uids)
        key = ucodes * len(times) + t_idx
        cell_count = np.bincount(key, minlength=n_units * len(times))
        if cell_count.max() > 1:
            raise ValueError(
                f"att_gt: some ({unit}, {time}) pairs appear more than once; a panel needs "
                "one row per unit and period (pass panel=False for repeated cross-sections)"
            )
        for name, v in (("group", gvals), ("weights", w)):
            lo = np.full(n_units, np.inf)
            hi = np.full(n_units, -np.inf)
            np.minimum.at(lo, ucodes, v)
            np.maximum.at(hi, ucodes, v)
            if np.any(lo != hi):
                bad = uids[np.flatnonzero(lo != hi)[:5]]
                raise ValueError(
                    f"att_gt: {name} varies within unit for units {list(bad)}; "
                    f"{'the cohort' if name == 'group' else 'sampling weights'} must be "
                    "constant within unit in a panel"
                )
        unit_group = np.zeros(n_units)
        unit_group[ucodes] = gvals
        unit_w = np.zeros(n_units)
        unit_w[ucodes] = w
        row_cluster = None if cluster is None else sub[cluster].to_numpy()
        cluster_codes, n_clusters = _unit_clusters(row_cluster, ucodes, n_units, uids, cluster)
        balanced = bool(cell_count.min() == 1)
        base = dict(
            times=times,
            unit_ids=np.asarray(uids),
            unit_group=unit_group,
            unit_weight=unit_w / unit_w.mean(),
            cluster_codes=cluster_codes,
            n_clusters=n_clusters,
            n_rows=len(sub),
        )
        if balanced or unbalanced == "pairwise":
            # Unobserved unit-periods stay NaN: a pairwise 2×2 keeps the units observed
            # in both of its periods (on a balanced panel that is every unit).
            Y = np.full((n_units, len(times)), np.nan)
            Y[ucodes, t_idx] = y
            Xw = np.full((n_units, len(times), X.shape[1]), np.nan)
            Xw[ucodes, t_idx] = X
            if not balanced:
                warns.append(_unbalanced_warning(ucodes, n_units, len(times), unbalanced))
            return _Data(mode="panel", Y=Y, X=Xw, warnings=warns, **base), n_dropped
        # Unbalanced: as R did's allow_unbalanced_panel, estimate each 2×2 on the rows
        # as repeated cross-sections, then sum influence functions within unit.
        warns.append(_unbalanced_warning(ucodes, n_units, len(times), unbalanced))
        return (
            _Data(
                mode="rc",
                rc_y=y,
                rc_X=X,
                rc_w=w / w.mean(),
                rc_t=t_idx,
                rc_unit=ucodes,
                warnings=warns,
                **base,
            ),
            n_dropped,
        )

    # Repeated cross-sections: every row is its own unit (R did's .rowid).
    n = len(sub)
    codes = np.arange(n)
    row_cluster = None if cluster is None else sub[cluster].to_numpy()
    cluster_codes, n_clusters = _unit_clusters(row_cluster, codes, n, codes, cluster)
    wn = w / w.mean()
    return (
        _Data(
            mode="rc",
            times=times,
            unit_ids=sub.index.to_numpy(),
            unit_group=gvals,
            unit_weight=wn,
            cluster_codes=cluster_codes,
            n_clusters=n_clusters,
            n_rows=n,
            rc_y=y,
            rc_X=X,
            rc_w=wn,
            rc_t=t_idx,
            rc_unit=codes,
            warnings=warns,
        ),
        n_dropped,
    )


def _unbalanced_warning(
    ucodes: np.ndarray, n_units: int, n_times: int, unbalanced: str
) -> WarningCode:
    counts = np.bincount(ucodes, minlength=n_units)
    return WarningCode(
        "unbalanced_panel",
        {"n_units_incomplete": int((counts < n_times).sum()), "handling": unbalanced},
    )


def _unit_clusters(
    row_cluster: np.ndarray | None,
    ucodes: np.ndarray,
    n_units: int,
    uids: Any,
    cluster: str | None,
) -> tuple[np.ndarray | None, int | None]:
    if row_cluster is None:
        return None, None
    ccodes, labels = pd.factorize(row_cluster, sort=True)
    unit_c = np.full(n_units, -1, dtype=np.int64)
    unit_c[ucodes] = ccodes
    if np.any(unit_c[ucodes] != ccodes):
        bad = np.unique(ucodes[unit_c[ucodes] != ccodes])[:5]
        raise ValueError(
            f"att_gt: cluster column {cluster!r} varies within unit for units "
            f"{list(np.asarray(uids)[bad])}; clusters must contain whole units"
        )
    return unit_c, len(labels)


# --------------------------------------------------------------------------- estimation


@dataclass
class _Cell:
    g: float
    t: float
    ti: int
    bi: int  # base-period index
    zero: bool  # universal base period cell: ATT = 0 by construction


def _plan_cells(
    times: np.ndarray, cohorts: np.ndarray, base_period: str, anticipation: int
) -> list[_Cell]:
    cells = []
    for g in cohorts:
        pre = np.flatnonzero(times + anticipation < g)
        if pre.size == 0:
            raise ValueError(
                f"att_gt: cohort {g:g} has no pre-treatment period in the data (first "
                f"period {times[0]:g}, anticipation {anticipation}); its units are treated "
                "from the start, so no ATT can be identified. Drop these units (or this "
                "cohort) before calling att_gt."
            )
        last_pre = int(pre[-1])
        start = 0 if base_period == "universal" else 1
        for ti in range(start, len(times)):
            t = times[ti]
            if g - anticipation <= t or base_period == "universal":
                bi = last_pre
            else:
                bi = ti - 1
            cells.append(_Cell(g=g, t=t, ti=ti, bi=bi, zero=bi == ti))
    return cells


def _comparison(
    unit_group: np.ndarray, g: float, ref_time: float, control: str, anticipation: int
) -> np.ndarray:
    never = unit_group == 0
    if control == "never_treated":
        return never
    return never | ((unit_group > ref_time + anticipation) & (unit_group != g))


def _no_comparison(g: float, t: float, base: float, control: str) -> ValueError:
    hint = (
        "use control='not_yet_treated' or add never-treated units"
        if control == "never_treated"
        else "add never-treated units or end the analysis window before this period"
    )
    return ValueError(
        f"att_gt: cohort {g:g} has no valid comparison group for period {t:g} "
        f"(base period {base:g}, control={control!r}): no unit is untreated in both "
        f"periods. {hint}."
    )


def _cell_samples(
    data: _Data, cells: list[_Cell], control: str, anticipation: int
) -> Iterator[tuple[int, _Cell, np.ndarray, np.ndarray, np.ndarray | None]]:
    """The 2×2 sample of every estimable cell: ``(k, cell, rows, d, post)``.

    Panel: ``rows`` are the units of the cohort or comparison group observed in both
    periods (``post`` is None); repeated cross-sections: the data rows of those units
    in the two periods, ``post = 1`` for period ``t``.  ``d`` is the treated dummy.
    Universal-base cells (ATT = 0 by construction) are skipped.  Both the full fit and
    the points-only fit draw their samples here, so they estimate the same 2×2s.

    Raises
    ------
    ValueError
        A cell without comparison or cohort units in its two periods (first such cell).
    """
    times = data.times
    for k, c in enumerate(cells):
        if c.zero:
            continue
        ref = max(c.t, times[c.bi])
        comp_u = _comparison(data.unit_group, c.g, ref, control, anticipation)
        treat_u = data.unit_group == c.g
        if data.mode == "panel":
            both = np.isfinite(data.Y[:, c.ti]) & np.isfinite(data.Y[:, c.bi])
            if not (comp_u & both).any():
                raise _no_comparison(c.g, c.t, times[c.bi], control)
            if not (treat_u & both).any():
                raise ValueError(
                    f"att_gt: no unit of cohort {c.g:g} is observed in both period "
                    f"{c.t:g} and its base period {times[c.bi]:g}"
                )
            idx = np.flatnonzero((treat_u | comp_u) & both)
            yield k, c, idx, treat_u[idx].astype(float), None
        else:
            rows = np.flatnonzero(
                ((data.rc_t == c.ti) | (data.rc_t == c.bi)) & (treat_u | comp_u)[data.rc_unit]
            )
            d = treat_u[data.rc_unit[rows]].astype(float)
            post = (data.rc_t[rows] == c.ti).astype(float)
            if min(np.sum(d * post), np.sum(d * (1 - post))) == 0:
                raise ValueError(
                    f"att_gt: cohort {c.g:g} has no observations in period {c.t:g} or in "
                    f"its base period {times[c.bi]:g}"
                )
            if min(np.sum((1 - d) * post), np.sum((1 - d) * (1 - post))) == 0:
                raise _no_comparison(c.g, c.t, times[c.bi], control)
            yield k, c, rows, d, post


def _estimate_cells(
    data: _Data, cells: list[_Cell], control: str, method: str, anticipation: int
) -> tuple[np.ndarray, np.ndarray]:
    n = len(data.unit_group)
    att = np.zeros(len(cells))
    psi = np.zeros((n, len(cells)))
    for k, c, rows, d, post in _cell_samples(data, cells, control, anticipation):
        if post is None:
            dy = data.Y[rows, c.ti] - data.Y[rows, c.bi]
            # Covariates from the earlier of the two periods, as R did's panel2cs.
            X = data.X[rows, min(c.ti, c.bi)]
            a, p = _drdid.PANEL_ESTIMATORS[method](dy, d, X, data.unit_weight[rows])
            psi[rows, k] = (n / len(rows)) * p
        else:
            a, p = _drdid.RC_ESTIMATORS[method](
                data.rc_y[rows], post, d, data.rc_X[rows], data.rc_w[rows]
            )
            psi[:, k] = np.bincount(data.rc_unit[rows], weights=(n / len(rows)) * p, minlength=n)
        att[k] = a
    return att, psi


def _cell_points(
    datas: Sequence[_Data], cells: list[_Cell], control: str, method: str, anticipation: int
) -> np.ndarray:
    """ATT(g, t) only, (n_cells × len(datas)): one column per outcome of ``datas``.

    ``datas`` share units, periods, cohorts and missing cells (they differ in the
    outcome only), so each 2×2 sample is built once and used for every outcome.
    """
    att = np.zeros((len(cells), len(datas)))
    for k, c, rows, d, post in _cell_samples(datas[0], cells, control, anticipation):
        for j, dj in enumerate(datas):
            if post is None:
                dy = dj.Y[rows, c.ti] - dj.Y[rows, c.bi]
                X = dj.X[rows, min(c.ti, c.bi)]
                est = _drdid.PANEL_ESTIMATORS[method]
                att[k, j] = est(dy, d, X, dj.unit_weight[rows], influence=False)[0]
            else:
                # The RC estimators have no points-only branch: the influence function
                # is computed and dropped (no hot path uses repeated cross-sections).
                att[k, j] = _drdid.RC_ESTIMATORS[method](
                    dj.rc_y[rows], post, d, dj.rc_X[rows], dj.rc_w[rows]
                )[0]
    return att


def _cohorts(unit_group: np.ndarray, group: str, control: str) -> np.ndarray:
    """Treated cohorts, checking that they exist and have a comparison group."""
    cohorts = np.unique(unit_group[unit_group > 0])
    if cohorts.size == 0:
        raise ValueError(f"att_gt: no treated cohort (all of {group!r} is 0 or after the sample)")
    if control == "never_treated" and not np.any(unit_group == 0):
        raise ValueError(
            "att_gt: control='never_treated' but there are no never-treated units "
            f"({group!r} == 0), so no cohort has a valid comparison group; use "
            "control='not_yet_treated'"
        )
    return cohorts


def _cohort_shares(data: _Data, cohorts: np.ndarray) -> np.ndarray:
    """``P(G = g)`` per cohort (weighted), the aggregation weights."""
    w = data.unit_weight
    return np.array([np.mean(w * (data.unit_group == g)) for g in cohorts])


def _check_options(
    control: str, method: str, base_period: str, anticipation: int, unbalanced: str
) -> None:
    if control not in ("never_treated", "not_yet_treated"):
        raise ValueError(f"control must be 'never_treated' or 'not_yet_treated', got {control!r}")
    if method not in _drdid.PANEL_ESTIMATORS:
        raise ValueError(f"method must be 'dr', 'ipw' or 'reg', got {method!r}")
    if base_period not in ("varying", "universal"):
        raise ValueError(f"base_period must be 'varying' or 'universal', got {base_period!r}")
    if anticipation < 0 or int(anticipation) != anticipation:
        raise ValueError(f"anticipation must be a non-negative integer, got {anticipation!r}")
    if unbalanced not in ("repeated_cross_section", "pairwise"):
        raise ValueError(
            f"unbalanced must be 'repeated_cross_section' or 'pairwise', got {unbalanced!r}"
        )


def att_gt(
    df: pd.DataFrame,
    outcome: str,
    unit: str | None,
    time: str,
    group: str,
    *,
    control: Literal["never_treated", "not_yet_treated"] = "never_treated",
    covariates: Sequence[str] = (),
    method: Literal["dr", "ipw", "reg"] = "dr",
    panel: bool = True,
    unbalanced: Literal["repeated_cross_section", "pairwise"] = "repeated_cross_section",
    weights: str | None = None,
    cluster: str | None = None,
    base_period: Literal["varying", "universal"] = "varying",
    anticipation: int = 0,
    bootstrap: int | None = None,
    bootstrap_weights: Literal["rademacher", "mammen"] = "rademacher",
    seed: int | None = None,
    level: float = 0.95,
) -> AttGtResult:
    """Callaway & Sant'Anna (2021) group-time average treatment effects.

    ``ATT(g,t) = E[Y_t − Y_b | G=g] − E[Y_t − Y_b | C]`` (conditional on X through the
    chosen 2×2 estimator), for every cohort ``g`` and period ``t`` after the first; see
    the module docstring for the base period ``b`` and comparison group ``C``.

    Parameters
    ----------
    df
        Long data: one row per unit and period (panel) or per observation
        (repeated cross-sections).
    outcome, unit, time, group
        Column names. ``group`` is the first period of exposure, 0 for never treated;
        cohorts first treated after the last period are recoded to 0 (as R ``did``).
        ``time`` must be numeric with event time ``t − g`` in its units. With
        ``panel=False`` every row is its own unit (as R ``did``'s ``.rowid``), so
        ``unit`` may be ``None`` and is not used for estimation.
    control
        ``"never_treated"`` or ``"not_yet_treated"`` (units with
        ``g > max(t, b) + anticipation`` plus the never treated).
    covariates
        Pre-treatment covariates (taken at the earlier of ``t`` and ``b`` in panels).
    method
        ``"dr"`` (Sant'Anna–Zhao locally efficient doubly robust: ``drdid_panel`` /
        ``drdid_rc``, as R ``did`` and Stata ``csdid``'s ``dripw``), ``"ipw"``
        (normalised IPW) or ``"reg"`` (outcome regression).
    panel
        ``True`` for panels. An unbalanced panel is estimated like R ``did``'s
        ``allow_unbalanced_panel=TRUE`` by default (``unbalanced``); warning code
        ``unbalanced_panel``. ``False``: repeated cross-sections.
    unbalanced
        How an unbalanced panel is estimated. ``"repeated_cross_section"`` (R
        ``did``): each 2×2 treats the rows of its two periods as repeated
        cross-sections and influence functions are summed within unit, so the
        periods may compare different sets of units and unit levels stay in the
        comparison. ``"pairwise"``: each 2×2 is the panel estimator on the units
        observed in both of its periods (``ATT(g,t)`` on ``Y_t − Y_b`` of those
        units), which removes changes of composition between ``t`` and ``b``; on a
        balanced panel both give the balanced-panel estimator.
    weights
        Sampling-weight column (constant within unit in panels).
    cluster
        Cluster column (constant within unit): analytic SEs and the bootstrap use
        cluster sums of the influence functions.
    base_period
        ``"varying"`` (pre-treatment cells compare ``t`` with ``t − 1``) or
        ``"universal"`` (all cells compare with ``g − anticipation − 1``; that cell is
        reported as 0 with no SE).
    anticipation
        Number of periods before ``g`` in which units may already react.
    bootstrap
        Number of multiplier-bootstrap draws; ``None`` for analytic SEs.
    bootstrap_weights
        ``"rademacher"`` (what R ``did`` draws) or ``"mammen"``.
    seed
        Seed for the bootstrap (deterministic for a given seed).
    level
        Confidence level.

    Returns
    -------
    AttGtResult
        Table with ``term, group, time, event_time, base_time, post, estimate, se,
        ci_low, ci_high, p, band_low, band_high`` (pointwise CI; uniform sup-t band
        when bootstrapped, else NaN); ``influence`` (n_units × n_cells);
        ``info["pretest"]`` the Wald test that all pre-treatment ATT(g,t) are zero.

    Raises
    ------
    ValueError
        Missing columns, duplicate unit-periods, cohorts varying within unit, a cohort
        without a pre-treatment period, or a cell without any comparison unit.
    """
    _check_options(control, method, base_period, anticipation, unbalanced)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    covariates = tuple(covariates)

    data, n_dropped = _prepare(
        df, outcome, unit, time, group, covariates, panel, weights, cluster, unbalanced
    )
    cohorts = _cohorts(data.unit_group, group, control)
    cells = _plan_cells(data.times, cohorts, base_period, anticipation)
    att, psi = _estimate_cells(data, cells, control, method, anticipation)

    n = len(data.unit_group)
    w = data.unit_weight
    pg = _cohort_shares(data, cohorts)
    omega = w[:, None] * (data.unit_group[:, None] == cohorts[None, :]) - pg[None, :]
    basis = np.hstack([psi, omega])
    sums = cluster_sums(basis, data.cluster_codes)
    gram = sums.T @ sums
    draws = None
    if bootstrap is not None:
        if int(bootstrap) < 2:
            raise ValueError(f"bootstrap must be an integer ≥ 2 or None, got {bootstrap!r}")
        draws = multiplier_draws(
            sums, n, draws=int(bootstrap), seed=seed, weights=bootstrap_weights
        )

    warns = list(data.warnings)
    sizes = {g: int(np.sum(data.unit_group == g)) for g in cohorts}
    for g, size in sizes.items():
        if size < SMALL_GROUP:
            warns.append(WarningCode("small_group", {"group": int(g), "n_units": size}))

    res = AttGtResult(
        table=pd.DataFrame({c: [] for c in _TABLE_COLUMNS}),
        influence=psi,
        unit_ids=data.unit_ids,
        _basis=basis,
        _gram=gram,
        _draws=draws,
        _cohorts=cohorts,
        _pg=pg,
        _cluster_codes=data.cluster_codes,
    )
    k = len(cells)
    coef = np.eye(basis.shape[1])[:, :k]
    se, crit = _se_from_coef(res, coef, level)
    g_arr = np.array([c.g for c in cells])
    t_arr = np.array([c.t for c in cells])
    res.table = _tidy(
        terms=[f"ATT({c.g:g},{c.t:g})" for c in cells],
        est=att,
        se=se,
        crit=crit,
        level=level,
        group=g_arr,
        time=t_arr,
        event_time=t_arr - g_arr,
        extra={
            "base_time": np.array([data.times[c.bi] for c in cells]),
            "post": g_arr <= t_arr,
        },
    )
    pretest = _wald_pretest(att, gram, n, g_arr, t_arr, anticipation, se)
    if pretest is None:
        warns.append(WarningCode("no_pretest"))
    res.info = {
        "estimator": "callaway_santanna",
        "n": data.n_rows,
        "n_units": n,
        "n_dropped": n_dropped,
        "data_structure": _data_structure(data, panel),
        "unbalanced": unbalanced if panel else None,
        "control": control,
        "method": method,
        "covariates": list(covariates),
        "base_period": base_period,
        "anticipation": anticipation,
        "weights": weights,
        "inference": "analytic" if draws is None else "multiplier_bootstrap",
        "bootstrap_draws": None if draws is None else int(bootstrap),
        "bootstrap_weights": None if draws is None else bootstrap_weights,
        "crit_val": crit if np.isfinite(crit) else None,
        "seed": seed,
        "level": level,
        "cohort_sizes": {float(g): s for g, s in sizes.items()},
        "pretest": pretest,
    }
    if cluster is not None:
        res.info["cluster"] = cluster
        res.info["clusters"] = data.n_clusters
        cc = data.cluster_codes
        res.info["treated_clusters"] = int(np.unique(cc[data.unit_group > 0]).size)
    res.warnings = warns
    return res


def _data_structure(data: _Data, panel: bool) -> str:
    if not panel:
        return "repeated_cross_section"
    if any(w.code == "unbalanced_panel" for w in data.warnings):
        return "unbalanced_panel"
    return "panel"


# ----------------------------------------------------------------------- points only


class AttGtPoints:
    """Point estimates of ``att_gt`` aggregations for many cohort assignments of a panel.

    Randomisation inference re-fits ``att_gt`` under every placebo assignment and uses
    only the aggregated point estimates.  This prepares the panel once (units, periods,
    outcomes and their missing cells do not depend on the assignment) and, per
    assignment, runs the same cell samples (:func:`_cell_samples`), 2×2 estimators
    (``influence=False``) and aggregation arithmetic (:func:`_term_estimates`) as
    :func:`att_gt`, skipping influence functions, standard errors, the bootstrap and the
    pre-test.  The estimates are therefore bit for bit those of ``att_gt(...)
    .aggregate(kind)``.

    Parameters
    ----------
    df
        Long panel, as for :func:`att_gt`.
    outcomes
        Outcome columns estimated together; they must share missing cells (each 2×2
        sample is built once for all of them).
    unit, time, group
        Column names, as for :func:`att_gt`; ``group`` gives the cohorts used to
        prepare the data (rows with a missing value in it are dropped, as ``att_gt``
        does), :meth:`aggregates` takes the cohorts of each assignment.
    control, method, unbalanced, base_period, anticipation
        As for :func:`att_gt`. No covariates, weights or repeated cross-sections.

    Raises
    ------
    ValueError
        Invalid options, or outcomes with different missing cells.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        outcomes: Sequence[str],
        unit: str,
        time: str,
        group: str,
        *,
        control: Literal["never_treated", "not_yet_treated"] = "never_treated",
        method: Literal["dr", "ipw", "reg"] = "dr",
        unbalanced: Literal["repeated_cross_section", "pairwise"] = "repeated_cross_section",
        base_period: Literal["varying", "universal"] = "varying",
        anticipation: int = 0,
    ) -> None:
        _check_options(control, method, base_period, anticipation, unbalanced)
        if not outcomes:
            raise ValueError("AttGtPoints: no outcome column given")
        self._datas = [
            _prepare(df, y, unit, time, group, (), True, None, None, unbalanced)[0]
            for y in outcomes
        ]
        first = self._datas[0]
        for y, d in zip(outcomes, self._datas, strict=True):
            same = np.array_equal(d.unit_ids, first.unit_ids) and np.array_equal(
                d.times, first.times
            )
            if same and d.mode == "panel":
                same = np.array_equal(np.isnan(d.Y), np.isnan(first.Y))
            elif same:
                same = np.array_equal(d.rc_unit, first.rc_unit) and np.array_equal(
                    d.rc_t, first.rc_t
                )
            if not same:
                raise ValueError(
                    f"AttGtPoints: outcome {y!r} is missing in other unit-periods than "
                    f"{outcomes[0]!r}; points are estimated on one shared sample"
                )
        self.outcomes = list(outcomes)
        self.unit_ids = first.unit_ids
        self._group = group
        self._options = (control, method, base_period, anticipation)

    def aggregates(
        self,
        unit_group: np.ndarray,
        kinds: Sequence[str] = ("simple", "group", "calendar", "dynamic"),
    ) -> pd.DataFrame:
        """Aggregated point estimates under one cohort assignment.

        Parameters
        ----------
        unit_group
            Cohort (first exposed period, 0 = never) per unit, in ``unit_ids`` order.
        kinds
            Aggregations, in the order of the rows returned.

        Returns
        -------
        pd.DataFrame
            ``aggregation, term, event_time`` and one column of estimates per outcome
            (named as the outcome), rows as ``att_gt(...).aggregate(kind).table`` with
            default options, kinds stacked.

        Raises
        ------
        ValueError
            As :func:`att_gt` would for this assignment (no treated cohort, no
            comparison units for a cell, a cohort without a pre-treatment period).
        """
        control, method, base_period, anticipation = self._options
        ug = np.asarray(unit_group, dtype=float)
        if ug.shape != self.unit_ids.shape:
            raise ValueError("aggregates: unit_group must have one entry per unit_ids")
        # R did recodes cohorts first treated after the sample as never treated.
        ug = np.where(ug > self._datas[0].times[-1], 0.0, ug)
        datas = [replace(d, unit_group=ug) for d in self._datas]
        cohorts = _cohorts(ug, self._group, control)
        cells = _plan_cells(datas[0].times, cohorts, base_period, anticipation)
        att = _cell_points(datas, cells, control, method, anticipation)
        pg = _cohort_shares(datas[0], cohorts)
        g = np.array([c.g for c in cells])
        t = np.array([c.t for c in cells])
        pg_cell = pg[np.searchsorted(cohorts, g)]
        frames = []
        for kind in kinds:
            plan = _aggregation_plan(
                kind, g, t, cohorts, balance_e=None, min_e=-np.inf, max_e=np.inf
            )
            cols = {
                y: _term_estimates(plan, att[:, j], pg, pg_cell)
                for j, y in enumerate(self.outcomes)
            }
            frames.append(
                pd.DataFrame(
                    {
                        "aggregation": kind,
                        "term": [x.label for x in plan],
                        "event_time": np.array([x.event_time for x in plan], float),
                        **cols,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- inference

_TABLE_COLUMNS = (
    "term",
    "group",
    "time",
    "event_time",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "band_low",
    "band_high",
)


def _pvalue(est: float | np.ndarray, se: float | np.ndarray) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 2 * stats.norm.sf(np.abs(np.asarray(est) / np.asarray(se)))


def _se_from_coef(
    res: AttGtResult, coef: np.ndarray, level: float, band_cols: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Standard errors of ``basis @ coef`` and the sup-t critical value over ``band_cols``."""
    n = res.n_units
    if res._draws is None:
        var = np.einsum("ij,ik,kj->j", coef, res._gram, coef)
        se = np.sqrt(np.maximum(var, 0.0)) / n
        se = np.where(se > SE_ZERO, se, np.nan)
        return se, float("nan")
    d = res._draws @ coef
    se, _ = bootstrap_inference(d, level)
    cols = np.arange(coef.shape[1]) if band_cols is None else band_cols
    _, crit = bootstrap_inference(d[:, cols], level) if cols.size else (None, float("nan"))
    return se, crit


def _tidy(
    *,
    terms: list[str],
    est: np.ndarray,
    se: np.ndarray,
    crit: float,
    level: float,
    group: np.ndarray,
    time: np.ndarray,
    event_time: np.ndarray,
    band_rows: np.ndarray | None = None,
    extra: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    z = stats.norm.ppf(0.5 + level / 2)
    band = np.full(len(est), np.nan)
    if np.isfinite(crit):
        band = np.full(len(est), crit)
        if band_rows is not None:
            band[~band_rows] = np.nan
    table = pd.DataFrame(
        {
            "term": terms,
            "group": group,
            "time": time,
            "event_time": event_time,
            "estimate": est,
            "se": se,
            "ci_low": est - z * se,
            "ci_high": est + z * se,
            "p": _pvalue(est, se),
            "band_low": est - band * se,
            "band_high": est + band * se,
        }
    )
    for k, v in (extra or {}).items():
        table[k] = v
    return table


def _wald_pretest(
    att: np.ndarray,
    gram: np.ndarray,
    n: int,
    g: np.ndarray,
    t: np.ndarray,
    anticipation: int,
    se: np.ndarray,
) -> dict[str, float] | None:
    """Wald test of H0: every pre-treatment ATT(g,t) = 0 (as R did's ``W``, ``Wpval``).

    Uses the analytic (clustered, when requested) covariance even after a bootstrap;
    cells with zero variance (universal base cells) are left out.
    """
    pre = np.flatnonzero((g - anticipation > t) & np.isfinite(se))
    if pre.size == 0:
        return None
    v = gram[np.ix_(pre, pre)] / n**2
    if 1.0 / np.linalg.cond(v, 1) <= np.finfo(float).eps:
        return None
    stat = float(att[pre] @ np.linalg.solve(v, att[pre]))
    return {"stat": stat, "df": int(pre.size), "p": float(stats.chi2.sf(stat, pre.size))}


# ------------------------------------------------------------------------- aggregation


@dataclass
class _Term:
    """One row of an aggregation: which ATT(g, t) (or rows) it averages, and how.

    ``mode``: ``"pg"`` the ``P(G=g)``-weighted mean of cells ``index``; ``"mean"`` their
    plain mean; ``"pg_rows"`` the ``P(G=g)``-weighted mean of the cohort rows
    ``index`` of the plan; ``"mean_rows"`` the plain mean of rows ``index``.
    """

    label: str
    mode: str
    index: np.ndarray
    group: float = np.nan
    time: float = np.nan
    event_time: float = np.nan


def _aggregation_plan(
    kind: str,
    g: np.ndarray,
    t: np.ndarray,
    cohorts: np.ndarray,
    *,
    balance_e: int | None,
    min_e: float,
    max_e: float,
) -> list[_Term]:
    """Rows of one aggregation (overall first), shared by full and points-only fits."""
    e = t - g
    post = g <= t
    window = (e >= min_e) & (e <= max_e)
    if kind == "simple":
        keep = np.flatnonzero(post & window)
        if keep.size == 0:
            raise ValueError("aggregate('simple'): no post-treatment cell in the event window")
        return [_Term("overall", "pg", keep)]
    if kind == "group":
        rows = []
        for gg in cohorts:
            keep = np.flatnonzero((g == gg) & post & window)
            if keep.size == 0:
                raise ValueError(
                    f"aggregate('group'): cohort {gg:g} has no post-treatment cell in the "
                    "event window; widen min_e/max_e"
                )
            rows.append(_Term(f"ATT(g={gg:g})", "mean", keep, group=gg))
        return [_Term("overall", "pg_rows", np.arange(1, len(rows) + 1)), *rows]
    if kind == "dynamic":
        include = np.ones(len(g), bool)
        eseq = np.unique(e)
        if balance_e is not None:
            tmax, tmin = t.max(), t.min()
            include = tmax - g >= balance_e
            eseq = np.unique(e[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - tmax + tmin)]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        if eseq.size == 0:
            raise ValueError("aggregate('dynamic'): no event time in the requested window")
        rows = [
            _Term(f"ATT(e={ev:g})", "pg", np.flatnonzero((e == ev) & include), event_time=ev)
            for ev in eseq
        ]
        pos = np.flatnonzero(eseq >= 0) + 1
        if pos.size == 0:
            raise ValueError("aggregate('dynamic'): no event time ≥ 0 in the window")
        return [_Term("overall", "mean_rows", pos), *rows]
    periods = np.unique(t[post & (t >= cohorts.min())])
    rows = [
        _Term(f"ATT(t={tt:g})", "pg", np.flatnonzero((t == tt) & post), time=tt) for tt in periods
    ]
    return [_Term("overall", "mean_rows", np.arange(1, len(rows) + 1)), *rows]


def _term_estimates(
    plan: list[_Term], att: np.ndarray, pg: np.ndarray, pg_cell: np.ndarray
) -> np.ndarray:
    """Point estimate of every row of ``plan`` from the ATT(g, t) ``att``.

    The one place aggregates are computed, for full fits and for the points-only fits
    of randomisation inference alike (so both give the same bits).
    """
    theta = np.full(len(plan), np.nan)
    # Cell rows first: the overall rows average them.
    for j, term in enumerate(plan):
        keep = term.index
        if term.mode == "pg":
            s = pg_cell[keep].sum()
            theta[j] = float(pg_cell[keep] @ att[keep] / s)
        elif term.mode == "mean":
            theta[j] = float(att[keep].mean())
    for j, term in enumerate(plan):
        if term.mode == "pg_rows":
            theta[j] = float(pg @ theta[term.index] / pg.sum())
        elif term.mode == "mean_rows":
            theta[j] = float(np.mean(theta[term.index]))
    return theta


def _term_coefficients(
    plan: list[_Term],
    theta: np.ndarray,
    att: np.ndarray,
    pg: np.ndarray,
    pg_cell: np.ndarray,
    gi_cell: np.ndarray,
    p: int,
) -> np.ndarray:
    """Coefficients (p × rows) of every row of ``plan`` on the basis ``[psi, omega]``.

    A ``P(G=g)``-weighted mean ``θ = Σ pg_k att_k / Σ pg_k`` has the wif term of R did
    (estimated weights), linear in the basis columns ``omega_g``: coefficient
    ``Σ_{k∈keep, g_k=g} (att_k − θ) / Σ pg``.
    """
    k_cells = len(att)
    coefs: list[np.ndarray] = [np.zeros(p) for _ in plan]
    for j, term in enumerate(plan):
        keep = term.index
        if term.mode == "pg":
            s = pg_cell[keep].sum()
            c = coefs[j]
            c[keep] = pg_cell[keep] / s
            np.add.at(c, k_cells + gi_cell[keep], (att[keep] - theta[j]) / s)
        elif term.mode == "mean":
            coefs[j][keep] = 1.0 / keep.size
    for j, term in enumerate(plan):
        idx = term.index
        if term.mode == "pg_rows":
            s = pg.sum()
            c = np.column_stack([coefs[i] for i in idx]) @ (pg / s)
            c[k_cells : k_cells + len(pg)] += (theta[idx] - theta[j]) / s
            coefs[j] = c
        elif term.mode == "mean_rows":
            coefs[j] = np.mean([coefs[i] for i in idx], axis=0)
    return np.column_stack(coefs)


def _aggregate(
    res: AttGtResult,
    kind: str,
    *,
    balance_e: int | None,
    min_e: float,
    max_e: float,
    level: float | None,
) -> AggregateResult:
    if kind not in ("simple", "group", "calendar", "dynamic"):
        raise ValueError(
            f"aggregate: kind must be 'simple', 'group', 'calendar' or 'dynamic', got {kind!r}"
        )
    level = res.info["level"] if level is None else level
    tab = res.table
    att = tab["estimate"].to_numpy()
    g = tab["group"].to_numpy()
    t = tab["time"].to_numpy()
    gi = np.searchsorted(res._cohorts, g)
    pg_cell = res._pg[gi]
    warns = list(res.warnings)
    if balance_e is not None and kind != "dynamic":
        warns.append(WarningCode("balance_e_ignored", {"aggregation": kind}))
    if kind == "calendar" and (np.isfinite(min_e) or np.isfinite(max_e)):
        warns.append(WarningCode("event_window_ignored", {"aggregation": kind}))

    plan = _aggregation_plan(
        kind, g, t, res._cohorts, balance_e=balance_e, min_e=min_e, max_e=max_e
    )
    est = _term_estimates(plan, att, res._pg, pg_cell)
    coef = _term_coefficients(plan, est, att, res._pg, pg_cell, gi, res._basis.shape[1])
    m = len(plan)
    band_cols = np.arange(1, m) if m > 1 else np.array([], dtype=int)
    se, crit = _se_from_coef(res, coef, level, band_cols=band_cols)
    band_rows = np.zeros(m, bool)
    band_rows[1:] = True
    table = _tidy(
        terms=[x.label for x in plan],
        est=est,
        se=se,
        crit=crit,
        level=level,
        group=np.array([x.group for x in plan], float),
        time=np.array([x.time for x in plan], float),
        event_time=np.array([x.event_time for x in plan], float),
        band_rows=band_rows,
    )
    info = {
        k: res.info[k]
        for k in (
            "n",
            "n_units",
            "n_dropped",
            "control",
            "method",
            "base_period",
            "anticipation",
            "inference",
            "bootstrap_draws",
            "seed",
        )
        if k in res.info
    }
    info.update(
        estimator="callaway_santanna_aggregate",
        aggregation=kind,
        level=level,
        # None rather than NaN / ±inf keeps info JSON-ready.
        crit_val=crit if np.isfinite(crit) else None,
        balance_e=balance_e,
        min_e=min_e if np.isfinite(min_e) else None,
        max_e=max_e if np.isfinite(max_e) else None,
    )
    for k in ("cluster", "clusters", "treated_clusters"):
        if k in res.info:
            info[k] = res.info[k]
    inf_all = res._basis @ coef
    return AggregateResult(
        table=table,
        info=info,
        warnings=warns,
        influence=inf_all[:, 1:],
        overall_influence=inf_all[:, 0],
        coef=coef,
        parent=res,
    )
