"""Result object of :func:`sahel_eval.did.sdid.synthdid`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.stats.distributions import norm_ppf, norm_sf

TIDY_COLUMNS = ("term", "estimate", "se", "ci_low", "ci_high", "p")
NAMES = {"sdid": "synthetic DiD", "sc": "synthetic control", "did": "DiD"}
COMPARISON = {
    "sdid": "ω-weighted controls",
    "sc": "synthetic control",
    "did": "mean of the controls",
}


@dataclass
class SynthDIDResult:
    """A synthetic DiD (or SC, or DiD) estimate of the ATT on the treated block.

    Parameters
    ----------
    estimate
        Average effect on the treated units over the post-periods.
    se
        Standard error (NaN with ``se=None``).
    estimator
        ``"sdid"``, ``"sc"`` or ``"did"``.
    unit_weights
        ω: one weight per control unit (sums to 1), indexed by unit.
    time_weights
        λ: one weight per pre-period (sums to 1; all 0 for SC), indexed by period.
    trajectories
        Per period: ``treated`` (mean of the treated units), ``synthetic`` (ω-weighted
        controls) and ``synthetic_shifted`` (``synthetic`` plus the λ-weighted pre-period
        gap; treated − shifted averaged over the post-periods is the estimate).
    replicates
        The placebo / jackknife / bootstrap estimates behind ``se``.
    info
        Facts about the fit (units, periods, dropped units, SE method, reps, seed,
        pre-period fit, tuning).
    warnings
        Warning codes (``units_dropped``, ``one_treated_unit``, …).
    """

    estimate: float
    se: float
    estimator: str
    unit_weights: pd.Series
    time_weights: pd.Series
    trajectories: pd.DataFrame
    replicates: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def pre_rmse(self) -> float:
        """Pre-period fit: RMSE of treated − synthetic before the start (see ``info``)."""
        return float(self.info["pre_rmse"])

    @property
    def p(self) -> float:
        """Two-sided p-value of a normal test of zero effect (NaN without an SE)."""
        if not np.isfinite(self.se) or self.se <= 0:
            return float("nan")
        return float(2 * norm_sf(abs(self.estimate) / self.se))

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        """Normal-approximation interval ``estimate ± z·se``, as in the R package.

        With placebo SEs the interval is conditional: the placebo units cannot show
        shocks shared by the treated units (DESIGN §6.2).
        """
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        half = norm_ppf(0.5 + level / 2) * self.se
        return float(self.estimate - half), float(self.estimate + half)

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy one-row table: ``term, estimate, se, ci_low, ci_high, p`` and context."""
        low, high = self.ci(level)
        row = {
            "term": "att",
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": low,
            "ci_high": high,
            "p": self.p,
            "estimator": self.estimator,
            "inference": self.info["se_method"],
            "level": level,
            "n_treated": self.info["n_treated"],
            "n_controls": self.info["n_controls"],
            "pre_rmse": self.info["pre_rmse"],
        }
        return pd.DataFrame([row])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: estimates, weights, info and warnings."""
        rows = self.to_frame().astype(object).where(self.to_frame().notna(), None)
        return {
            "estimates": rows.to_dict(orient="records"),
            "unit_weights": {str(k): float(v) for k, v in self.unit_weights.items()},
            "time_weights": {str(k): float(v) for k, v in self.time_weights.items()},
            "info": self.info,
            "warnings": list(self.warnings),
        }

    def summary(self, level: float = 0.95, top: int = 10) -> str:
        """Plain-text summary: estimate, interval, design, pre-period fit, main weights."""
        info = self.info
        low, high = self.ci(level)
        if info["se_method"] == "placebo":
            how = f"{info['n_replicates']} placebo assignments" + (
                " (all, enumerated)" if info["placebo_enumerated"] else " (random draws)"
            )
        elif info["se_method"] == "none":
            how = "none"
        else:
            how = f"{info['se_method']}, {info['n_replicates']} replicates"
        lines = [
            f"{NAMES[self.estimator]} (Arkhangelsky et al. 2021; R synthdid solver)",
            f"  ATT = {self.estimate:.5g}   SE = {self.se:.4g}   "
            f"{100 * level:g}% CI [{low:.4g}, {high:.4g}]   p = {self.p:.3g}",
            f"  SE: {how}; normal interval, conditional on no shocks shared by the treated units",
            f"  treated units: {info['n_treated']}   controls: {info['n_controls']} "
            f"(effective {info['n_controls_effective']:.1f})",
            f"  periods: {info['n_pre']} before {info['start']}, {info['n_post']} from it on"
            f"   pre-period RMSE (treated − synthetic): {info['pre_rmse']:.4g}",
        ]
        if info["n_dropped"]:
            lines.append(
                f"  dropped for missing cells: {info['n_dropped']} unit(s) "
                f"({', '.join(map(str, info['dropped_units'][:5]))}"
                f"{', …' if info['n_dropped'] > 5 else ''})"
            )
        omega = self.unit_weights[self.unit_weights > 0].sort_values(ascending=False)
        lines.append(f"  unit weights ({len(omega)} non-zero, top {min(top, len(omega))}):")
        lines += [f"    {k}: {v:.3f}" for k, v in omega.head(top).items()]
        lam = self.time_weights[self.time_weights > 0]
        if len(lam):
            lines.append(f"  time weights ({len(lam)} non-zero, top {min(top, len(lam))}):")
            lam = lam.nlargest(top).sort_index()
            lines += [f"    {_label(k)}: {v:.3f}" for k, v in lam.items()]
        if self.warnings:
            lines.append(f"  warnings: {', '.join(self.warnings)}")
        return "\n".join(lines)

    def plot(self, level: float = 0.95) -> Any:
        """Treated vs synthetic trajectories, the start and the time weights.

        Returns
        -------
        matplotlib.figure.Figure
            A new figure (no pyplot state is touched).
        """
        from matplotlib.figure import Figure

        traj = self.trajectories
        x = np.arange(len(traj)) if not _plottable(traj.index) else traj.index
        fig = Figure(figsize=(7, 4.2), layout="constrained")
        ax = fig.add_subplot()
        ax.plot(x, traj["treated"], color="black", lw=1.6, label="treated")
        ax.plot(x, traj["synthetic"], color="tab:blue", lw=1.4, label=COMPARISON[self.estimator])
        if self.estimator != "sc":
            ax.plot(
                x,
                traj["synthetic_shifted"],
                color="tab:blue",
                lw=1.0,
                ls="--",
                label="shifted by the λ-weighted pre-period gap",
            )
        start = x[self.info["n_pre"]]
        ax.axvline(start, color="grey", lw=0.8, ls=":")
        lam = self.time_weights.to_numpy()
        if lam.sum() > 0:
            low = min(traj.min())
            height = 0.15 * (max(traj.max()) - low)
            ax.fill_between(
                x[: len(lam)], low, low + height * lam / lam.max(), color="tab:orange", alpha=0.4
            )
            ax.plot([], [], color="tab:orange", alpha=0.4, lw=6, label="time weights λ")
        lo, hi = self.ci(level)
        ax.set_title(
            f"{NAMES[self.estimator]}: {self.estimate:.3g} "
            f"({100 * level:g}% CI {lo:.3g} to {hi:.3g}, {self.info['se_method']})",
            fontsize=10,
        )
        ax.set_ylabel(str(self.info["outcome"]))
        if not _plottable(traj.index):
            ticks = x[:: max(1, len(x) // 8)]
            ax.set_xticks(ticks, [str(traj.index[i]) for i in ticks])
        ax.legend(fontsize=8, frameon=False, loc="best")
        return fig


def _label(value: Any) -> str:
    """A period label for text: dates without a time of day as ``YYYY-MM-DD``."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return str(value)


def _plottable(index: pd.Index) -> bool:
    """Whether period labels can serve as x values (numbers or dates)."""
    return pd.api.types.is_numeric_dtype(index) or pd.api.types.is_datetime64_any_dtype(index)
