"""CSCOM resilience to shocks (DESIGN §7): shocks, expected volume, indicators.

- :mod:`.shocks` — national and local (chained security events) shock table.
- :mod:`.design`, :mod:`.count_model`, :mod:`.expected` — expected volume from a
  pre-shock quasi-Poisson model, batched.
- :mod:`.indicators` — exact window indicators and the classification.
- :mod:`.table` — the stage: every facility × service × shock of an area
  (:mod:`.settings` from the config); :mod:`.aggregate` — its summaries and the
  programme comparison; :mod:`.example` — the example the figures and report show.
"""

from sahel_eval.resilience.design import design_matrix, pre_shock_mask
from sahel_eval.resilience.expected import ExpectedFit, fit_expected
from sahel_eval.resilience.indicators import (
    CLASSES,
    WindowIndicators,
    classify,
    interruption,
    substitution,
    window_indicators,
    window_indicators_many,
)
from sahel_eval.resilience.shocks import (
    SHOCK_COLUMNS,
    local_shocks,
    national_shocks,
    shock_table,
)

__all__ = [
    "CLASSES",
    "SHOCK_COLUMNS",
    "ExpectedFit",
    "WindowIndicators",
    "classify",
    "design_matrix",
    "fit_expected",
    "interruption",
    "local_shocks",
    "national_shocks",
    "pre_shock_mask",
    "shock_table",
    "substitution",
    "window_indicators",
    "window_indicators_many",
]
