"""Which event-time rows of a DiD analysis a reader sees (DESIGN §6, §9).

The facility figure draws them and the technical report quotes them in the figure's
text alternative, so both read them through :func:`event_rows`: the headline
(assignment-level) rows when they carry intervals, otherwise the facility-clustered
ones, flagged conditional. Nothing is estimated here; the rows are those of
``results/estimates/{analysis}_event_time.csv``. :func:`reading_scale` turns the DiD
stage's unit of an outcome into the one every figure and report reads it in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["event_rows", "event_window", "has_ci", "reading_scale"]


def has_ci(rows: pd.DataFrame) -> bool:
    """Whether ``rows`` is non-empty and at least one of them has an interval."""
    return bool(len(rows)) and bool(rows["ci_low"].notna().any())


def reading_scale(unit: str) -> float:
    """Factor from an outcome's unit (the estimates document's ``units``) to the one
    readers see: proportions (survey outcomes, quality-of-care ratios) in percentage
    points, rates per 1,000 as estimated."""
    return 100.0 if unit == "proportion" else 1.0


def event_window(document: Mapping[str, Any]) -> tuple[int, int]:
    """Event times an event-study figure draws: ``(-leads, lags)`` of the analysis's
    document (``did.leads``, ``did.lags``), the event study's own window."""
    settings = document["settings"]
    return -int(settings["leads"]), int(settings["lags"])


def event_rows(
    event_time: pd.DataFrame, outcome: str, window: tuple[int, int]
) -> tuple[pd.DataFrame, bool]:
    """The event-time rows drawn for ``outcome`` and whether they are conditional.

    The headline rows are used when they carry intervals (Mopti's randomisation
    intervals across cercles); a headline without them (one treated commune: not
    informative) gives way to the facility-clustered rows of the same estimator, drawn
    and flagged conditional (a second estimator's rows, e.g. imputation beside CS, and robustness
    rows are never mixed in).

    ``window`` (:func:`event_window`) bounds the event times, ends included.

    Returns
    -------
    (pandas.DataFrame, bool)
        Rows sorted by event time; True when they are the facility-clustered ones.
    """
    sub = event_time[(event_time["outcome"] == outcome) & event_time["event_time"].between(*window)]
    head = sub[sub["headline"].astype(bool)]
    if has_ci(head):
        return head.sort_values("event_time", kind="mergesort"), False
    other = sub[~sub["headline"].astype(bool) & sub["robustness"].isna()]
    if len(head):
        other = other[other["estimator"] == head["estimator"].iloc[0]]
        other = other[other["inference"] != head["inference"].iloc[0]]
    return other.sort_values("event_time", kind="mergesort"), True
