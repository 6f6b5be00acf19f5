"""Synthetic difference-in-differences for one treated block (DESIGN §6.2).

``synthdid(df, outcome, unit, time, treat, estimator=..., se=..., reps=..., seed=...)``
returns a :class:`SynthDIDResult`.
"""

from sahel_eval.did.sdid.model import synthdid
from sahel_eval.did.sdid.results import SynthDIDResult

__all__ = ["SynthDIDResult", "synthdid"]
