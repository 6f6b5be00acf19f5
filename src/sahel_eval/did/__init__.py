"""Difference-in-differences estimators (DESIGN §6).

The estimators are loaded on first use (PEP 562): ``from sahel_eval.did import did_2x2``
imports the 2×2 module only, not Callaway–Sant'Anna, SDID and HonestDiD with scipy.stats
(about 1.3 s of start-up that most pipeline jobs do not need).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Exported name → the module that defines it.
_EXPORTS = {
    "att_gt": "sahel_eval.did.cs.model",
    "breakdown": "sahel_eval.did.honest",
    "did_2x2": "sahel_eval.did.twobytwo",
    "event_study": "sahel_eval.did.twfe",
    "imputation": "sahel_eval.did.imputation",
    "sensitivity": "sahel_eval.did.honest",
    "synthdid": "sahel_eval.did.sdid",
    "twfe": "sahel_eval.did.twfe",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
