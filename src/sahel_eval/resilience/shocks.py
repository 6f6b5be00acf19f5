"""Shock table: national shocks from config, local shocks from security events (DESIGN §7).

Output columns (one row per shock, :data:`SHOCK_COLUMNS`):

- ``shock_id`` (str): the config key for national shocks; ``local-<district>-<YYYYMM>``
  for local ones (``-2``, ``-3`` … appended if a district had two shocks starting in
  one month, possible only with ``gap_days`` < 31).
- ``kind``: ``"national"`` or ``"local"``.
- ``district``: None for national shocks.
- ``onset``: the onset month ``m0`` as a month-start ``Timestamp`` (datetime64).
- ``last_event``: date of the shock's last event (NaT for national shocks).
- ``n_events``, ``fatalities``: kept events and their fatalities (``<NA>`` for
  national shocks), nullable ``Int64``.

Chaining rule for local shocks: events with ``fatalities >= min_fatalities`` are kept;
within a district, sorted by date, a kept event starts a new shock unless it falls
*strictly less than* ``gap_days`` days after the previous kept event of that district
(DESIGN: "less than"), in which case it extends the current shock. So with the
default 90: 89 days chains, 90 and 91 days start a new shock. The gap runs from the
previous event, not from the shock's first event, so a shock can last longer than
``gap_days``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_NATIONAL_SHOCKS",
    "SHOCK_COLUMNS",
    "local_shocks",
    "national_shocks",
    "shock_table",
    "shocks_from_config",
]

SHOCK_COLUMNS: tuple[str, ...] = (
    "shock_id",
    "kind",
    "district",
    "onset",
    "last_event",
    "n_events",
    "fatalities",
)

#: National shocks known for certain. Strike periods are not listed here: their
#: months come from the configuration of each analysis (``{"id": ..., "onset": ...}``).
DEFAULT_NATIONAL_SHOCKS: tuple[Mapping[str, str], ...] = (
    {"id": "covid19", "onset": "2020-03", "label": "COVID-19 (first cases, March 2020)"},
)

EVENT_COLUMNS = ("event_date", "district", "fatalities")


def _month_start(value: object) -> pd.Timestamp:
    return pd.Timestamp(value).to_period("M").to_timestamp()


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "shock_id": pd.Series(dtype=object),
            "kind": pd.Series(dtype=object),
            "district": pd.Series(dtype=object),
            "onset": pd.Series(dtype="datetime64[ns]"),
            "last_event": pd.Series(dtype="datetime64[ns]"),
            "n_events": pd.Series(dtype="Int64"),
            "fatalities": pd.Series(dtype="Int64"),
        }
    )


def national_shocks(config: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """Table of national shocks from config entries.

    Parameters
    ----------
    config : iterable of mapping
        Each entry has ``id`` (unique, str) and ``onset`` (anything
        ``pandas.Timestamp`` parses: ``"2020-03"``, ``"2020-03-15"``); other keys
        (``label``, ``end``) are ignored here — the window is H months from onset.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SHOCK_COLUMNS`, kind ``"national"``, ``district`` None.
    """
    rows = []
    for k, entry in enumerate(config):
        missing = [key for key in ("id", "onset") if key not in entry]
        if missing:
            raise ValueError(f"national shock #{k} in config lacks key(s) {missing}: {entry}")
        try:
            onset = _month_start(entry["onset"])
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"national shock {entry['id']!r}: onset {entry['onset']!r} is not a date "
                "(use 'YYYY-MM')"
            ) from err
        rows.append({"shock_id": str(entry["id"]), "onset": onset})
    out = _empty()
    if not rows:
        return out
    ids = [r["shock_id"] for r in rows]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"national shock ids must be unique; repeated: {dup}")
    frame = pd.DataFrame(rows)
    return pd.DataFrame(
        {
            "shock_id": frame["shock_id"].astype(object),
            "kind": "national",
            "district": pd.Series([None] * len(frame), dtype=object),
            "onset": pd.to_datetime(frame["onset"]).astype("datetime64[ns]"),
            "last_event": pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]"),
            "n_events": pd.array([pd.NA] * len(frame), dtype="Int64"),
            "fatalities": pd.array([pd.NA] * len(frame), dtype="Int64"),
        }
    )


def local_shocks(events: pd.DataFrame, *, min_fatalities: int, gap_days: int = 90) -> pd.DataFrame:
    """Chain security events into local shocks per district.

    Parameters
    ----------
    events : pandas.DataFrame
        Columns ``event_date`` (date or parseable string), ``district`` and
        ``fatalities`` (integer >= 0); other columns are ignored.
    min_fatalities : int
        Keep events with ``fatalities >= min_fatalities``.
    gap_days : int, default 90
        An event *strictly less than* ``gap_days`` days after the previous kept event
        of its district extends that shock.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SHOCK_COLUMNS`, kind ``"local"``, sorted by district then
        onset.

    Raises
    ------
    ValueError
        Missing columns, or rows with a missing / unparseable date, a missing
        district, or missing / negative fatalities (row labels named).
    """
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(f"events table lacks column(s) {missing}; it needs {list(EVENT_COLUMNS)}")
    if gap_days < 0:
        raise ValueError(f"gap_days must be >= 0, got {gap_days}")
    dates = pd.to_datetime(events["event_date"], errors="coerce")
    fat = pd.to_numeric(events["fatalities"], errors="coerce")
    checks = {
        "event_date missing or not a date": dates.isna(),
        "district missing": events["district"].isna(),
        "fatalities missing, not a number or negative": fat.isna() | (fat < 0),
    }
    for what, bad in checks.items():
        if bad.any():
            rows = events.index[bad.to_numpy()][:5].tolist()
            raise ValueError(f"events table: {what} in rows (first 5) {rows}")

    kept = pd.DataFrame(
        {"district": events["district"].astype(str), "date": dates.dt.normalize(), "fat": fat}
    )
    kept = kept[kept["fat"] >= min_fatalities]
    if kept.empty:
        return _empty()
    kept = kept.sort_values(["district", "date"], kind="stable").reset_index(drop=True)
    gap = kept.groupby("district", sort=False)["date"].diff().dt.days
    # NaN gap = first event of a district: always a new shock.
    new_shock = gap.isna() | (gap >= gap_days)
    kept["chain"] = np.cumsum(new_shock.to_numpy())
    shocks = kept.groupby("chain", sort=True).agg(
        district=("district", "first"),
        first_event=("date", "min"),
        last_event=("date", "max"),
        n_events=("date", "size"),
        fatalities=("fat", "sum"),
    )
    onset = shocks["first_event"].dt.to_period("M").dt.to_timestamp()
    base = "local-" + shocks["district"] + "-" + onset.dt.strftime("%Y%m")
    rank = base.groupby(base).cumcount()
    shock_id = base.where(rank == 0, base + "-" + (rank + 1).astype(str))
    return pd.DataFrame(
        {
            "shock_id": shock_id.astype(object).to_numpy(),
            "kind": "local",
            "district": shocks["district"].astype(object).to_numpy(),
            "onset": onset.astype("datetime64[ns]").to_numpy(),
            "last_event": shocks["last_event"].astype("datetime64[ns]").to_numpy(),
            "n_events": pd.array(shocks["n_events"].to_numpy(), dtype="Int64"),
            "fatalities": pd.array(np.rint(shocks["fatalities"].to_numpy()), dtype="Int64"),
        }
    )


def shock_table(
    national: Iterable[Mapping[str, object]] = DEFAULT_NATIONAL_SHOCKS,
    events: pd.DataFrame | None = None,
    *,
    min_fatalities: int = 1,
    gap_days: int = 90,
) -> pd.DataFrame:
    """All shocks: national ones first (config order), then local ones.

    Parameters
    ----------
    national : iterable of mapping, default :data:`DEFAULT_NATIONAL_SHOCKS`
        See :func:`national_shocks`.
    events : pandas.DataFrame, optional
        See :func:`local_shocks`; None → no local shocks.
    min_fatalities, gap_days
        See :func:`local_shocks`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SHOCK_COLUMNS`, RangeIndex; ``shock_id`` unique.
    """
    parts = [national_shocks(national)]
    if events is not None:
        parts.append(local_shocks(events, min_fatalities=min_fatalities, gap_days=gap_days))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty()
    table = pd.concat(parts, ignore_index=True)
    table["shock_id"] = table["shock_id"].astype("str")
    table["kind"] = table["kind"].astype("str")
    dup = table["shock_id"][table["shock_id"].duplicated()].tolist()
    if dup:
        raise ValueError(f"shock ids collide between national and local shocks: {dup}")
    return table


def shocks_from_config(config: Mapping[str, Any], events: pd.DataFrame | None) -> pd.DataFrame:
    """The shock table of the config: national shocks plus local shocks from events.

    Parameters
    ----------
    config
        Validated config: ``shocks.national`` (``name``, ``start``) and
        ``shocks.local`` (``min_fatalities``, ``gap_days``, ``event_types``).
    events
        Events table (``results/clean/events.parquet``): ``event_date``, ``admin2``
        (the district: cercle or Bamako commune), ``fatalities``, ``event_type``; or
        None for national shocks only.

    Returns
    -------
    pandas.DataFrame
        :func:`~sahel_eval.resilience.shocks.shock_table`; national shocks keep the
        config ``name`` as ``shock_id`` and start in the month of ``start``.
    """
    shocks = config["shocks"]
    national = [{"id": s["name"], "onset": s["start"]} for s in shocks["national"]]
    local = shocks["local"]
    ev = None
    if events is not None:
        if "district" not in events.columns:
            if "admin2" not in events.columns:
                raise ValueError("events table lacks both 'district' and 'admin2' columns")
            events = events.rename(columns={"admin2": "district"})
        types = list(local["event_types"])
        ev = events[events["event_type"].isin(types)] if types else events
    return shock_table(
        national,
        ev,
        min_fatalities=int(local["min_fatalities"]),
        gap_days=int(local["gap_days"]),
    )
