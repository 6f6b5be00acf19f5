"""The assignment level: which clusters are treated, from when, and what that allows.

Programmes are assigned to districts, so the facts that decide whether inference is
informative are counted at the cluster level: clusters G, treated clusters, and each
cluster's roll-out (start) date, which randomisation inference permutes.

When units of one cluster start at different dates (a roll-out in waves within a
district, as I3S in Mopti), randomisation inference permutes *which clusters are
treated* (:func:`treated_clusters_indicator`) and gives every placebo treated cluster
a real treated cluster's roll-out (:func:`placebo_unit_starts`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sahel_eval.did.results import WarningCode

__all__ = [
    "FEW_TREATED_CLUSTERS",
    "WILD_MIN_CLUSTERS",
    "PlaceboRollouts",
    "assignment_warnings",
    "cluster_starts",
    "not_informative",
    "not_informative_warning",
    "placebo_unit_starts",
    "require_absorbing",
    "treated_clusters_indicator",
    "unit_rollout",
    "unit_starts_from_treat",
    "wild_allowed",
]

#: Fewest treated (and control) districts for the wild bootstrap headline (§6.1).
WILD_MIN_CLUSTERS = 5
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


def wild_allowed(treated: int, controls: int) -> bool:
    """DESIGN §6.1: the wild restricted bootstrap may be the headline only with ≥ 5
    treated and ≥ 5 control districts; randomisation inference otherwise."""
    return treated >= WILD_MIN_CLUSTERS and controls >= WILD_MIN_CLUSTERS


def not_informative(treated: int | None, p_min: float | None, level: float) -> bool:
    """One treated cluster, or a smallest attainable p-value above 1 − level."""
    if treated is not None and treated <= 1:
        return True
    return p_min is not None and bool(np.isfinite(p_min)) and p_min > 1 - level


def not_informative_warning(
    treated: int | None, p_min: float | None, level: float, inference: str
) -> WarningCode:
    """The ``not_informative`` code, with what made the inference uninformative."""
    return WarningCode(
        "not_informative",
        {"treated": treated, "p_min": p_min, "level": level, "inference": inference},
    )


def treated_clusters_indicator(unit_start: pd.Series, unit_cluster: pd.Series) -> pd.Series:
    """1.0 per cluster with any treated unit, NaN otherwise (index = sorted clusters).

    The input of
    :func:`~sahel_eval.did.inference.randomization.randomization_inference` when the
    permuted object is the set of treated clusters: its distinct rearrangements are the
    C(G, G1) choices of G1 treated clusters among G.
    """
    cl = unit_cluster.reindex(unit_start.index)
    treated = unit_start.notna().groupby(cl).any().sort_index()
    return pd.Series(np.where(treated.to_numpy(), 1.0, np.nan), index=treated.index)


def require_absorbing(data: pd.DataFrame, unit: str, group: str) -> None:
    """Raise a ValueError when ``group`` (the first exposed period) varies within a unit."""
    if (data.groupby(unit)[group].nunique() > 1).any():
        raise ValueError(f"{group!r} varies within unit; treatment must be absorbing")


def unit_rollout(
    data: pd.DataFrame, unit: str, group: str, cluster: str
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per unit its start and cluster, and the treated clusters, of a long panel.

    ``group`` is the first exposed period (0 = never); ``cluster`` is constant within
    unit. Returns ``unit_start`` (NaN = never treated) and ``unit_cluster``, both
    indexed by unit in order of first appearance, and
    :func:`treated_clusters_indicator` of them: what randomisation inference permutes.
    """
    units = data.drop_duplicates(unit).set_index(unit)
    unit_start = units[group].astype(float).where(units[group] > 0)
    unit_cluster = units[cluster]
    return unit_start, unit_cluster, treated_clusters_indicator(unit_start, unit_cluster)


def placebo_unit_starts(
    unit_start: pd.Series, unit_cluster: pd.Series, placebo_treated: pd.Series
) -> pd.Series:
    """Unit start dates under a placebo choice of treated clusters.

    Rule (deterministic, seed-free):

    1. Pairing: the placebo treated clusters, in sorted label order, take the roll-outs
       of the real treated clusters in sorted label order (k-th with k-th).
    2. Within a pair (placebo P with n_P units, real R with n_R units), units are ranked
       by unit id in each cluster and P's unit of rank i (0-based) takes the start
       date of R's unit of rank ``floor((i + 0.5) · n_R / n_P)``, NaN (never treated)
       included.  With n_P = n_R this is rank for rank, so every wave keeps its exact
       count; otherwise each wave keeps its share up to rounding.
    3. Units of clusters not chosen are never treated.

    Rank by unit id keeps the rule free of outcomes; with P = R it returns R's actual
    dates, so the actual assignment is one of the placebo assignments.

    Parameters
    ----------
    unit_start
        Actual start per unit (index = unit id, NaN = never treated).
    unit_cluster
        Cluster per unit (index = unit id).
    placebo_treated
        Per cluster (index = cluster), non-NaN when the cluster is a placebo treated
        cluster; as many as there are real treated clusters.

    Returns
    -------
    pd.Series
        Placebo start per unit, index as ``unit_start``.
    """
    starts = PlaceboRollouts(unit_start, unit_cluster).starts(placebo_treated)
    return pd.Series(starts, index=unit_start.index)


class PlaceboRollouts:
    """:func:`placebo_unit_starts` for many placebo choices of one panel.

    The members of every cluster (ranked by unit id) and the real roll-outs are found
    once; each placebo choice then costs one array assignment per treated cluster.

    Parameters
    ----------
    unit_start, unit_cluster
        As :func:`placebo_unit_starts`.
    """

    def __init__(self, unit_start: pd.Series, unit_cluster: pd.Series) -> None:
        cl = unit_cluster.reindex(unit_start.index)
        ids = unit_start.index.to_numpy()
        self._members: dict[object, np.ndarray] = {}
        for c in cl.unique():
            pos = np.flatnonzero((cl == c).to_numpy())
            self._members[c] = pos[np.argsort(ids[pos], kind="stable")]
        self._starts = unit_start.to_numpy(dtype=float)
        self._real = sorted(pd.unique(cl[unit_start.notna()]))
        self.n_units = len(ids)

    def starts(self, placebo_treated: pd.Series) -> np.ndarray:
        """Placebo start per unit (``unit_start`` order, NaN = never treated)."""
        placebo = sorted(placebo_treated.index[placebo_treated.notna()])
        if len(self._real) != len(placebo):
            raise ValueError(
                f"placebo assignment has {len(placebo)} treated clusters, the actual one "
                f"{len(self._real)}: a permutation keeps the number of treated clusters"
            )
        out = np.full(self.n_units, np.nan)
        for p_cl, r_cl in zip(placebo, self._real, strict=True):
            r_units, p_units = self._members[r_cl], self._members[p_cl]
            n_r, n_p = len(r_units), len(p_units)
            rank = np.floor((np.arange(n_p) + 0.5) * n_r / n_p).astype(int)
            out[p_units] = self._starts[r_units[np.minimum(rank, n_r - 1)]]
        return out
