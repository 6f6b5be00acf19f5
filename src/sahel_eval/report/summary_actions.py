"""What to do, from the results (DESIGN §9's rule table): actions and the support list.

Each rule reads a results table and a threshold of the config schema, and each action
carries its evidence (how many units, which file). The support list names the CSCOMs
that need support: a class not recovered or interrupted after a recent shock (its
window ended within the last ``reporting.actions.support_recent_months`` months of the
data), or reporting continuity below the threshold over the last months.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = [
    "SHOCK_REASONS",
    "SUPPORT_COLUMNS",
    "actions",
    "districts_below_target",
    "dq_rates",
    "rates",
    "recent_shocks",
    "recent_since",
    "support_by_cscom",
    "support_list",
]

#: Columns of ``results/summary/{area}_support.{csv,xlsx}``, in order.
SUPPORT_COLUMNS = (
    "facility",
    "district",
    "reason",
    "services",
    "shock_id",
    "since",
    "continuity",
    "last_reported",
    "closed",
)

#: Reasons of the support list that follow a shock (DESIGN §9, first rule).
SHOCK_REASONS = ("interrupted", "not_recovered")

# Worst first, so the first rows of the brief are the most urgent. A CSCOM the
# facility register says has closed comes last, under its own reason: it cannot be
# supported as an interrupted CSCOM, and counts apart (no support action).
_REASON_ORDER = {"interrupted": 0, "not_recovered": 1, "low_continuity": 2, "closed": 3}

INDICATORS = "results/resilience/{area}_indicators.csv"
STATUS = "results/dq/reporting_status.csv"
COMPLETENESS = "results/dq/completeness_district_month.csv"


def _ym(period: Any) -> str:
    text = str(int(period))
    return f"{text[:4]}-{text[4:6]}"


def _month_index(period: Any) -> int:
    """``YYYYMM`` as a count of months, so that months subtract."""
    text = str(int(period))
    return int(text[:4]) * 12 + int(text[4:6]) - 1


def recent_since(last_period: Any, config: Mapping[str, Any]) -> str:
    """First month (``YYYY-MM``) a shock window may end in to count as recent: the
    last ``reporting.actions.support_recent_months`` months of the data, which end at
    ``last_period`` (``YYYYMM``)."""
    months = int(config["reporting"]["actions"]["support_recent_months"])
    first = _month_index(last_period) - months + 1
    return f"{first // 12:04d}-{first % 12 + 1:02d}"


def recent_shocks(
    indicators: pd.DataFrame, last_period: Any, config: Mapping[str, Any]
) -> pd.Series:
    """Whether each row's shock window ended in :func:`recent_since` or later: older
    shocks call for no support now. A window ends ``resilience.window_months − 1``
    months after the onset."""
    span = int(config["resilience"]["window_months"]) - 1
    ends = indicators["onset"].map(_month_index) + span
    return ends >= _month_index(recent_since(last_period, config).replace("-", ""))


def support_list(
    area: str,
    config: Mapping[str, Any],
    indicators: pd.DataFrame,
    reporting_status: pd.DataFrame,
    facilities: pd.DataFrame,
) -> list[dict[str, Any]]:
    """CSCOMs that need support, worst first: one row per CSCOM and reason.

    ``indicators`` is ``results/resilience/{area}_indicators.csv``; the class kept per
    CSCOM and service is that of its latest shock, and the services of one CSCOM that
    share a class and a shock make one row (``services``, ";"-separated in the files).
    Only shocks that ended recently count (:func:`recent_shocks`, the last month of
    ``reporting_status`` ends the data). ``reporting_status`` gives the last month
    reported and the continuity over ``reporting.actions.continuity_months``.
    """
    districts = set(config["areas"][area]["districts"])
    rule = config["reporting"]["actions"]
    names = dict(zip(facilities["facility_id"], facilities["name"], strict=True))
    status = reporting_status[reporting_status["district"].isin(districts)]
    last = status[status["reported"].astype(bool)].groupby("facility_id")["period"].max()
    periods = sorted(status["period"].unique())[-int(rule["continuity_months"]) :]
    recent = status[status["period"].isin(periods)]
    continuity = recent.groupby("facility_id")["reported"].mean()
    district_of = status.drop_duplicates("facility_id").set_index("facility_id")["district"]
    rows = []
    fresh = recent_shocks(indicators, status["period"].max(), config)
    hit = indicators[indicators["class"].isin(["not_recovered", "interrupted"]) & fresh]
    hit = hit.sort_values(["onset", "shock_id"], kind="mergesort")
    latest = hit.drop_duplicates(["facility_id", "service"], keep="last")
    keys = ["facility_id", "class", "shock_id", "onset"]
    for key, g in latest.groupby(keys, sort=True):
        fid, reason, shock, onset = key
        rows.append(
            {
                "facility_id": fid,
                "reason": reason,
                "services": sorted(g["service"]),
                "shock_id": shock,
                "since": _ym(onset),
            }
        )
    low = continuity[continuity < float(rule["continuity_min"])]
    for fid in low.index:
        rows.append(
            {
                "facility_id": fid,
                "reason": "low_continuity",
                "services": [],
                "shock_id": None,
                "since": None,
            }
        )
    closed_on = _closed(facilities, status["period"].max())
    out = []
    merged: dict[str, dict[str, Any]] = {}
    for r in rows:
        fid = r.pop("facility_id")
        gap = _gap_after(status[status["facility_id"] == fid], r["since"])
        row = {
            "facility": str(names[fid]),
            "district": str(district_of[fid]),
            **r,
            "continuity": float(continuity[fid]) if fid in continuity.index else None,
            "last_reported": _ym(last[fid]) if fid in last.index else None,
            # Months without reports after the shock, and the month reports came
            # back (None: not yet), so "interrupted" is never read as "stopped".
            **gap,
            "closed": None,
        }
        if fid not in closed_on:
            out.append(row)
            continue
        # Closed since (facility register): one row, its own reason, the services and
        # shock that listed it kept for the record.
        if fid not in merged:
            merged[fid] = {
                **row,
                "reason": "closed",
                "services": [],
                "since": closed_on[fid][:7],
                "gap_from": None,
                "gap_to": None,
                "resumed": None,
                "closed": closed_on[fid],
            }
            out.append(merged[fid])
        m = merged[fid]
        m["services"] = sorted(set(m["services"]) | set(row["services"]))
        m["shock_id"] = m["shock_id"] or row["shock_id"]
    out.sort(key=lambda r: (_REASON_ORDER[r["reason"]], r["district"], r["facility"]))
    return out


def _closed(facilities: pd.DataFrame, last_period: Any) -> dict[str, str]:
    """Facility id -> closing date (``YYYY-MM-DD``) of the CSCOMs the facility register
    (``results/clean/facilities.parquet``, column ``closed``) says closed by the last
    month of the data; none when the register has no such column."""
    if "closed" not in facilities.columns:
        return {}
    days = pd.to_datetime(facilities["closed"], errors="coerce")
    end = str(int(last_period))
    return {
        str(fid): day.strftime("%Y-%m-%d")
        for fid, day in zip(facilities["facility_id"], days, strict=True)
        if pd.notna(day) and day.strftime("%Y%m") <= end
    }


def _gap_after(status: pd.DataFrame, since: str | None) -> dict[str, Any]:
    """The first run of months without a report from ``since`` (``YYYY-MM``) on, in one
    CSCOM's rows of ``reporting_status``: ``gap_from``, ``gap_to`` and ``resumed`` (the
    first month reported after it), all ``None`` without such a run."""
    none = {"gap_from": None, "gap_to": None, "resumed": None}
    if since is None:
        return none
    rows = status[status["period"].astype(int) >= int(since.replace("-", ""))]
    rows = rows.sort_values("period")
    missing = ~rows["reported"].astype(bool).to_numpy()
    periods = rows["period"].tolist()
    if not missing.any():
        return none
    start = int(missing.argmax())
    end = start
    while end + 1 < len(periods) and missing[end + 1]:
        end += 1
    return {
        "gap_from": _ym(periods[start]),
        "gap_to": _ym(periods[end]),
        "resumed": _ym(periods[end + 1]) if end + 1 < len(periods) else None,
    }


def support_by_cscom(support: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The support list with one entry per CSCOM (its reasons in list order), the way
    every count of the reports counts it: distinct CSCOMs, worst first."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in support:
        key = (r["district"], r["facility"])
        if key not in out:
            out[key] = {
                "facility": r["facility"],
                "district": r["district"],
                "last_reported": r["last_reported"],
                "reasons": [],
            }
        out[key]["reasons"].append(r)
    return list(out.values())


def dq_rates(
    completeness: pd.DataFrame, districts: set[str], months: int
) -> tuple[pd.DataFrame, str | None]:
    """Completeness and timeliness per district over the last ``months`` months of
    ``results/dq/completeness_district_month.csv``: columns ``expected, reported,
    timely`` summed, indexed by district, and the last month (``None`` when empty)."""
    sub = completeness[completeness["district"].isin(districts)]
    periods = sorted(sub["period"].unique())[-months:]
    sums = (
        sub[sub["period"].isin(periods)]
        .groupby("district")[["expected", "reported", "timely"]]
        .sum()
    )
    return sums, (str(periods[-1]) if periods else None)


def rates(s: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """Completeness (reported ÷ expected) and timeliness (timely ÷ reported) of sums."""
    comp = s["reported"] / s["expected"] if s["expected"] else None
    time = s["timely"] / s["reported"] if s["reported"] else None
    return comp, time


def districts_below_target(
    completeness: pd.DataFrame, districts: set[str], months: int, targets: tuple[float, float]
) -> list[dict[str, Any]]:
    """Districts whose completeness or timeliness of the last ``months`` is below target."""
    sums, _ = dq_rates(completeness, districts, months)
    out = []
    for district, s in sums.iterrows():
        comp, time = rates(s)
        if comp is None or comp < targets[0] or time is None or time < targets[1]:
            out.append({"district": str(district), "completeness": comp, "timeliness": time})
    return out


def _kpi_evidence(kpi: Mapping[str, Any], mutual: str, year: int, code: str) -> dict[str, Any]:
    """A KPI in alarm: its shown value and the edge of the watch band it crossed
    (``side`` below or above; alarm is outside that band), as the summary stores them
    (``kpi.rows[].cells[].shown`` and ``bands.watch``, from the config)."""
    col = next(
        i for i, m in enumerate(kpi["mutuals"]) if (m["mutual"], m["year"]) == (mutual, year)
    )
    row = next(r for r in kpi["rows"] if r["kpi"] == code)
    value, watch = row["cells"][col]["shown"], row["bands"]["watch"]
    low, high = watch["low"], watch["high"]
    # The edge the value crossed: below the watch band's low end, else above its high end.
    below = low is not None and value is not None and value["value"] < low["value"]
    return {
        "kpi": code,
        "value": value,
        "side": "below" if below else "above",
        "edge": low if below else high,
    }


def actions(
    area: str,
    config: Mapping[str, Any],
    support: list[dict[str, Any]],
    completeness_district: pd.DataFrame,
    kpi: Mapping[str, Any],
    summary: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The actions that follow from the results, each with its evidence and source."""
    rule = config["reporting"]["actions"]
    months = int(rule["continuity_months"])
    out: list[dict[str, Any]] = []
    shocked = [r for r in support if r["reason"] in SHOCK_REASONS]
    if shocked:
        out.append(
            {
                "action": "support_cscom",
                "n": len({(r["district"], r["facility"]) for r in shocked}),
                "source": INDICATORS.format(area=area),
            }
        )
    low = [r for r in support if r["reason"] == "low_continuity"]
    if low:
        out.append(
            {
                "action": "support_reporting",
                "n": len({(r["district"], r["facility"]) for r in low}),
                "months": months,
                "threshold": float(rule["continuity_min"]),
                "source": STATUS,
            }
        )
    targets = (float(config["dq"]["completeness_target"]), float(config["dq"]["timeliness_target"]))
    districts = set(config["areas"][area]["districts"])
    dq = districts_below_target(completeness_district, districts, months, targets)
    if dq:
        out.append(
            {
                "action": "dq_visit",
                "n": len(dq),
                "districts": [d["district"] for d in dq],
                "total": len(districts),
                "months": months,
                "completeness": targets[0],
                "timeliness": targets[1],
                "source": COMPLETENESS,
            }
        )
    # One action per mutual in alarm, with each KPI's own remedy.
    by_mutual: dict[tuple[str, int], list[str]] = {}
    for a in kpi["alarms"]:
        by_mutual.setdefault((a["mutual"], a["year"]), []).append(a["kpi"])
    for (mutual, year), kpis in by_mutual.items():
        out.append(
            {
                "action": "kpi_alarm",
                "mutual": mutual,
                "year": year,
                "kpis": kpis,
                "evidence": [_kpi_evidence(kpi, mutual, year, k) for k in kpis],
                "source": "results/sustainability/mutual_kpis.csv",
            }
        )
    # Every verdict that cannot conclude: effects, the persistence of the effect after
    # the funding, and the programme-vs-comparison reading of each shock.
    effects = summary["cards"] + summary["more_effects"] + summary["survey_effects"]
    unclear = [e["outcome"] for e in effects if e["verdict"] == "not_informative"]
    pz = summary.get("persistence")
    persistence = int(bool(pz) and pz["verdict"] == "not_informative")
    shocks = [r["shock_id"] for r in summary.get("shocks", []) if r["comparison"] == "cannot_tell"]
    if unclear or persistence or shocks:
        out.append(
            {
                "action": "evaluate_more",
                "n": len(unclear) + persistence + len(shocks),
                "effects": len(unclear),
                "persistence": persistence,
                "shocks": len(shocks),
                "outcomes": unclear,
                "shock_ids": shocks,
                "source": "results/estimates/",
            }
        )
    return out
