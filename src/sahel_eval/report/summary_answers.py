"""The one-screen answers at the top of ``id="summary"`` (DESIGN §9, issue 20).

One answer per question a programme team asks, each with its certainty as a code the
catalogue puts in words (``summary.answer.certainty.*``):

- ``care``: did use of care change (the headline effects);
- ``shocks``: how the CSCOMs held through the last national crisis (resilience classes)
  and whether programme CSCOMs held differently;
- ``mutuals``: the mutual KPIs in alarm;
- ``data``: whether the data can be trusted (completeness and timeliness).

Every number is a stored display string (:func:`sahel_eval.report.summary.shown`, passed
in as ``show`` so this module does not import the summary stage) with its source;
verdicts are the stages' codes, only counted here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from sahel_eval.report.summary_actions import (
    COMPLETENESS,
    districts_below_target,
    dq_rates,
    rates,
)

__all__ = ["CERTAINTY_OF_COMPARISON", "answers"]

#: Certainty of the programme-vs-others reading of a shock, in the words of the verdicts.
CERTAINTY_OF_COMPARISON = {
    "better": "shown",
    "worse": "shown",
    "no_clear_difference": "not_shown",
    "cannot_tell": "not_informative",
    "not_applicable": "observed",
}

SHOWN = ("increase_shown", "decrease_shown")
Show = Callable[..., Any]


def _care(effects: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Headline effects: which changed (shown, and confirmed after Holm), or none can."""
    if not effects:
        return None
    shown = [e for e in effects if e["verdict"] in SHOWN and e.get("holm_p") is None]
    unclear = all(e["verdict"] == "not_informative" for e in effects)
    ups = {e["verdict"] for e in shown}
    return {
        "certainty": "shown" if shown else ("not_informative" if unclear else "not_shown"),
        "n": len(effects),
        "shown": [e["outcome"] for e in shown],
        "all": len(shown) == len(effects),
        # "increase", "decrease", or "mixed" when shown effects go both ways.
        "direction": ups.pop().removesuffix("_shown") if len(ups) == 1 else "mixed",
    }


def _shocks(
    rows: Sequence[Mapping[str, Any]], area: str, langs: Sequence[str], show: Show
) -> dict[str, Any] | None:
    """The last national (area-wide) crisis: shares held or recovered, and not."""
    wide = [r for r in rows if r.get("district") is None] or list(rows)
    if not wide:
        return None
    r = max(wide, key=lambda x: x["onset"])
    src = f"results/resilience/{area}_aggregates.csv#level=area,shock_id={r['shock_id']}"
    s = r["shares"]
    return {
        "certainty": CERTAINTY_OF_COMPARISON.get(r["comparison"], "not_informative"),
        "shock": {k: r[k] for k in ("shock_id", "kind", "district", "onset")},
        "comparison": r["comparison"],
        "n": r["n"],
        "held": show(
            s["resilient"] + s["recovered"],
            "percent",
            langs,
            0,
            source=src + ":resilient+recovered",
        ),
        "lost": show(
            s["not_recovered"] + s["interrupted"],
            "percent",
            langs,
            0,
            source=src + ":not_recovered+interrupted",
        ),
    }


def _mutuals(kpi: Mapping[str, Any]) -> dict[str, Any] | None:
    """Alarms of the latest year per mutual (the KPI table of the summary)."""
    if not kpi["mutuals"]:
        return None
    alarmed = {(a["mutual"], a["year"]) for a in kpi["alarms"]}
    return {
        "certainty": "observed",
        "alarms": len(kpi["alarms"]),
        "mutuals": len(kpi["mutuals"]),
        "in_alarm": len(alarmed),
        "year": max(m["year"] for m in kpi["mutuals"]),
    }


def _data(
    completeness: pd.DataFrame,
    districts: Sequence[str],
    config: Mapping[str, Any],
    langs: Sequence[str],
    show: Show,
) -> dict[str, Any] | None:
    """Area completeness and timeliness of the last months against the DQ targets."""
    months = int(config["reporting"]["actions"]["continuity_months"])
    sums, last = dq_rates(completeness, set(districts), months)
    if sums.empty:
        return None
    targets = {k: float(config["dq"][f"{k}_target"]) for k in ("completeness", "timeliness")}
    below = [
        d["district"]
        for d in districts_below_target(
            completeness, set(districts), months, (targets["completeness"], targets["timeliness"])
        )
    ]
    comp, time = rates(sums.sum())
    src = f"{COMPLETENESS}#districts of the area,last {months} months to {last}"
    return {
        "certainty": "caution" if below else "trusted",
        "months": months,
        "completeness": show(comp, "percent", langs, 0, source=src + ":reported/expected"),
        "timeliness": show(time, "percent", langs, 0, source=src + ":timely/reported"),
        "targets": {
            k: show(v, "percent", langs, 0, source=f"config:dq.{k}_target")
            for k, v in targets.items()
        },
        "below": below,
        "districts": len(sums),
    }


def answers(
    summary: Mapping[str, Any],
    *,
    area: str,
    config: Mapping[str, Any],
    completeness_district: pd.DataFrame,
    show: Show,
) -> dict[str, Any]:
    """The four answers of the summary's opening block, from the summary built so far.

    ``summary`` holds ``cards`` (or, without a facility analysis, ``survey_effects``),
    ``shocks``, ``kpi`` and ``languages``; a question without data answers ``None``.
    """
    langs = summary["languages"]
    return {
        "care": _care(summary["cards"] or summary["survey_effects"]),
        "shocks": _shocks(summary["shocks"], area, langs, show),
        "mutuals": _mutuals(summary["kpi"]),
        "data": _data(
            completeness_district, config["areas"][area]["districts"], config, langs, show
        ),
    }
