"""Two-way fixed-effects DiD: static TWFE, and the machinery the event study shares.

Point estimates come from the exact weighted within transformation in units and periods
(:class:`sahel_eval.stats.linear.TwoWayWithin`: unit demeaning plus the (T−1)-sized normal
equations of the period effects, so no rows × T dummy matrix is factorised); equal to
linearmodels ``PanelOLS`` with entity and time effects and to least squares on explicit
dummies (``tests/did/test_twfe.py``).  The wild bootstrap alone keeps the period dummies
as columns: its restricted residuals are re-projected on them, and they are not nested
in the clusters.  Standard errors from :mod:`sahel_eval.stats.covariance` (CRV1, fixest
convention, K counting the period effects); few-cluster inference from
:mod:`sahel_eval.did.inference` (wild bootstrap, randomisation inference, whose placebo
refits are :class:`sahel_eval.did.twfe_placebo.PlaceboRefit`). The event study with
leads and lags is :mod:`sahel_eval.did.event_study`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.assignment import (
    assignment_warnings,
    cluster_starts,
    not_informative,
    not_informative_warning,
    unit_starts_from_treat,
)
from sahel_eval.did.inference.randomization import randomization_inference
from sahel_eval.did.inference.wild import wild_cluster_bootstrap
from sahel_eval.did.results import EstimateResult, WarningCode
from sahel_eval.did.twfe_placebo import (
    Codes,
    PlaceboRefit,
    treated_codes,
)
from sahel_eval.stats.covariance import (
    Covariance,
    crv1,
    t_pvalue,
    t_quantile,
)
from sahel_eval.stats.linear import LinearDesign, TwoWayWithin, estimation_sample

__all__ = ["twfe"]

_INFERENCE = ("cluster", "wild", "randomization")


def _time_dummies(time: pd.Series) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Dummies for all periods but the first (the unit effects carry the level)."""
    codes, levels = pd.factorize(time, sort=True)
    dummies = (codes[:, None] == np.arange(1, len(levels))[None, :]).astype(float)
    return dummies, [f"{time.name}={v}" for v in levels[1:]], codes


@dataclass(frozen=True)
class _Options:
    """The inference options :func:`twfe` and :func:`event_study` share."""

    inference: str
    level: float
    seed: int | None
    bootstrap: int
    wild_weights: str | None

    def __post_init__(self) -> None:
        if self.inference not in _INFERENCE:
            raise ValueError(f"inference must be one of {_INFERENCE}, got {self.inference!r}")
        if not 0 < self.level < 1:
            raise ValueError(f"level must be in (0, 1), got {self.level}")


@dataclass(frozen=True)
class _Sample:
    """The estimation sample: complete rows, their clusters and weights.

    Units, periods and clusters are also held as codes (``pd.factorize`` with
    ``sort=True``, so in label order): the fit, its covariance and K read those.
    """

    data: pd.DataFrame
    n_dropped: int
    unit: str
    time: str
    cluster_name: str
    w: np.ndarray | None

    @classmethod
    def of(
        cls,
        df: pd.DataFrame,
        columns: list[str | None],
        *,
        unit: str,
        time: str,
        cluster: str | None,
        weights: str | None,
    ) -> _Sample:
        cols = [c for c in dict.fromkeys([*columns, cluster, weights]) if c]
        data, n_dropped = estimation_sample(df, cols, weights=weights)
        # Clustering defaults to the unit: serial correlation within a unit is the least
        # any panel has.
        name = unit if cluster is None else cluster
        w = None if weights is None else data[weights].to_numpy(dtype=float)
        return cls(data, n_dropped, unit, time, name, w)

    @cached_property
    def cluster_codes(self) -> np.ndarray:
        return pd.factorize(self.data[self.cluster_name], sort=True)[0]

    @cached_property
    def unit_codes(self) -> np.ndarray:
        return pd.factorize(self.data[self.unit], sort=True)[0]

    @cached_property
    def time_codes(self) -> np.ndarray:
        return pd.factorize(self.data[self.time], sort=True)[0]

    @cached_property
    def within(self) -> TwoWayWithin:
        """The weighted unit + period within transformation (fit and placebo refits)."""
        return TwoWayWithin(self.unit_codes, self.time_codes, self.w)


def _design(
    sample: _Sample,
    y: np.ndarray,
    x: np.ndarray,
    names: list[str],
    *,
    dummies: bool,
) -> LinearDesign:
    """The design with unit and period effects absorbed.

    With ``dummies`` the periods are explicit columns instead (the wild bootstrap needs
    them).  Regressors the effects absorb raise a ValueError naming them: their
    coefficient does not exist (collinear ones are refused by :meth:`_Solved.of`).
    """
    data, w = sample.data, sample.w
    if dummies:
        period, period_names, _ = _time_dummies(data[sample.time])
        return LinearDesign.build(
            y,
            np.column_stack([x, period]),
            [*names, *period_names],
            weights=w,
            absorb=data[sample.unit].to_numpy(),
        )
    xt = sample.within.residuals(x)
    # Weighted column sums of squares (unweighted: a weight of 1 would change no bit).
    left = (xt**2).sum(axis=0) if w is None else (w[:, None] * xt**2).sum(axis=0)
    scale = (x**2).sum(axis=0) if w is None else (w[:, None] * x**2).sum(axis=0)
    absorbed = [n for n, a, b in zip(names, left, scale, strict=True) if a <= 1e-12 * max(1, b)]
    if absorbed:
        raise ValueError(
            f"regressors {absorbed} are absorbed by the {sample.unit!r} and {sample.time!r} "
            "fixed effects (constant within units or periods in the estimation sample): no "
            "coefficient"
        )
    # Codes label the absorbed effects as the columns do (K, nesting), at integer cost.
    absorbed_labels = [sample.unit_codes, sample.time_codes]
    return LinearDesign(sample.within.residuals(y), xt, list(names), w, absorbed_labels)


@dataclass(frozen=True)
class _Solved:
    """A solved design with its CRV1 covariance and cluster counts."""

    design: LinearDesign
    beta: np.ndarray
    cov: Covariance
    k: int
    clusters: np.ndarray
    g: int
    treated: int

    @classmethod
    def of(
        cls, design: LinearDesign, sample: _Sample, treated_rows: np.ndarray, *, dummies: bool
    ) -> _Solved:
        """Solve; without ``dummies``, refuse regressors collinear after the effects."""
        beta, resid, rank = design.solve_with_rank()
        if not dummies and rank < len(design.names):
            raise ValueError(
                f"regressors {design.names} are collinear after absorbing the "
                f"{sample.unit!r} and {sample.time!r} fixed effects (rank {rank} of "
                f"{len(design.names)}): the coefficients are not identified"
            )
        # Codes in label order: the covariance sums the clusters in the labels' order.
        codes = sample.cluster_codes
        k = design.k(codes)
        cov = crv1(design.x, resid, codes, weights=sample.w, k=k)
        g = int(codes.max()) + 1
        treated = int(np.count_nonzero(np.bincount(codes[treated_rows], minlength=g)))
        return cls(design, beta, cov, k, codes, g, treated)


def _placebo_refit(
    sample: _Sample, y: np.ndarray, codes: Codes, k: int
) -> Callable[[pd.Series], np.ndarray]:
    """β̂ of the k indicator terms under a placebo assignment (randomisation inference).

    Built on first call: only randomisation inference needs the transformed outcome.
    """

    @cache
    def refit() -> PlaceboRefit:
        data = sample.data
        return PlaceboRefit(
            sample.within,
            y,
            sample.w,
            time=data[sample.time].to_numpy(dtype=float),
            clusters=data[sample.cluster_name].to_numpy(),
            codes=codes,
            k=k,
        )

    return lambda assign: refit()(assign)


def _infer(
    fit: _Solved,
    terms: list[str],
    opts: _Options,
    *,
    ri_estimate: Callable[[pd.Series], Any],
    ri_assignment: Callable[[], pd.Series],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rows (one per term) for the requested inference, plus info entries."""
    design, beta, cov, clusters, k = fit.design, fit.beta, fit.cov, fit.clusters, fit.k
    inference, level, seed, bootstrap = opts.inference, opts.level, opts.seed, opts.bootstrap
    idx = [design.names.index(t) for t in terms]
    est = beta[idx]
    se = np.sqrt(np.diag(cov.vcov)[idx])
    q = t_quantile(level, cov.df)
    rows = pd.DataFrame(
        {
            "term": terms,
            "estimate": est,
            "se": se,
            "ci_low": est - q * se,
            "ci_high": est + q * se,
            "p": t_pvalue(est / se, cov.df),
            "df": cov.df,
            "inference": "crv1",
            "p_min": np.nan,
        }
    )
    info: dict[str, Any] = {"seed": None, "p_min": None}
    if inference == "wild":
        fits = [
            wild_cluster_bootstrap(
                design,
                t,
                clusters,
                level=level,
                draws=bootstrap,
                seed=seed,
                k=k,
                weights=opts.wild_weights,
            )
            for t in terms
        ]
        rows["p"] = [f.p for f in fits]
        rows["ci_low"] = [f.ci[0] for f in fits]
        rows["ci_high"] = [f.ci[1] for f in fits]
        rows["p_min"] = [f.p_min for f in fits]
        rows["inference"] = "wild"
        info.update(
            seed=fits[0].seed,
            p_min=fits[0].p_min,
            bootstrap={
                "weights": fits[0].weights,
                "draws": fits[0].draws,
                "enumerated": fits[0].enumerated,
                "null_imposed": True,
            },
        )
    elif inference == "randomization":
        ri = randomization_inference(ri_estimate, ri_assignment(), draws=bootstrap, seed=seed)
        rows["p"] = ri.p
        # RI tests the sharp null of no effect; no interval is inverted from it.
        rows["ci_low"] = np.nan
        rows["ci_high"] = np.nan
        rows["p_min"] = ri.p_min
        rows["inference"] = "randomization"
        info.update(
            seed=ri.seed,
            p_min=ri.p_min,
            randomization={"permutations": ri.permutations, "enumerated": ri.enumerated},
        )
    uninformative = not_informative(fit.treated, info["p_min"], level)
    rows["informative"] = not uninformative
    # Few-cluster intervals are withheld; CRV1's stays, flagged as conditional.
    if uninformative and inference != "cluster":
        rows["ci_low"] = np.nan
        rows["ci_high"] = np.nan
    return rows, info


def twfe(
    df: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    treat: str,
    *,
    cluster: str | None = None,
    weights: str | None = None,
    inference: str = "cluster",
    level: float = 0.95,
    seed: int | None = None,
    bootstrap: int = 9999,
    wild_weights: str | None = None,
) -> EstimateResult:
    """Static two-way fixed-effects DiD.

    y_it = α_i + λ_t + β·D_it + ε_it, estimated by (weighted) least squares; β is the
    reported ``treat`` term.

    Parameters
    ----------
    df
        Long panel, one row per unit × period.
    outcome, unit, time, treat
        Column names; ``treat`` is the 0/1 treatment indicator D_it.
    cluster
        Cluster (assignment-level) column; default the unit.
    weights
        Column of positive analytic weights.
    inference
        ``"cluster"`` (CRV1, fixest small-sample factor, t(G−1)), ``"wild"`` (wild
        cluster restricted bootstrap; Rademacher enumerated when G ≤ 12, otherwise
        ``bootstrap`` Webb draws) or ``"randomization"`` (permute cluster start dates).
    level
        Confidence level.
    seed
        Seed of the random draws (recorded in ``info``; drawn and recorded if None).
    bootstrap
        Number of random bootstrap draws or random permutations.
    wild_weights
        ``"rademacher"`` or ``"webb"`` to override the default (Rademacher enumerated
        when G ≤ 12, Webb draws otherwise).

    Returns
    -------
    EstimateResult
        One row, term ``treat``; ``se`` is always the CRV1 SE, ``p``/``ci_*`` come from
        the chosen inference.
    """
    opts = _Options(inference, level, seed, bootstrap, wild_weights)
    sample = _Sample.of(
        df, [outcome, unit, time, treat], unit=unit, time=time, cluster=cluster, weights=weights
    )
    data = sample.data
    d = data[treat].to_numpy(dtype=float)
    y = data[outcome].to_numpy(dtype=float)
    dummies = inference == "wild"
    design = _design(sample, y, d[:, None], [treat], dummies=dummies)
    fit = _Solved.of(design, sample, d > 0, dummies=dummies)

    def ri_assignment() -> pd.Series:
        starts = unit_starts_from_treat(data, unit, time, treat)
        unit_cluster = data.groupby(unit)[sample.cluster_name].first()
        return cluster_starts(starts, unit_cluster)

    placebo = _placebo_refit(sample, y, treated_codes, 1)

    def ri_estimate(assign: pd.Series) -> float:
        return float(placebo(assign)[0])

    rows, extra = _infer(fit, [treat], opts, ri_estimate=ri_estimate, ri_assignment=ri_assignment)
    return _result(fit, sample, rows, opts, estimator="twfe", extra=extra)


def _result(
    fit: _Solved,
    sample: _Sample,
    rows: pd.DataFrame,
    opts: _Options,
    *,
    estimator: str,
    extra: dict[str, Any],
) -> EstimateResult:
    warnings: list[WarningCode] = assignment_warnings(fit.g, fit.treated)
    if not rows["informative"].all():
        warnings.append(
            not_informative_warning(fit.treated, extra.get("p_min"), opts.level, opts.inference)
        )
    info: dict[str, Any] = {
        "estimator": estimator,
        "n": fit.design.n,
        "n_dropped": sample.n_dropped,
        "cluster": sample.cluster_name,
        "clusters": fit.g,
        "treated_clusters": fit.treated,
        "inference": opts.inference,
        "level": opts.level,
        "vcov": "CRV1 G/(G-1)*(N-1)/(N-K), t(G-1)",
        "k": fit.k,
        **extra,
    }
    return EstimateResult(table=rows.reset_index(drop=True), info=info, warnings=warnings)
