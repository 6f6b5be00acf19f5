"""Asset wealth of the survey clusters, and the larger effect planted in the poorest.

Each cluster has a wealth level 1 (poorest) … 5 (``params.WEALTH_SEED``): the levels in
turn within a district and round, shuffled on a stream of their own so that the other
survey draws keep their order. A household's asset quintile (DHS ``hv270``) scatters
±1 around its cluster's level, so the cluster's weighted median quintile — the
subgroup variable ``cluster_wealth_quintile`` of the did stage — is its level. The
programme's planted effect is multiplied by ``params.WEALTH_GAIN`` (×1.5 in the poorest
two levels, ×0.5 above).
"""

from __future__ import annotations

import numpy as np

from .params import POOREST_LEVELS, WEALTH_GAIN, WEALTH_SEED

__all__ = ["cluster_wealth_levels", "household_wealth", "wealth_gain"]

# Household quintile = cluster level + this, by a uniform draw 1–5: −1, 0, 0, 0, +1.
_SCATTER = {1: -1, 2: 0, 3: 0, 4: 0, 5: 1}


def cluster_wealth_levels(year: int, district: str, n: int) -> list[int]:
    """Wealth level of each of a district's ``n`` clusters in one round."""
    rng = np.random.default_rng([WEALTH_SEED, year, *district.encode("utf-8")])
    return [int(v) for v in rng.permutation([i % 5 + 1 for i in range(n)])]


def household_wealth(level: int, draw: int) -> int:
    """A household's asset quintile from its cluster's level and a uniform draw 1–5."""
    return int(np.clip(level + _SCATTER[draw], 1, 5))


def wealth_gain(level: int) -> float:
    """Factor of the planted effect in a cluster of this wealth level."""
    return WEALTH_GAIN["poorest" if level in POOREST_LEVELS else "richer"]
