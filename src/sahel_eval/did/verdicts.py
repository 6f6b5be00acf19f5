"""Verdicts as data (DESIGN §6.1): what a headline result or a pre-test allows one to say.

Headline results, first match wins:

==========================================================  ====================
one treated district, or p_min > test level                 ``not_informative``
assignment-level CI excludes 0, above it                    ``increase_shown``
assignment-level CI excludes 0, below it                    ``decrease_shown``
CI inside ± the smallest effect that matters                ``no_large_effect``
otherwise (absence of evidence, never "no effect")          ``not_shown``
==========================================================  ====================

Pre-tests: ``pretrend_rejected``, ``pretrend_not_rejected`` or ``not_testable``.

Persistence ρ (after ÷ before a programme's end), from its assignment-level confidence
set (:func:`persistence_verdict`): ``not_informative``; ``partial_persistence_shown``
(the set lies inside (0, 1): part of the effect remains, and it shrank);
``persistence_shown`` (inside (0, ∞)); ``decline_shown`` (inside (−∞, 1)); otherwise
``not_shown``.
Reports translate the codes; they never decide a verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sahel_eval.did.inference.studentized import rejection_alpha

__all__ = [
    "HEADLINE_VERDICTS",
    "PERSISTENCE_VERDICTS",
    "PRETEST_VERDICTS",
    "OutcomeSetting",
    "holm",
    "mde",
    "persistence_verdict",
    "pretest_verdict",
    "verdict",
]

HEADLINE_VERDICTS = (
    "not_informative",
    "increase_shown",
    "decrease_shown",
    "no_large_effect",
    "not_shown",
)
PRETEST_VERDICTS = ("pretrend_rejected", "pretrend_not_rejected", "not_testable")
PERSISTENCE_VERDICTS = (
    "not_informative",
    "partial_persistence_shown",
    "persistence_shown",
    "decline_shown",
    "not_shown",
)


@dataclass(frozen=True)
class OutcomeSetting:
    """What a researcher declares per outcome (config ``did.outcomes``).

    Parameters
    ----------
    smallest_effect
        Smallest effect that matters, in the outcome's units (> 0).
    good_direction
        ``"increase"`` or ``"decrease"``: which way is good for the population.
    """

    smallest_effect: float
    good_direction: str

    def __post_init__(self) -> None:
        if not self.smallest_effect > 0:
            raise ValueError(f"smallest_effect must be > 0, got {self.smallest_effect}")
        if self.good_direction not in ("increase", "decrease"):
            raise ValueError(
                f"good_direction must be 'increase' or 'decrease', got {self.good_direction!r}"
            )

    @classmethod
    def from_config(cls, entry: Mapping[str, Any]) -> OutcomeSetting:
        """From one ``did.outcomes`` entry (keys indexed: the schema requires them)."""
        return cls(float(entry["smallest_effect"]), str(entry["good_direction"]))


def not_informative(treated: int | None, p_min: float | None, level: float) -> bool:
    """One treated district, or a smallest attainable p above the test level."""
    if treated is not None and treated <= 1:
        return True
    return p_min is not None and np.isfinite(p_min) and p_min > rejection_alpha(level)


def verdict(
    *,
    treated: int | None,
    p_min: float | None,
    level: float,
    ci_low: float | None,
    ci_high: float | None,
    smallest_effect: float | None,
) -> str:
    """Headline verdict by the table of DESIGN §6.1 (first match wins)."""
    if not_informative(treated, p_min, level):
        return "not_informative"
    lo = np.nan if ci_low is None else float(ci_low)
    hi = np.nan if ci_high is None else float(ci_high)
    if np.isnan(lo) and np.isnan(hi):
        # Empty accepted set: every effect rejected, nothing said about its size.
        return "not_shown"
    if lo > 0:
        return "increase_shown"
    if hi < 0:
        return "decrease_shown"
    if smallest_effect is not None and -smallest_effect <= lo and hi <= smallest_effect:
        return "no_large_effect"
    return "not_shown"


def mde(estimate: float, ci_low: float, ci_high: float, good_direction: str | None) -> float | None:
    """Minimum detectable effect in the good direction, from the inverted RI test.

    Adding a constant effect τ to data whose estimate is 0 moves the test of θ = 0 as
    testing θ = estimate − τ on the actual data, so the smallest increase this test
    rejects "no effect" for is ``estimate − ci_low`` (a decrease: ``ci_high −
    estimate``).  None when that side of the interval is unbounded or missing.
    """
    gap = estimate - ci_low if good_direction != "decrease" else ci_high - estimate
    if gap is None or not np.isfinite(gap):
        return None
    return float(max(gap, 0.0))


def pretest_verdict(p: float | None, p_min: float | None, level: float) -> str:
    """``pretrend_rejected`` / ``pretrend_not_rejected``, or ``not_testable`` (no p, or
    a test that could not reject at this level)."""
    if p is None or not np.isfinite(p):
        return "not_testable"
    if p_min is not None and p_min > rejection_alpha(level):
        return "not_testable"
    return "pretrend_rejected" if p <= rejection_alpha(level) else "pretrend_not_rejected"


def persistence_verdict(pieces: Sequence[tuple[float, float]]) -> str:
    """Verdict on persistence from its (informative) assignment-level confidence set."""
    if not pieces:
        # Every ρ rejected: the after/before comparison itself is off; nothing shown.
        return "not_shown"
    low, high = pieces[0][0], pieces[-1][1]
    above_zero, below_one = low > 0, high < 1
    if above_zero and below_one:
        return "partial_persistence_shown"
    if above_zero:
        return "persistence_shown"
    if below_one:
        return "decline_shown"
    return "not_shown"


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN entries stay NaN and do not count)."""
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = idx.size
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out
