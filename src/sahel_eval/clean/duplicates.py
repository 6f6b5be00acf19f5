"""Duplicate data values: exact re-exports and conflicting values for one cell.

A DHIS2 cell is (org unit, period, data element, category option combo, attribute
option combo). Several rows for one cell are

* **exact duplicates** when they hold the same value (a report exported twice): one
  is kept, the others are dropped and counted;
* **conflicting duplicates** when the values differ (a report corrected later): the
  row with the latest ``lastupdated`` wins. When the latest timestamp is shared by
  rows with different values (nothing says which is right) the row that comes last
  in the export wins — the value DHIS2 itself would hold after importing the file,
  which applies rows in file order — and the resolution is marked ``tie_file_order``
  so a reviewer can look at it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CELL", "Deduplicated", "resolve_duplicates"]

CELL = ("orgunit_uid", "period", "dataelement", "categoryoptioncombo", "attributeoptioncombo")
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class Deduplicated:
    """Result of :func:`resolve_duplicates`.

    Attributes
    ----------
    values
        One row per cell, input columns plus ``duplicate_resolved`` (bool: the cell
        had conflicting values).
    exact
        Per org unit and period, rows dropped as exact re-exports: ``orgunit_uid,
        period, n_rows_dropped``.
    conflicts
        One row per conflicting cell: the cell key, ``n_rows``, ``values`` and
        ``lastupdated`` (all rows, oldest first, ``" | "``-separated),
        ``chosen_value``, ``chosen_lastupdated``, ``rule`` (``latest`` or
        ``tie_file_order``).
    """

    values: pd.DataFrame
    exact: pd.DataFrame
    conflicts: pd.DataFrame


def resolve_duplicates(datavalues: pd.DataFrame) -> Deduplicated:
    """Drop exact re-exports and resolve conflicting values by the latest update.

    Parameters
    ----------
    datavalues
        Data values with matched org units: the :data:`CELL` columns, ``value``
        (float) and ``lastupdated`` (datetime). Row order is the export's order.

    Returns
    -------
    Deduplicated
        The deduplicated values and the two DQ tables.
    """
    key = list(CELL)
    frame = datavalues.reset_index(drop=True)
    frame["_row"] = np.arange(len(frame))
    # One integer per cell (and per cell × value): grouping 1.4 M rows on five text
    # columns is what made this slow. Missing attribute option combos group together.
    cell = _codes([frame[k] for k in key])
    cell_value = _codes([pd.Series(cell), frame["value"].astype("float64").fillna(-1.0)])

    # Exact duplicates: same cell, same value (timestamps may differ: re-exports
    # restamp). The latest copy is kept, so conflict resolution sees one row per value.
    order = np.lexsort((frame["_row"].to_numpy(), frame["lastupdated"].to_numpy()))
    dropped = pd.Series(cell_value[order]).duplicated(keep="last").to_numpy()
    drop_pos = np.sort(order[dropped])
    exact = (
        frame.loc[drop_pos, ["orgunit_uid", "period"]]
        .groupby(["orgunit_uid", "period"], sort=True)
        .size()
        .rename("n_rows_dropped")
        .reset_index()
    )
    kept = np.ones(len(frame), dtype=bool)
    kept[drop_pos] = False
    frame = frame.loc[kept].reset_index(drop=True)
    cell = cell[kept]

    # Conflicts: cells still holding more than one row.
    counts = np.bincount(cell)
    multi = counts[cell] > 1
    conflicts = _conflicts(frame.loc[multi], key)

    order = np.lexsort((frame["_row"].to_numpy(), frame["lastupdated"].to_numpy()))
    last = ~pd.Series(cell[order]).duplicated(keep="last").to_numpy()
    keep_pos = np.sort(order[last])
    out = frame.loc[keep_pos].copy()
    out["duplicate_resolved"] = multi[keep_pos]
    out = out.drop(columns="_row").reset_index(drop=True)
    return Deduplicated(out, exact.reset_index(drop=True), conflicts)


def _codes(columns: list[pd.Series]) -> np.ndarray:
    """Dense int64 id of each row's combination of values (NaN is a value)."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        c, uniques = pd.factorize(col, use_na_sentinel=False)
        code = code * (len(uniques) + 1) + c
        code = pd.factorize(code)[0].astype(np.int64)  # keep the ids small
    return code


def _conflicts(rows: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    columns = [
        *key,
        "n_rows",
        "values",
        "lastupdated",
        "chosen_value",
        "chosen_lastupdated",
        "rule",
    ]
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    rows = rows.sort_values([*key, "lastupdated", "_row"], kind="mergesort").copy()
    rows["_ts"] = rows["lastupdated"].dt.strftime(_TS_FORMAT)
    rows["_val"] = rows["value"].map(_fmt)
    g = rows.groupby(key, sort=True, dropna=False)
    last = g.tail(1).set_index(key)
    table = pd.DataFrame(
        {
            "n_rows": g.size(),
            "values": g["_val"].agg(" | ".join),
            "lastupdated": g["_ts"].agg(" | ".join),
        }
    )
    table["chosen_value"] = last["value"]
    table["chosen_lastupdated"] = last["_ts"]
    rows["_latest"] = rows["lastupdated"].eq(g["lastupdated"].transform("max"))
    tie = rows.groupby(key, sort=True, dropna=False)["_latest"].sum() > 1
    table["rule"] = np.where(tie.reindex(table.index).to_numpy(), "tie_file_order", "latest")
    return table.reset_index()[columns]


def _fmt(value: float) -> str:
    if pd.isna(value):
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
