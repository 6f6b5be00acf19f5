"""One source of numbers: ``results/summary/{area}.json`` (DESIGN §9).

The brief and the technical report of an area render this one file, so a number a
reader meets in both is the same string in both: each shown number is stored once
with its display text per language (rounding decided here, Babel formatting) and the
results file and row it comes from. Verdict codes are copied from the stages
(DESIGN §6.1); nothing is estimated here.

Numbers are stored as ``{"value": float, "text": {lang: str}, "source": str}``; the
templates print ``text[lang]`` through the ``shown`` filter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from sahel_eval.clean.periods import month_number, to_period
from sahel_eval.report.brief import brief_context
from sahel_eval.report.summary_actions import (
    SHOCK_REASONS,
    actions,
    recent_since,
    support_by_cscom,
    support_list,
)
from sahel_eval.report.summary_answers import answers
from sahel_eval.text import formatting as fmt

__all__ = ["SCHEMA_VERSION", "build_summary", "shown"]

SCHEMA_VERSION = 1

ESTIMATES = "results/estimates/{analysis}.json"
PERSISTENCE = "results/sustainability/persistence.csv"
KPIS = "results/sustainability/mutual_kpis.csv"
AGGREGATES = "results/resilience/{area}_aggregates.csv"


def shown(
    value: float | None,
    kind: str,
    langs: Sequence[str],
    digits: int = 1,
    *,
    sign: bool = False,
    source: str = "",
) -> dict[str, Any] | None:
    """A number with its display text per language; ``None`` stays ``None``."""
    if value is None:
        return None
    text = {}
    for lang in langs:
        if kind == "percent":
            s = fmt.fmt_percent(value, lang, digits)
        elif kind == "count":
            s = fmt.fmt_count(value, lang)
        else:
            s = fmt.fmt_number(value, lang, digits)
        # A plus sign only when the rounded number is not zero.
        text[lang] = ("+" + s) if sign and round(value, digits) > 0 else s
    return {"value": float(value), "text": text, "source": source}


def _effect(e: dict[str, Any], langs: Sequence[str], analysis: str) -> dict[str, Any]:
    src = (
        f"{ESTIMATES.format(analysis=analysis)}#estimates[outcome={e['outcome']},"
        f"estimator={e['estimator']},aggregation={e['aggregation']},cluster={e['cluster']}]"
    )
    d, cd = e["digits"], e["ci_digits"]
    out = {k: v for k, v in e.items() if k not in ("value", "low", "high", "mde", "attained")}
    out.update(
        analysis=analysis,
        value=shown(e["value"], "number", langs, d, sign=True, source=src),
        low=shown(e["low"], "number", langs, cd, source=src),
        high=shown(e["high"], "number", langs, cd, source=src),
        mde=shown(e["mde"], "number", langs, cd, source=src),
        attained=shown(e["attained"], "percent", langs, 1, source=src),
    )
    if e["conditional"]:
        c = e["conditional"]
        out["conditional"] = {
            k: shown(c[k], "number", langs, cd, source=src + ":conditional")
            for k in ("value", "low", "high")
        }
    return out


def _bands(thresholds: Mapping[str, Any], kpi: str, langs: Sequence[str]) -> dict[str, Any]:
    """Good and watch ranges of one KPI (alarm is outside watch), from the config."""
    out = {}
    for band in ("good", "watch"):
        low, high = (thresholds.get(kpi) or {}).get(band) or [None, None]
        src = f"config:sustainability.kpi_thresholds.{kpi}.{band}"
        out[band] = {
            "low": shown(low, "percent", langs, 0, source=src),
            "high": shown(high, "percent", langs, 0, source=src),
        }
    return out


def build_summary(
    *,
    area: str,
    config: Mapping[str, Any],
    estimates: Sequence[Mapping[str, Any]],
    aggregates: pd.DataFrame,
    shocks: pd.DataFrame,
    comparison: Mapping[str, Any],
    kpis: pd.DataFrame,
    persistence: pd.DataFrame,
    indicators: pd.DataFrame,
    completeness_district: pd.DataFrame,
    reporting_status: pd.DataFrame,
    facilities: pd.DataFrame,
    programmes: pd.DataFrame,
) -> dict[str, Any]:
    """Every number and verdict code the area's brief and technical report show.

    Parameters are the results files already loaded; ``config`` is the validated config
    (``areas``, ``reporting``, ``resilience``, ``sustainability``, ``dq``, ``analyses``).
    """
    langs = list(config["reporting"]["languages"])
    ctx = brief_context(
        area=area,
        config=config,
        estimates=estimates,
        aggregates=aggregates,
        shocks=shocks,
        comparison=comparison,
        kpis=kpis,
        persistence=persistence,
        lead=config["reporting"]["lead_estimator"],
    )
    names = {a["data"]: a["name"] for a in config["analyses"] if a["area"] == area}
    fac, sur = names.get("facility", ""), names.get("survey", "")
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "area": area,
        "languages": langs,
        **{k: ctx[k] for k in ("area_label", "district_unit", "region", "programme", "service")},
        "place": dict(config["areas"][area]["place"]),
        # A table's column header over the area's districts ("Cercle", "Commune").
        "district_word": dict(config["areas"][area].get("district_word") or {}) or None,
        "cards": [_effect(e, langs, fac) for e in one_rounding(ctx["cards"])],
        "more_effects": [_effect(e, langs, fac) for e in one_rounding(ctx["more_effects"])],
        "survey_effects": [_effect(e, langs, sur) for e in one_rounding(ctx["survey_effects"])],
        "survey_groups": ctx["survey_groups"],
        "facility_caveats": ctx["facility_caveats"],
        "survey_caveats": ctx["survey_caveats"],
        "window_months": ctx["window_months"],
        "interruption_months": ctx["interruption_months"],
        "recovery_threshold": shown(
            ctx["recovery_threshold"],
            "percent",
            langs,
            0,
            source="config:resilience.recovery_threshold",
        ),
    }
    pz = ctx["persistence"]
    if pz is not None:
        src = f"{PERSISTENCE}#area={area},indicator={pz['outcome']},conditional"
        pz = {
            **pz,
            **{k: shown(pz[k], "percent", langs, 0, source=src) for k in ("ratio", "low", "high")},
        }
    out["persistence"] = pz
    sv = ctx["sensitivity"]
    if sv is not None:
        sv = {
            **sv,
            "mbar": shown(
                sv["value"],
                "number",
                langs,
                sv["digits"],
                source=f"{ESTIMATES.format(analysis=fac)}#breakdown[average_post,relative_magnitude]",
            ),
        }
    out["sensitivity"] = sv
    shock_rows = []
    for s in ctx["shocks"]:
        src = f"{AGGREGATES.format(area=area)}#level=area,shock_id={s['shock_id']}"
        shock_rows.append(
            {
                **s,
                "shown": {
                    c: shown(v, "percent", langs, 0, source=src) for c, v in s["shares"].items()
                },
            }
        )
    out["shocks"] = shock_rows
    thresholds = config["sustainability"]["kpi_thresholds"]
    kpi = ctx["kpi"]
    for r in kpi["rows"]:
        r["bands"] = _bands(thresholds, r["kpi"], langs)
        for c, m in zip(r["cells"], kpi["mutuals"], strict=True):
            c["shown"] = shown(
                c["value"],
                "percent",
                langs,
                0,
                source=f"{KPIS}#mutual={m['mutual']},year={m['year']},kpi={r['kpi']}",
            )
    out["kpi"] = kpi
    out["survey_years"] = _survey_years(ctx["survey_effects"])
    support = support_list(area, config, indicators, reporting_status, facilities)
    out["support"] = support
    out["support_cscoms"] = support_by_cscom(support)
    shocked = {(r["district"], r["facility"]) for r in support if r["reason"] in SHOCK_REASONS}
    reporting = {(r["district"], r["facility"]) for r in support if r["reason"] == "low_continuity"}
    closed = {(r["district"], r["facility"]) for r in support if r["reason"] == "closed"}
    # Every count of the support list is of distinct CSCOMs; one CSCOM may have
    # several reasons (a crisis and irregular reports), said once here. CSCOMs closed
    # since (facility register) are listed last and counted apart: none is to support.
    out["support_counts"] = {
        "cscoms": len(shocked | reporting),
        "after_shock": len(shocked),
        "reporting": len(reporting),
        "both": len(shocked & reporting),
        "closed": len(closed),
    }
    in_area = reporting_status["district"].isin(config["areas"][area]["districts"])
    out["support_rule"] = {
        "months": int(config["reporting"]["actions"]["support_recent_months"]),
        "since": recent_since(reporting_status.loc[in_area, "period"].max(), config),
        "continuity_months": int(config["reporting"]["actions"]["continuity_months"]),
    }
    out["actions"] = actions(area, config, support, completeness_district, kpi, out)
    out["timeline"] = _timeline(area, config, programmes, ctx["shocks"], facilities)
    # The districts the area's programmes reached (one: "only in Commune III").
    out["treated_districts"] = sorted(
        {d for i in out["timeline"] if i["kind"] == "programme" for d in i["districts"]}
    )
    out["timeline_axis"] = _timeline_axis(out["timeline"], reporting_status.loc[in_area, "period"])
    effects = out["cards"] + out["more_effects"] + out["survey_effects"]
    out["attained_common"] = _attained_common(effects)
    out["verdict_once"] = _verdict_once(effects)
    out["answers"] = answers(
        out, area=area, config=config, completeness_district=completeness_district, show=shown
    )
    return out


def one_rounding(effects: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The effects of one list rounded alike: the most decimals any of them needs, for
    the values and for the intervals ("+12,3 … entre 4,1 et 22,8" beside "+8,1 …")."""
    if not effects:
        return []
    digits = max(e["digits"] for e in effects)
    ci = max(max(e["ci_digits"] for e in effects), digits)
    return [{**e, "digits": digits, "ci_digits": ci} for e in effects]


def _attained_common(effects: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The confidence level every shown interval shares, said once (``None`` if they
    differ or no interval is shown): the same stored display string as each effect's."""
    levels = [e["attained"] for e in effects if e["low"] is not None and e["attained"]]
    texts = {json.dumps(a["text"], sort_keys=True) for a in levels}
    return levels[0] if len(texts) == 1 else None


def _verdict_once(effects: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """When every effect has one verdict that cannot conclude (one treated unit), it is
    said once for all of them: ``{verdict, n}``; otherwise ``None``."""
    codes = {e["verdict"] for e in effects}
    if len(effects) > 1 and codes == {"not_informative"}:
        return {"verdict": "not_informative", "n": len(effects)}
    return None


def _survey_years(effects: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Baseline and last survey round of the survey effects (one pair for the area)."""
    pairs = {(e["baseline"], e["round"]) for e in effects if e["baseline"]}
    if not pairs:
        return None
    baseline, last = sorted(pairs)[-1]
    return {"baseline": baseline, "last": last}


def _timeline(
    area: str,
    config: Mapping[str, Any],
    programmes: pd.DataFrame,
    shocks: Sequence[Mapping],
    facilities: pd.DataFrame,
) -> list[dict[str, Any]]:
    """Programmes and shocks of the area on one time axis, by start month.

    A programme's roll-out may be staggered: its first and last start months are both
    shown, with its last end month (``results/clean/programmes.parquet``). Its units
    are CSCOMs (``unit_level`` facility) or whole districts; ``districts`` names the
    districts it reached (of its CSCOMs, from the facility register).
    """
    district_of = dict(zip(facilities["facility_id"], facilities["district"], strict=True))
    items = []
    for p in config["programmes"]:
        if p["area"] != area:
            continue
        rows = programmes[programmes["programme"] == p["name"]]
        if rows.empty:
            continue
        starts = pd.to_datetime(rows["start"]).dt.strftime("%Y-%m")
        ends = pd.to_datetime(rows["end"]).dropna().dt.strftime("%Y-%m")
        items.append(
            {
                "kind": "programme",
                "name": p["name"],
                "start": starts.min(),
                "last_start": starts.max(),
                "end": ends.max() if len(ends) else None,
                "units": int(rows["unit_id"].nunique()),
                "unit_level": "facility"
                if (rows["unit_level"] == "facility").all()
                else "district",
                "districts": sorted(
                    {
                        str(district_of.get(u, u)) if lvl == "facility" else str(u)
                        for u, lvl in zip(rows["unit_id"], rows["unit_level"], strict=True)
                    }
                ),
            }
        )
    for s in shocks:
        items.append({"kind": "shock", "shock": dict(s), "start": s["onset"], "end": None})
    items.sort(key=lambda i: (i["start"], i["kind"]))
    return items


def _timeline_axis(items: list[dict[str, Any]], periods: pd.Series) -> dict[str, Any] | None:
    """Where each timeline item sits on the axis of the area's reporting months.

    Positions are shares of the axis (0 = the first month's start, 1 = the last
    month's end), clipped to it; each item gains ``at`` (its start) and programmes
    ``full_at`` (their last start: before it the roll-out is still under way) and
    ``to`` (the end of their last month, or the axis end). Years mark their January.
    """
    if periods.empty:
        return None
    first, last = (int(m) for m in month_number([str(int(periods.min())), str(int(periods.max()))]))
    span = last - first + 1

    def share(ym: str | None, *, end: bool = False) -> float:
        if ym is None:
            return 1.0
        at = int(month_number([ym.replace("-", "")])[0]) + end - first
        return round(min(max(at / span, 0.0), 1.0), 4)

    for i in items:
        i["at"] = share(i["start"])
        if i["kind"] == "programme":
            i["full_at"] = share(i["last_start"])
            i["to"] = share(i["end"], end=True)
    years = range(first // 12 + (first % 12 > 0), last // 12 + 1)
    ends = [f"{p[:4]}-{p[4:]}" for p in to_period([first, last])]
    return {
        "from": ends[0],
        "to": ends[1],
        "years": [{"year": y, "at": share(f"{y}-01")} for y in years],
    }
