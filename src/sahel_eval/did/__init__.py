"""Difference-in-differences estimators (DESIGN §6).

The estimators are loaded on first use (PEP 562): importing one submodule, such as
``sahel_eval.did.covariance`` from the survey tables, then costs no scipy.stats and
no estimator imports — a second per job in the report stage.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Public name -> the module that defines it.
_EXPORTS = {
    "att_gt": "sahel_eval.did.cs.model",
    "breakdown": "sahel_eval.did.honest",
    "did_2x2": "sahel_eval.did.twobytwo",
    "event_study": "sahel_eval.did.twfe",
    "sensitivity": "sahel_eval.did.honest",
    "synthdid": "sahel_eval.did.sdid",
    "twfe": "sahel_eval.did.twfe",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sahel_eval.did' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
