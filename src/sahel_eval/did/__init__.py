"""Difference-in-differences estimators (DESIGN §6)."""

from sahel_eval.did.cs.model import att_gt
from sahel_eval.did.event_study import event_study
from sahel_eval.did.honest import breakdown, sensitivity
from sahel_eval.did.imputation import imputation
from sahel_eval.did.sdid import synthdid
from sahel_eval.did.twfe import twfe
from sahel_eval.did.twobytwo import did_2x2

__all__ = [
    "att_gt",
    "breakdown",
    "did_2x2",
    "event_study",
    "imputation",
    "sensitivity",
    "synthdid",
    "twfe",
]
