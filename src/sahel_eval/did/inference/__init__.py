"""Few-cluster inference, one module per method.

* :mod:`~sahel_eval.did.inference.wild` — wild cluster restricted bootstrap of one
  coefficient of a linear model (TWFE, event study, 2×2);
* :mod:`~sahel_eval.did.inference.randomization` — randomisation inference permuting
  roll-out dates over clusters, with the exact test-inversion CI of linear estimators;
* :mod:`~sahel_eval.did.inference.multiplier` — multiplier bootstrap of estimators
  linear in influence functions (Callaway–Sant'Anna), with sup-t uniform bands.

What the resampling methods share is here: the seed actually used is recorded
(:func:`resolve_seed`), and the actual sample counts as at least as extreme as itself
up to rounding (:data:`TIE`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["TIE", "resolve_seed"]

# Relative slack when counting |t*| ≥ |t|: the identity draw reproduces t only up to
# rounding, and it must count.
TIE = 1e-9


def resolve_seed(seed: int | None) -> int:
    """The seed actually used: ``seed`` itself, or fresh entropy recorded for replay."""
    if seed is not None:
        return int(seed)
    return int(np.random.SeedSequence().entropy)
