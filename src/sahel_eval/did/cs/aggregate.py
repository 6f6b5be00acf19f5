"""Aggregations of ATT(g, t) as R ``did::aggte``, and ratios of aggregates.

An aggregation is a plan of rows (:class:`_Term`, overall first), each a weighted mean
of cells or of other rows; the same plan gives the point estimates of full fits and of
the points-only fits of randomisation inference (:func:`_term_estimates`) and, for full
fits, the coefficients of every row on the influence-function basis
(:func:`_term_coefficients`), from which standard errors, bands and ratios follow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sahel_eval.did.cs.table import _se_from_coef, _tidy
from sahel_eval.did.fieller import fieller_ratio
from sahel_eval.did.results import EstimateResult, WarningCode

if TYPE_CHECKING:
    from sahel_eval.did.cs.model import AttGtResult

__all__ = ["AggregateResult", "RatioResult"]


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
                "ci_set": [f["ci_set"]],
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
