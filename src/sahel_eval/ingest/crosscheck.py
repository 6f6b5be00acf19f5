"""Checks across input files and the config that no single file can make.

Each check takes typed interim tables (as the ingesters return them) and raises one
:class:`InputError` naming the file, the column and the rule. ``make check`` and the
ingest rules call the same functions, so a run that skips ``make check`` fails at
ingest with the same message, before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sahel_eval.errors import InputError, Problem, problem, rows_problem
from sahel_eval.ingest.common import raise_problems


def check_area_districts(config: Mapping[str, Any], facilities: pd.DataFrame) -> None:
    """Every district of every area (``areas``) holds a facility of the master list.

    An area district that matches no facility (a spelling, or a header-only list)
    would give an empty panel. ``make check`` runs it for every area, the panel rule
    for its own area, so adding an area reruns no ingest.
    """
    present = set(facilities["district"].dropna())
    problems = []
    for name, area in config["areas"].items():
        empty = [d for d in area["districts"] if d not in present]
        if empty:
            problems.append(
                Problem(
                    f"areas.{name}.districts",
                    "area_district_has_facilities",
                    "district(s) with no facility in the master facility list: " + ", ".join(empty),
                )
            )
    if problems:
        raise InputError(
            "config",
            problems,
            hint="spell the districts under `areas` in config/config.yaml as in the "
            "facility list's district column, or add their facilities to the list.",
            column_label="key",
        )


def check_spillover_units(config: Mapping[str, Any], facilities: pd.DataFrame) -> None:
    """Every org-unit UID of ``did.spillover_exclude`` is a facility of the master list.

    District names are checked against ``geography`` when the config loads; a UID
    can only be checked here, and one that matches nothing would exclude nothing.
    """
    present = set(facilities["orgunit_uid"].dropna()) | set(facilities["district"].dropna())
    items = list(config["did"]["spillover_exclude"])
    unknown = [i for i, u in enumerate(items) if u not in present]
    if unknown:
        raise InputError(
            "config",
            [
                problem(
                    "did.spillover_exclude",
                    "spillover_unit_known",
                    "not a facility (orgunit_uid) nor a district of the master facility list",
                    [f"did.spillover_exclude[{i}]" for i in unknown],
                    [items[i] for i in unknown],
                    masked=True,
                )
            ],
            hint="list under did.spillover_exclude the orgunit_uid of each comparison "
            "CSCOM, or its district as spelled in the facility list.",
            column_label="key",
        )


def check_facility_subgroups(config: Mapping[str, Any], facilities: pd.DataFrame) -> None:
    """Every facility subgroup (``did.subgroups``, variable ``facility_urban``) has CSCOMs
    in both groups in the area of every analysis it splits
    (:func:`~sahel_eval.config_subgroups.facility_group_problems`)."""
    from sahel_eval.config_subgroups import FACILITY_GROUP_HINT, facility_group_problems

    problems = facility_group_problems(config, facilities)
    if problems:
        raise InputError("config", problems, hint=FACILITY_GROUP_HINT, column_label="key")


def check_rollout_within_data(
    programmes: pd.DataFrame, datavalues: pd.DataFrame, src: str | Path
) -> None:
    """Every roll-out starts after the first month of the facility data, and before
    their last month ends.

    A unit treated from the first month has no month before treatment, so its
    effect cannot be estimated; the data probably start later than the user thinks.
    A unit whose roll-out starts after the data end has no month after treatment: the
    analyses would silently count it as never treated. Months only: quarterly data
    elements (``YYYYQn``) are not analysed by month and do not set the range.
    """
    periods = datavalues["period"].dropna().astype("str")
    periods = periods[periods.str.fullmatch(r"\d{6}")]
    if periods.empty:
        return
    first, last = str(periods.min()), str(periods.max())
    first_month = pd.Timestamp(year=int(first[:4]), month=int(first[4:]), day=1)
    after_last = pd.Timestamp(
        year=int(last[:4]), month=int(last[4:]), day=1
    ) + pd.offsets.MonthBegin(1)
    # A start within the first month still leaves no earlier month.
    early = programmes["start"] < first_month + pd.offsets.MonthBegin(1)
    late = programmes["start"] >= after_last

    def rows(bad: pd.Series, rule: str, detail: str) -> Problem | None:
        if not bad.any():
            return None
        return problem(
            "start",
            rule,
            detail,
            programmes.index[bad.to_numpy()].tolist(),
            programmes.loc[bad, "start"].dt.strftime("%Y-%m-%d").tolist(),
            row_offset=2,
        )

    found = [
        rows(
            early,
            "rollout_after_data_start",
            f"the roll-out starts before the facility data have a month to compare "
            f"with (the data start in {first[:4]}-{first[4:]})",
        ),
        rows(
            late,
            "rollout_before_data_end",
            f"the roll-out starts after the facility data end ({last[:4]}-{last[4:]}): "
            "the unit has no treated month and would count as never treated",
        ),
    ]
    raise_problems(
        src,
        found,
        hint="correct the start date, or export the facility data over the months "
        "before and after every roll-out.",
        row_label="line",
    )


def check_events(config: Mapping[str, Any], events: pd.DataFrame, src: str | Path) -> None:
    """Events name configured districts; configured event types occur.

    An event in a configured region whose district is not under ``geography`` is a
    spelling to fix (it would silently count as no shock); events outside the
    configured regions are allowed (national ACLED exports). If no event falls in a
    configured district, or a type under ``shocks.local.event_types`` never occurs,
    local shocks would silently be empty.
    """
    geography = config["geography"]
    problems: list[Problem | None] = []
    if geography:
        in_region = events["admin1"].isin(list(geography))
        known = pd.Series(
            [
                d in geography.get(r, ())
                for r, d in zip(events["admin1"], events["admin2"], strict=True)
            ],
            index=events.index,
            dtype=bool,
        )
        bad = in_region & ~known
        if bad.any():
            problems.append(
                rows_problem(
                    "admin2",
                    "known_district",
                    "district not under `geography` for its region (admin1)",
                    events,
                    bad,
                )
            )
        elif len(events) and not known.any():
            problems.append(
                Problem(
                    "admin1",
                    "events_in_geography",
                    "no event falls in a region and district under `geography`",
                )
            )
    wanted = config["shocks"]["local"]["event_types"]
    absent = sorted(set(wanted) - set(events["event_type"].dropna()))
    if absent:
        problems.append(
            Problem(
                "event_type",
                "configured_event_type_present",
                "shocks.local.event_types never occur in the file: " + ", ".join(absent),
            )
        )
    raise_problems(
        src,
        problems,
        hint="spell districts and event types as in the config (`geography`, "
        "`shocks.local.event_types`), or correct the config.",
        row_label="line",
    )


def check_period_window(config: Mapping[str, Any], periods: pd.Series, src: str | Path) -> None:
    """``dq.first_period`` and ``dq.last_period``, when set, lie within the data's months.

    A window reaching beyond the export would count the months without data as
    unreported and lower completeness for no reason.
    """
    present = periods.dropna()
    if present.empty:
        return
    first, last = str(present.min()), str(present.max())
    problems: list[Problem | None] = []
    for key in ("first_period", "last_period"):
        wanted = config["dq"][key]
        if wanted is not None and not first <= wanted <= last:
            problems.append(
                Problem(
                    "period",
                    "period_window_in_data",
                    f"dq.{key} {wanted} is outside the data's months ({first} to {last})",
                )
            )
    raise_problems(
        src,
        problems,
        hint="set dq.first_period and dq.last_period in config/config.yaml within the "
        "export's months (or null), or export the missing months.",
    )
