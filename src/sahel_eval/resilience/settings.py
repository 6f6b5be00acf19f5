"""Settings of the resilience stage (DESIGN §7), read from the validated config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ResilienceSettings"]


_FAMILY = {"poisson": "poisson", "negative_binomial": "negbin", "negbin": "negbin"}


@dataclass(frozen=True)
class ResilienceSettings:
    """Settings of the resilience stage (config ``resilience`` and ``seeds``).

    Attributes
    ----------
    window_months
        H, months from onset.
    min_history_months
        Usable pre-shock months needed to model Ê.
    recovery_threshold
        P at or above which a month is at its expected level.
    interruption_months
        Consecutive months without any essential service that make an interruption.
    essential_services
        Panel indicator columns assessed (and used for interruption).
    family
        ``"poisson"`` (quasi-likelihood) or ``"negbin"``.
    bootstrap_draws
        Draws of the prediction interval.
    level
        Coverage of the prediction interval.
    seed
        Seed of the prediction-interval bootstrap.
    programme_term
        Include the programme exposure in the model of Ê.
    recovery_rule
        When a month counts as "at its expected level" for τ: ``"ratio"`` (DESIGN §7
        literally: reported and ``P >= recovery_threshold``) or ``"interval"``
        (reported and ``O >= min(recovery_threshold · Ê, lower PI bound)``: a
        shortfall counts only when it is both larger than the threshold and beyond
        the model's noise). See :func:`sahel_eval.resilience.table.recovery_time`.
    """

    window_months: int = 12
    min_history_months: int = 24
    recovery_threshold: float = 0.9
    interruption_months: int = 3
    essential_services: tuple[str, ...] = ("consultations_all", "anc1", "deliveries", "penta3")
    family: str = "poisson"
    bootstrap_draws: int = 999
    level: float = 0.95
    seed: int = 0
    programme_term: bool = True
    recovery_rule: str = "interval"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ResilienceSettings:
        """Settings from a validated config (defaults filled in)."""
        res = config["resilience"]
        model = res["model"]
        if model not in _FAMILY:
            raise ValueError(
                f"resilience.model must be poisson or negative_binomial, got {model!r}"
            )
        return cls(
            window_months=int(res["window_months"]),
            min_history_months=int(res["min_history_months"]),
            recovery_threshold=float(res["recovery_threshold"]),
            interruption_months=int(res["interruption_months"]),
            essential_services=tuple(res["essential_services"]),
            family=_FAMILY[model],
            bootstrap_draws=int(res["bootstrap_draws"]),
            seed=int(config["seeds"]["expected_volume"]),
            recovery_rule=str(res["recovery_rule"]),
        )
