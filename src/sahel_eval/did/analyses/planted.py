"""The planted effect a synthetic-DiD row estimates, where the data are simulated.

Synthetic DiD estimates the mean effect over the programme's months (its window,
:mod:`~sahel_eval.did.analyses.synthetic`); on the demo data the generator's truth
file holds the planted effect per programme, indicator and calendar month (``effects``:
the mean rate effect per 1,000 over the facilities exposed that month). Its mean over
the window's months is the value each SDID row is compared with (issue 19 item 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["planted_window_mean", "sdid_errors"]


def planted_window_mean(
    effects: Mapping[str, Any], programme: str, indicator: str, first: str, last: str
) -> float | None:
    """Mean planted effect of ``programme`` on ``indicator`` over calendar months
    ``first`` … ``last`` (``YYYYMM`` strings, inclusive); None when the truth has no
    effect for that indicator (nothing was planted)."""
    by_month = effects.get(programme, {}).get(indicator)
    if by_month is None:
        return None
    months = [m for m in by_month["calendar"] if first <= m <= last]
    if not months:
        raise ValueError(
            f"truth effects of {programme}/{indicator}: no month in the window "
            f"{first}–{last} (months {min(by_month['calendar'])}–{max(by_month['calendar'])})"
        )
    return float(np.mean([by_month["calendar"][m] for m in months]))


def sdid_errors(
    estimates: pd.DataFrame,
    fits: list[dict[str, Any]],
    effects: Mapping[str, Any],
    programme: str,
) -> list[dict[str, Any]]:
    """One record per synthetic-DiD fit: its window, the planted mean effect over it,
    the estimate and its error (estimate − planted; None where nothing was planted)."""
    out = []
    for f in fits:
        if f["estimator"] != "synthdid":
            continue
        w = f["window"]
        indicator = f["outcome"].removesuffix("_rate").removesuffix("_per_1000")
        truth = planted_window_mean(effects, programme, indicator, w["from"], w["to"])
        row = estimates[(estimates["fit"] == f["fit"]) & (estimates["term"] == "overall")]
        if len(row) != 1:
            raise AssertionError(f"synthetic DiD fit {f['fit']!r}: expected one overall row")
        est = float(row["estimate"].iloc[0])
        out.append(
            {
                "fit": f["fit"],
                "outcome": f["outcome"],
                "level": f["level"],
                "window_from": w["from"],
                "window_to": w["to"],
                "estimate": est,
                "planted": truth,
                "error": None if truth is None else est - truth,
            }
        )
    return out
