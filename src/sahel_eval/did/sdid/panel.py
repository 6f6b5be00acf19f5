"""Long panel → balanced block matrix for synthetic DiD, with the design checks.

Synthetic DiD needs a block design: one start date shared by every treated unit,
treatment absorbing (DESIGN §6: a programme's end does not switch treatment off), and
every unit observed in every period. The rule for missing cells: a unit with any
missing cell (no row, a missing outcome or a missing treatment value) in the window —
all periods present in the data — is dropped, counted and logged; nothing is filled.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)
_SHOW = 5


@dataclass(frozen=True)
class Block:
    """A balanced block: outcome matrix with controls first and pre-periods first.

    Parameters
    ----------
    y
        N × T outcomes; rows ``units``, columns ``times``.
    units
        Row labels: the ``n0`` controls (sorted), then the treated units (sorted).
    times
        Column labels, sorted; the first ``t0`` are before the start.
    n0, t0
        Number of controls and of pre-periods.
    dropped
        Units dropped because of missing cells.
    n_missing_cells
        Missing cells among the dropped units.
    """

    y: np.ndarray
    units: pd.Index
    times: pd.Index
    n0: int
    t0: int
    dropped: list[Any] = field(default_factory=list)
    n_missing_cells: int = 0

    @property
    def n1(self) -> int:
        """Number of treated units."""
        return self.y.shape[0] - self.n0

    @property
    def t1(self) -> int:
        """Number of post-periods (from the start on)."""
        return self.y.shape[1] - self.t0

    @property
    def start(self) -> Any:
        """First treated period."""
        return self.times[self.t0]


def _examples(labels: Sequence[Any]) -> str:
    shown = ", ".join(str(v) for v in list(labels)[:_SHOW])
    more = len(labels) - _SHOW
    return shown + (f" and {more} more" if more > 0 else "")


def _treatment(values: pd.Series, treat: str) -> pd.Series:
    """Treatment as floats 0/1 (NaN kept); anything else is an error."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    num = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & ~num.isin([0, 1])
    if bad.any():
        raise ValueError(
            f"synthdid: treatment column {treat!r} must be 0/1; found "
            f"{_examples(pd.unique(values[bad]))}"
        )
    return num.astype(float)


def make_block(df: pd.DataFrame, outcome: str, unit: str, time: str, treat: str) -> Block:
    """Check the design and build the balanced block.

    Parameters
    ----------
    df
        Long panel, one row per unit and period.
    outcome, unit, time, treat
        Column names; ``treat`` is 1 from the start on for treated units, 0 otherwise.

    Returns
    -------
    Block
        The balanced block (incomplete units dropped, see the module docstring).

    Raises
    ------
    ValueError
        Missing columns, duplicate unit-periods, a non-0/1 treatment, treatment that
        switches off, staggered adoption, no treated or no control unit, fewer than two
        pre-periods.
    """
    missing = [c for c in (outcome, unit, time, treat) if c not in df.columns]
    if missing:
        raise ValueError(f"synthdid: column(s) {missing} not in the data")
    data = df[[unit, time, outcome, treat]]
    if data[[unit, time]].isna().any().any():
        raise ValueError(f"synthdid: rows with a missing {unit!r} or {time!r}")
    dup = data.duplicated([unit, time], keep=False)
    if dup.any():
        keys = data.loc[dup, [unit, time]].drop_duplicates().itertuples(index=False)
        raise ValueError(
            f"synthdid: {int(dup.sum())} rows share a ({unit}, {time}) pair, e.g. "
            f"{_examples([tuple(k) for k in keys])}; one row per unit and period"
        )
    if not pd.api.types.is_numeric_dtype(data[outcome]):
        raise ValueError(f"synthdid: outcome column {outcome!r} is not numeric")
    data = data.assign(**{treat: _treatment(data[treat], treat)})
    y = data.pivot(index=unit, columns=time, values=outcome).sort_index().sort_index(axis=1)
    w = data.pivot(index=unit, columns=time, values=treat).reindex_like(y)

    on_before = w.cummax(axis=1).gt(w) & w.notna()
    off = on_before.any(axis=1)
    if off.any():
        raise ValueError(
            "synthdid: treatment switches off (1 then 0) for unit(s) "
            f"{_examples(list(w.index[off]))}; treatment must be absorbing — a programme's "
            "end does not switch treatment off (DESIGN §6)"
        )
    incomplete = (y.isna() | w.isna()).any(axis=1)
    dropped = list(y.index[incomplete])
    n_missing = int((y.isna() | w.isna()).loc[incomplete].to_numpy().sum())
    if dropped:
        log.warning(
            "synthdid: dropped %d of %d units with missing cells (%d cells) in %s–%s: %s",
            len(dropped),
            len(y.index),
            n_missing,
            y.columns[0],
            y.columns[-1],
            _examples(dropped),
        )
    y, w = y.loc[~incomplete], w.loc[~incomplete]
    treated = w.eq(1).any(axis=1)
    if not treated.any():
        raise ValueError("synthdid: no treated unit with complete data (treat is never 1)")
    if treated.all():
        raise ValueError("synthdid: no control unit with complete data (every unit is treated)")
    starts = w.loc[treated].eq(1).idxmax(axis=1)
    if starts.nunique() > 1:
        first = [f"{k}: {v} unit(s)" for k, v in starts.groupby(starts).size().items()]
        raise ValueError(
            "synthdid: staggered adoption — treated units start at different periods "
            f"({_examples(first)}); synthdid needs one start date (block "
            "design); use att_gt or the imputation estimator for staggered roll-outs"
        )
    t0 = int(y.columns.get_loc(starts.iloc[0]))
    if t0 < 2:
        raise ValueError(
            f"synthdid: {t0} period(s) before the start {starts.iloc[0]}; need at least 2"
        )
    order = list(y.index[~treated]) + list(y.index[treated])
    y = y.loc[order]
    return Block(
        y=y.to_numpy(dtype=float),
        units=y.index,
        times=y.columns,
        n0=int((~treated).sum()),
        t0=t0,
        dropped=dropped,
        n_missing_cells=n_missing,
    )
