"""Monthly and quarterly data elements in one DHIS2 export (DESIGN §4).

Some data elements are reported quarterly. They are kept as the export gives them
(``period`` ``YYYYQn``, ``period_type`` ``quarter``), never split into invented months,
and every monthly analysis configured on one is refused by name: an indicator must have
one period type, and its uses (DiD outcomes, quality-of-care ratios, resilience
services, seasonal outlier indicators) must be monthly. ``make check`` runs every check
here; the ingest rule the ones that need only its own config (``dhis2``), the consumers
their own use.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sahel_eval.errors import Problem, problem
from sahel_eval.ingest.common import raise_problems

__all__ = [
    "check_monthly_uses",
    "check_one_period_type",
    "monthly_uses",
    "period_type",
    "quarterly_rows",
]


def period_type(periods: pd.Series) -> pd.Series:
    """``quarter`` for canonical ``YYYYQn`` periods, ``month`` otherwise (``YYYYMM``,
    checked as such by the caller)."""
    quarter = periods.astype("str").str.fullmatch(r"\d{4}Q[1-4]").fillna(False)
    return quarter.map({True: "quarter", False: "month"}).astype("str")


def _indicator_rows(config: Mapping[str, Any], frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Indicator -> boolean mask of the export rows that feed it."""
    pairs = pd.Series(
        list(zip(frame["dataelement"], frame["categoryoptioncombo"], strict=True)),
        index=frame.index,
    )
    return {
        name: pairs.isin([(s["data_element"], s["category_option_combo"]) for s in sources])
        for name, sources in config["dhis2"]["indicators"].items()
    }


def quarterly_rows(config: Mapping[str, Any], frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Quarterly indicator -> mask of its rows (an indicator with any quarterly row)."""
    quarter = period_type(frame["period"]) == "quarter"
    return {
        name: rows & quarter
        for name, rows in _indicator_rows(config, frame).items()
        if (rows & quarter).any()
    }


def _quarterly_problem(frame: pd.DataFrame, rows: pd.Series, rule: str, detail: str) -> Problem:
    """The problem of an indicator's quarterly ``rows``, shown as element and period."""
    # The org unit is an identifier: masked by problem(); element and period are shown.
    shown = (frame.loc[rows, "dataelement"] + " " + frame.loc[rows, "period"]).tolist()
    positions = frame.index[rows.to_numpy()].tolist()
    return problem("period", rule, detail, positions, shown, row_offset=2)


def check_one_period_type(config: Mapping[str, Any], frame: pd.DataFrame, src: str | Path) -> None:
    """Every configured indicator is monthly throughout or quarterly throughout.

    An indicator summing a monthly and a quarterly source, or a data element exported
    by month for some periods and by quarter for others, has no single series.
    """
    problems: list[Problem | None] = []
    for name, rows in quarterly_rows(config, frame).items():
        monthly = _indicator_rows(config, frame)[name] & (period_type(frame["period"]) == "month")
        if monthly.any():
            problems.append(
                _quarterly_problem(
                    frame,
                    rows,
                    "one_period_type",
                    f"indicator '{name}' has monthly and quarterly rows (quarterly shown)",
                )
            )
    raise_problems(
        src,
        problems,
        hint="export each data element with one period type (DHIS2: its data set's "
        "period type), or map the monthly and quarterly sources to separate indicators "
        "under dhis2.indicators.",
    )


def monthly_uses(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """Indicator -> the config keys that analyse it month by month, each listed once.

    An analysis is one entry naming the outcomes that read the indicator, directly or
    as a part of a quality-of-care ratio (``analyses[0].outcomes (mopti_staggered):
    anc1, anc_retention``). Every ratio under ``quality_of_care.ratios`` is a use of
    its two parts: the panels compute each one month by month.
    """
    uses: dict[str, dict[str, list[str]]] = {}

    def use(indicator: str, where: str, outcome: str | None = None) -> None:
        outcomes = uses.setdefault(indicator, {}).setdefault(where, [])
        if outcome is not None and outcome not in outcomes:
            outcomes.append(outcome)

    ratios = config["quality_of_care"]["ratios"]
    for i, spec in enumerate(config["analyses"]):
        if spec["data"] == "facility":
            where = f"analyses[{i}].outcomes ({spec['name']})"
            for outcome in spec["outcomes"]:
                if outcome in ratios:  # a ratio reads its two indicators month by month
                    for part in (ratios[outcome]["numerator"], ratios[outcome]["denominator"]):
                        use(part, where, outcome)
                    continue
                use(outcome.removesuffix("_rate").removesuffix("_per_1000"), where, outcome)
    for name, spec in ratios.items():
        for part in (spec["numerator"], spec["denominator"]):
            use(part, f"quality_of_care.ratios.{name}")
    for name in config["resilience"]["essential_services"]:
        use(name, "resilience.essential_services")
    for name in config["dq"]["outliers"]["seasonal_indicators"]:
        use(name, "dq.outliers.seasonal_indicators")
    return {
        indicator: [
            f"{where}: {', '.join(outs)}" if outs else where for where, outs in found.items()
        ]
        for indicator, found in uses.items()
    }


def check_monthly_uses(
    config: Mapping[str, Any],
    uses: Mapping[str, list[str]],
    frame: pd.DataFrame,
    src: str | Path,
    *,
    rule: str,
) -> None:
    """Refuse every monthly analysis configured on a quarterly indicator.

    Parameters
    ----------
    config
        Holds ``dhis2.indicators``.
    uses
        Indicator -> config keys analysing it by month: :func:`monthly_uses` for
        ``make check``, the keys a rule reads for that rule.
    frame
        Data values with canonical periods (``YYYYMM`` or ``YYYYQn``).
    src
        The DHIS2 export, named in the message.
    rule
        The step that refuses (``check``, a Snakemake rule), named in the message
        after the config keys.
    """
    problems: list[Problem | None] = []
    for name, rows in quarterly_rows(config, frame).items():
        if name in uses:
            problems.append(
                _quarterly_problem(
                    frame,
                    rows,
                    "monthly_analysis",
                    f"indicator '{name}' is quarterly in the export, but the config "
                    f"analyses it by month (step: {rule}): " + "; ".join(uses[name]),
                )
            )
    raise_problems(
        src,
        problems,
        hint="a quarter cannot be split into months: remove the quarterly indicator from "
        "the monthly analyses named (it stays in facility_month with period_type "
        "quarter), or export its monthly data element.",
    )
