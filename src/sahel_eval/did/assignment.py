"""The assignment level: which clusters are treated, from when, and what that allows.

Programmes are assigned to districts, so the facts that decide whether inference is
informative are counted at the cluster level: clusters G, treated clusters, and each
cluster's roll-out (start) date, which randomisation inference permutes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sahel_eval.did.results import WarningCode

__all__ = [
    "FEW_TREATED_CLUSTERS",
    "assignment_warnings",
    "cluster_starts",
    "not_informative",
    "unit_starts_from_treat",
]

#: Fewer treated clusters than this triggers ``few_treated_clusters``.
FEW_TREATED_CLUSTERS = 10


def unit_starts_from_treat(data: pd.DataFrame, unit: str, time: str, treat: str) -> pd.Series:
    """First period with ``treat == 1`` per unit (NaN = never treated).

    Raises a ValueError when treatment switches off again, because the project's
    treatment is absorbing (DESIGN §6) and a start date would not describe it.
    """
    treated = data[treat].astype(float) > 0
    start = data.loc[treated].groupby(unit)[time].min()
    start = start.reindex(pd.unique(data[unit]))
    implied = data[time] >= data[unit].map(start)
    bad = implied.fillna(False).astype(bool) != treated
    if bad.any():
        units = pd.unique(data.loc[bad, unit])[:5].tolist()
        raise ValueError(
            f"column {treat!r} is not absorbing (switches off after the first treated "
            f"period) for units {units}; randomisation inference needs start dates"
        )
    return start


def cluster_starts(unit_start: pd.Series, unit_cluster: pd.Series) -> pd.Series:
    """One start date per cluster, from unit start dates (index = unit).

    Raises a ValueError when units of one cluster start at different dates (or some
    never): a placebo cluster could not take over that roll-out.
    """
    frame = pd.DataFrame({"start": unit_start, "cluster": unit_cluster.reindex(unit_start.index)})
    key = frame["start"].astype(object).where(frame["start"].notna(), "never")
    n_dates = key.groupby(frame["cluster"]).nunique()
    if (n_dates > 1).any():
        bad = n_dates.index[n_dates > 1][:5].tolist()
        raise ValueError(
            f"clusters {bad} contain units with different start dates; randomisation "
            "inference permutes one roll-out date per cluster, so cluster at the "
            "assignment level (the district)"
        )
    return frame.groupby("cluster")["start"].first()


def assignment_warnings(g: int | None, treated: int | None) -> list[WarningCode]:
    """``few_treated_clusters`` and ``single_treated_cluster`` codes."""
    if g is None or treated is None:
        return []
    out = []
    if treated < FEW_TREATED_CLUSTERS:
        out.append(WarningCode("few_treated_clusters", {"g": int(g), "treated": int(treated)}))
    if treated == 1:
        out.append(WarningCode("single_treated_cluster", {"g": int(g)}))
    return out


def not_informative(treated: int | None, p_min: float | None, level: float) -> bool:
    """One treated cluster, or a smallest attainable p-value above 1 − level."""
    if treated is not None and treated <= 1:
        return True
    return p_min is not None and bool(np.isfinite(p_min)) and p_min > 1 - level
