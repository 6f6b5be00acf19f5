"""The example shock, district and facility that the resilience figures and the
technical report show (DESIGN §7, §9): one rule, applied to the indicators table,
so that the figure and the text name the same facility."""

from __future__ import annotations

import pandas as pd

__all__ = ["pick_example"]


def pick_example(indicators: pd.DataFrame, service: str, *, min_facilities: int = 5) -> dict:
    """The shock, district and facility shown in the example figures.

    Rule: among shocks with at least ``min_facilities`` assessable windows of
    ``service``, the one with the highest mean loss share; in it, the district with
    the most assessable windows (ties: alphabetical); in that district, the facility
    at the (lower) median loss share — a typical facility, not the worst.

    Returns
    -------
    dict
        ``shock_id, district, facility_id``; empty when nothing is assessable.
    """
    ok = indicators[(indicators["service"] == service) & indicators["assessable"].astype(bool)]
    counts = ok.groupby("shock_id")["facility_id"].size()
    eligible = counts[counts >= min_facilities].index
    if len(eligible) == 0:
        eligible = counts.index
    if len(eligible) == 0:
        return {}
    loss = ok[ok["shock_id"].isin(eligible)].groupby("shock_id")["loss_share"].mean()
    shock = str(loss.sort_values(ascending=False, kind="mergesort").index[0])
    sub = ok[ok["shock_id"] == shock]
    by_d = sub.groupby("district")["facility_id"].size().sort_index()
    district = str(by_d.idxmax())
    fac = sub[sub["district"] == district].sort_values(["loss_share", "facility_id"])
    facility = str(fac["facility_id"].iloc[(len(fac) - 1) // 2])
    return {"shock_id": shock, "district": district, "facility_id": facility}
