"""``att_gt``: Callaway & Sant'Anna (2021) group-time average treatment effects.

The model, the estimators and the inference are described in :mod:`sahel_eval.did.cs`;
this module runs a fit: prepare the data, estimate every cell, build the
influence-function basis and its Gram matrix (and bootstrap draws), tabulate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from sahel_eval.did.cs import drdid
from sahel_eval.did.cs.aggregate import AggregateResult, _aggregate
from sahel_eval.did.cs.cells import _estimate_cells, _plan_cells
from sahel_eval.did.cs.data import _Data, _prepare
from sahel_eval.did.cs.pretest import _wald_pretest
from sahel_eval.did.cs.table import _TABLE_COLUMNS, _se_from_coef, _tidy
from sahel_eval.did.inference.multiplier import cluster_sums, multiplier_draws
from sahel_eval.did.results import EstimateResult, WarningCode

__all__ = ["AttGtResult", "att_gt"]

SMALL_GROUP = 5


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
    if method not in drdid.PANEL_ESTIMATORS:
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

    (data,), n_dropped = _prepare(
        df, [outcome], unit, time, group, covariates, panel, weights, cluster, unbalanced
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
    clusters = n if data.n_clusters is None else data.n_clusters
    pretest = _wald_pretest(att, gram, n, g_arr, t_arr, anticipation, se, clusters)
    if pretest is None or pretest["p"] is None:
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
