"""Callaway–Sant'Anna data preparation: the long frame of ``att_gt`` as arrays.

Rows with a missing value are dropped; panels become (units × periods) arrays with NaN
for unobserved unit-periods (balanced, or unbalanced handled pairwise), unbalanced
panels handled as R ``did``'s ``allow_unbalanced_panel`` and repeated cross-sections
keep one entry per row. Cohorts first treated after the sample become never treated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.results import WarningCode


@dataclass
class _Data:
    """Arrays for estimation; unit-level except the ``rc_*`` row-level arrays."""

    mode: str  # "panel" or "rc"
    times: np.ndarray  # sorted period values
    unit_ids: np.ndarray
    unit_group: np.ndarray  # cohort per unit (0 = never)
    unit_weight: np.ndarray  # normalised to mean one
    cluster_codes: np.ndarray | None
    n_clusters: int | None
    n_rows: int
    Y: np.ndarray | None = None  # panel: (n_units, T)
    X: np.ndarray | None = None  # panel: (n_units, T, k)
    rc_y: np.ndarray | None = None
    rc_X: np.ndarray | None = None
    rc_w: np.ndarray | None = None
    rc_t: np.ndarray | None = None  # period index per row
    rc_unit: np.ndarray | None = None  # unit code per row
    warnings: list[WarningCode] = field(default_factory=list)


def _prepare(
    df: pd.DataFrame,
    outcomes: Sequence[str],
    unit: str | None,
    time: str,
    group: str,
    covariates: Sequence[str],
    panel: bool,
    weights: str | None,
    cluster: str | None,
    unbalanced: str = "repeated_cross_section",
) -> tuple[list[_Data], int]:
    """The arrays of each of ``outcomes``, and the number of rows dropped.

    Several outcomes must be missing on the same rows (an outcome and the exposures of
    the randomisation inference): the rows are kept, coded and checked once, only the
    outcome arrays differ."""
    needed = [*outcomes, time, group, *covariates]
    if unit is not None:
        needed.append(unit)
    elif panel:
        raise ValueError("att_gt: panel=True needs `unit` (the unit id column)")
    for c in (weights, cluster):
        if c is not None:
            needed.append(c)
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise ValueError(
            f"att_gt: columns {missing} are not in the data (columns: {list(df.columns)})"
        )
    cols = list(dict.fromkeys(needed))
    sub = df.loc[:, cols]
    if len(outcomes) > 1:
        missing_y = sub[list(outcomes)].isna().to_numpy()
        if (missing_y != missing_y[:, :1]).any():
            raise ValueError(f"att_gt: outcomes {list(outcomes)} are not missing on the same rows")
    keep = sub.notna().all(axis=1).to_numpy()
    n_dropped = int((~keep).sum())
    if not keep.any():
        raise ValueError("att_gt: no rows left after dropping rows with missing values")

    # Columns as arrays of the kept rows (filtering the frame itself copies its strings).
    def column(c: str) -> np.ndarray:
        return sub[c].to_numpy(dtype=float)[keep]

    ys = [column(y) for y in outcomes]
    tvals = column(time)
    gvals = column(group)
    n_kept = len(tvals)
    w = np.ones(n_kept) if weights is None else column(weights)
    if np.any(w < 0) or not np.any(w > 0):
        raise ValueError(f"att_gt: weights column {weights!r} has negative or all-zero values")
    X = np.column_stack([np.ones(n_kept)] + [column(c) for c in covariates])
    # np.unique(return_inverse=True) sorts every row; the periods are few.
    times = np.sort(pd.unique(tvals))
    t_idx = np.searchsorted(times, tvals)
    warns: list[WarningCode] = []

    # R did recodes cohorts first treated after the sample as never treated.
    late = gvals > times[-1]
    if late.any():
        gvals = np.where(late, 0.0, gvals)
        warns.append(WarningCode("treated_after_sample", {"n_rows": int(late.sum())}))

    if panel:
        ucodes, uids = _factorize_kept(sub[unit], keep)
        n_units = len(uids)
        key = ucodes * len(times) + t_idx
        cell_count = np.bincount(key, minlength=n_units * len(times))
        if cell_count.max() > 1:
            raise ValueError(
                f"att_gt: some ({unit}, {time}) pairs appear more than once; a panel needs "
                "one row per unit and period (pass panel=False for repeated cross-sections)"
            )
        for name, v in (("group", gvals), ("weights", w)):
            lo = np.full(n_units, np.inf)
            hi = np.full(n_units, -np.inf)
            np.minimum.at(lo, ucodes, v)
            np.maximum.at(hi, ucodes, v)
            if np.any(lo != hi):
                bad = uids[np.flatnonzero(lo != hi)[:5]]
                raise ValueError(
                    f"att_gt: {name} varies within unit for units {list(bad)}; "
                    f"{'the cohort' if name == 'group' else 'sampling weights'} must be "
                    "constant within unit in a panel"
                )
        unit_group = np.zeros(n_units)
        unit_group[ucodes] = gvals
        unit_w = np.zeros(n_units)
        unit_w[ucodes] = w
        row_cluster = None if cluster is None else _factorize_kept(sub[cluster], keep)
        cluster_codes, n_clusters = _unit_clusters(row_cluster, ucodes, n_units, uids, cluster)
        balanced = bool(cell_count.min() == 1)
        base = dict(
            times=times,
            unit_ids=np.asarray(uids),
            unit_group=unit_group,
            unit_weight=unit_w / unit_w.mean(),
            cluster_codes=cluster_codes,
            n_clusters=n_clusters,
            n_rows=n_kept,
        )
        if balanced or unbalanced == "pairwise":
            # Unobserved unit-periods stay NaN: a pairwise 2×2 keeps the units observed
            # in both of its periods (on a balanced panel that is every unit).
            Xw = np.full((n_units, len(times), X.shape[1]), np.nan)
            Xw[ucodes, t_idx] = X
            if not balanced:
                warns.append(_unbalanced_warning(ucodes, n_units, len(times), unbalanced))
            out = []
            for y in ys:
                Y = np.full((n_units, len(times)), np.nan)
                Y[ucodes, t_idx] = y
                out.append(_Data(mode="panel", Y=Y, X=Xw, warnings=list(warns), **base))
            return out, n_dropped
        # Unbalanced: as R did's allow_unbalanced_panel, estimate each 2×2 on the rows
        # as repeated cross-sections, then sum influence functions within unit.
        warns.append(_unbalanced_warning(ucodes, n_units, len(times), unbalanced))
        rc_w = w / w.mean()
        rc = dict(rc_X=X, rc_w=rc_w, rc_t=t_idx, rc_unit=ucodes)
        return [_Data(mode="rc", rc_y=y, warnings=list(warns), **rc, **base) for y in ys], n_dropped

    # Repeated cross-sections: every row is its own unit (R did's .rowid).
    n = n_kept
    codes = np.arange(n)
    row_cluster = None if cluster is None else _factorize_kept(sub[cluster], keep)
    cluster_codes, n_clusters = _unit_clusters(row_cluster, codes, n, codes, cluster)
    wn = w / w.mean()
    unit_ids = sub.index.to_numpy()[keep]
    return [
        _Data(
            mode="rc",
            times=times,
            unit_ids=unit_ids,
            unit_group=gvals,
            unit_weight=wn,
            cluster_codes=cluster_codes,
            n_clusters=n_clusters,
            n_rows=n,
            rc_y=y,
            rc_X=X,
            rc_w=wn,
            rc_t=t_idx,
            rc_unit=codes,
            warnings=list(warns),
        )
        for y in ys
    ], n_dropped


def _unbalanced_warning(
    ucodes: np.ndarray, n_units: int, n_times: int, unbalanced: str
) -> WarningCode:
    counts = np.bincount(ucodes, minlength=n_units)
    return WarningCode(
        "unbalanced_panel",
        {"n_units_incomplete": int((counts < n_times).sum()), "handling": unbalanced},
    )


def _factorize_kept(values: pd.Series, keep: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values[keep], sort=True)``: codes of the kept rows and their sorted
    labels, from one factorisation of the whole column (no filtered copy of it)."""
    codes, labels = pd.factorize(values, sort=True)
    codes = codes[keep].astype(np.int64)
    present = np.zeros(len(labels), dtype=bool)
    present[codes] = True
    return (np.cumsum(present) - 1)[codes], labels[present]


def _unit_clusters(
    row_cluster: tuple[np.ndarray, pd.Index] | None,
    ucodes: np.ndarray,
    n_units: int,
    uids: Any,
    cluster: str | None,
) -> tuple[np.ndarray | None, int | None]:
    if row_cluster is None:
        return None, None
    ccodes, labels = row_cluster
    unit_c = np.full(n_units, -1, dtype=np.int64)
    unit_c[ucodes] = ccodes
    if np.any(unit_c[ucodes] != ccodes):
        bad = np.unique(ucodes[unit_c[ucodes] != ccodes])[:5]
        raise ValueError(
            f"att_gt: cluster column {cluster!r} varies within unit for units "
            f"{list(np.asarray(uids)[bad])}; clusters must contain whole units"
        )
    return unit_c, len(labels)
