"""The planted truth, computed with the DESIGN definitions from the noise-free model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..did.analyses.subgroups import cluster_wealth_quintile
from ..resilience.indicators import classify, interruption, substitution, window_indicators
from .facility_model import MONTHS, FacilityModel, month_index
from .params import (
    CRUDE_BIRTH_RATE,
    DJANTOLI_END,
    DJANTOLI_START,
    ESSENTIAL_SERVICES,
    I3S_END,
    INDICATORS,
    MIN_HISTORY,
    POOREST_LEVELS,
    QUALITY_RATIOS,
)
from .surveys import SurveyRound

PERIODS = MONTHS.strftime("%Y%m").to_numpy()
PERSISTENCE_MONTHS = 24


def _r(x: float | None, nd: int = 8) -> float | None:
    """Rounded float, None for missing (JSON has no NaN)."""
    if x is None or not np.isfinite(x):
        return None
    return round(float(x), nd)


def completeness(model: FacilityModel, timely: np.ndarray) -> list[dict]:
    """Completeness and timeliness per district and month (DESIGN §5)."""
    out = []
    district = model.fac["district"].to_numpy()
    for d in sorted(set(district)):
        rows = district == d
        exp = model.expected[rows].sum(axis=0)
        rep = model.reported[rows].sum(axis=0)
        tim = (model.reported & timely)[rows].sum(axis=0)
        for t, p in enumerate(PERIODS):
            out.append(
                {
                    "district": d,
                    "period": p,
                    "expected": int(exp[t]),
                    "reported": int(rep[t]),
                    "timely": int(tim[t]),
                    "completeness": _r(rep[t] / exp[t]) if exp[t] else None,
                    "timeliness": _r(tim[t] / exp[t]) if exp[t] else None,
                }
            )
    return out


def programme_groups(model: FacilityModel) -> dict[str, np.ndarray]:
    """Per programme, each facility's first exposed month index (-1 = never)."""
    fac = model.fac
    i3s = np.array([month_index(s) if pd.notna(s) else -1 for s in fac["i3s_start"]])
    dj = np.where(fac["djantoli"].to_numpy(), month_index(DJANTOLI_START), -1)
    return {"I3S": i3s, "Djantoli": dj}


def outcome_effects(model: FacilityModel) -> dict[str, np.ndarray]:
    """Programme effect per facility and month (F × T) of every facility outcome: each
    indicator's rate per 1,000, then each quality-of-care ratio of the expected counts
    (:data:`QUALITY_RATIOS`, as the panels define them)."""
    rate = (model.mu - model.mu_no_programme) / model.pop[:, :, None] * 1000.0
    out = {ind: rate[:, :, k] for k, ind in enumerate(INDICATORS)}
    births = model.pop * CRUDE_BIRTH_RATE / 12.0

    def part(mu: np.ndarray, name: str) -> np.ndarray:
        return births if name == "expected_births" else mu[:, :, INDICATORS.index(name)]

    for name, (num, den, complement) in QUALITY_RATIOS.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            eff = part(model.mu, num) / part(model.mu, den) - part(
                model.mu_no_programme, num
            ) / part(model.mu_no_programme, den)
        out[name] = np.nan_to_num(-eff if complement else eff)
    return out


def effects(model: FacilityModel) -> tuple[dict, list[dict]]:
    """ATT per month by event time and calendar month of every facility outcome
    (:func:`outcome_effects`), and the persistence ratio per programme and outcome
    (DESIGN §8)."""
    by_outcome = outcome_effects(model)
    ends = {"I3S": month_index(I3S_END), "Djantoli": month_index(DJANTOLI_END)}
    T = len(MONTHS)
    out: dict = {}
    persistence = []
    for prog, g in programme_groups(model).items():
        treated = g >= 0
        out[prog] = {}
        open_ = model.expected & treated[:, None]
        exposed = open_ & (np.arange(T)[None, :] >= g[:, None])
        for ind, eff in by_outcome.items():
            if not np.any(np.abs(eff[treated]) > 0):
                continue
            cal = {}
            for t in range(T):
                m = exposed[:, t]
                if m.any():
                    cal[PERIODS[t]] = _r(eff[m, t].mean())
            ev = {}
            e_mat = np.arange(T)[None, :] - g[:, None]
            for e in range(-12, T):
                m = open_ & (e_mat == e)
                if m.any():
                    ev[str(e)] = _r(eff[m].mean())
            out[prog][ind] = {"calendar": cal, "event_time": ev}
            end = ends[prog]
            first = int(g[treated].min())
            before = [PERIODS[t] for t in range(max(first, end - PERSISTENCE_MONTHS + 1), end + 1)]
            after = [PERIODS[t] for t in range(end + 1, min(T, end + 1 + PERSISTENCE_MONTHS))]
            during = np.mean([cal[p] for p in before])
            later = np.mean([cal[p] for p in after])
            persistence.append(
                {
                    "programme": prog,
                    "indicator": ind,
                    "during_months": [before[0], before[-1]],
                    "after_months": [after[0], after[-1]],
                    "att_during": _r(during),
                    "att_after": _r(later),
                    "ratio": _r(later / during),
                }
            )
    return out, persistence


#: How each Callaway–Sant'Anna aggregation weighs ATT(g, t), as the pipeline's
#: ``att_gt(...).aggregate(kind)`` (R ``did::aggte``); N_g = facilities of cohort g.
CS_WEIGHTS = {
    "simple": "sum over post cells (t >= g) of N_g ATT(g,t), divided by the sum of N_g "
    "over the same cells",
    "group": "per cohort the plain mean of its post cells; overall N_g-weighted over cohorts",
    "calendar": "per month t the N_g-weighted mean over cohorts with g <= t; overall the "
    "plain mean over months from the first cohort's start",
    "dynamic": "per event time e the N_g-weighted mean over cohorts observed at g + e; "
    "overall the plain mean over e >= 0",
}


def cs_overall(model: FacilityModel) -> dict:
    """Overall ATT of each Callaway–Sant'Anna aggregation (:data:`CS_WEIGHTS`), per
    programme and indicator, from the noise-free ATT(g, t).

    ATT(g, t) is the mean rate effect over cohort g's facilities open in month t;
    N_g counts the cohort's facilities open in any month (the units of the panel).
    Cohorts are keyed by month index t (1 = January 2014), as ``programmes``.
    """
    by_outcome = outcome_effects(model)
    T = len(MONTHS)
    out: dict = {"weights": CS_WEIGHTS, "programmes": {}}
    for prog, g in programme_groups(model).items():
        cohorts = np.unique(g[g >= 0])
        size = np.array([(model.expected[g == c].any(axis=1)).sum() for c in cohorts], float)
        overall: dict = {}
        for ind, eff in by_outcome.items():
            if not np.any(np.abs(eff[g >= 0]) > 0):
                continue
            att = np.full((len(cohorts), T), np.nan)  # cohort × month, post cells only
            for i, c in enumerate(cohorts):
                open_ = model.expected[g == c]
                n_open = open_.sum(axis=0)
                sums = (eff[g == c] * open_).sum(axis=0)
                post = (np.arange(T) >= c) & (n_open > 0)
                att[i, post] = sums[post] / n_open[post]
            w = np.where(np.isnan(att), 0.0, size[:, None])
            a = np.nan_to_num(att)
            by_group = np.nanmean(att, axis=1)
            by_month = (w * a).sum(axis=0) / np.where(w.sum(axis=0) > 0, w.sum(axis=0), np.nan)
            events = {}
            for i, c in enumerate(cohorts):
                for t in range(int(c), T):
                    if not np.isnan(att[i, t]):
                        events.setdefault(t - int(c), []).append((size[i], att[i, t]))
            by_event = [sum(n * x for n, x in v) / sum(n for n, _ in v) for v in events.values()]
            overall[ind] = {
                "simple": _r((w * a).sum() / w.sum()),
                "group": _r(size @ by_group / size.sum()),
                "calendar": _r(np.nanmean(by_month[int(cohorts.min()) :])),
                "dynamic": _r(np.mean(by_event)),
            }
        out["programmes"][prog] = {
            "cohorts": {str(int(c) + 1): int(n) for c, n in zip(cohorts, size, strict=True)},
            "overall": overall,
        }
    return out


def resilience(model: FacilityModel) -> list[dict]:
    """Per facility × shock × essential service, the DESIGN §7 indicators and class,
    with the noise-free means as observed and expected volumes."""
    fac = model.fac
    district = fac["district"].to_numpy()
    planted = model.planted.set_index(["orgunit_uid", "shock_id"])["planted"]
    ks = [INDICATORS.index(s) for s in ESSENTIAL_SERVICES]
    out = []
    for sh in model.shocks:
        members = (
            np.arange(len(fac))
            if sh.kind == "national"
            else np.flatnonzero(district == sh.district)
        )
        w = np.array(list(sh.window))
        for f in members:
            if not model.expected[f, sh.onset]:
                continue
            others = [
                o
                for o in model.shocks
                if o is not sh and (o.kind == "national" or o.district == district[f])
            ]
            usable = model.reported[f].copy()
            for o in others:
                usable[list(o.window)] = False
            history = int(usable[: sh.onset].sum())
            rep = model.reported[f, w]
            served = np.repeat(rep[:, None], len(ks), axis=1) & (model.mu[f][np.ix_(w, ks)] > 0)
            interrupted = interruption(served)
            same = np.flatnonzero(district == district[f])
            before = np.arange(max(0, sh.onset - 12), sh.onset)
            for k, service in zip(ks, ESSENTIAL_SERVICES, strict=True):
                obs = model.mu[f, w, k]
                exp_ = model.mu_no_shock[f, w, k]
                ind = window_indicators(obs, exp_, rep)
                assessable = history >= MIN_HISTORY and exp_.sum() > 0
                d_open = model.expected[same]
                sub = (
                    substitution(
                        model.mu[f, w, k] * model.expected[f, w],
                        (model.mu[same][:, w, k] * d_open[:, w]).sum(axis=0),
                        model.mu[f, before, k] * model.expected[f, before],
                        (model.mu[same][:, before, k] * d_open[:, before]).sum(axis=0),
                    )
                    if len(before)
                    else None
                )
                out.append(
                    {
                        "orgunit_uid": fac["orgunit_uid"].iat[f],
                        "district": district[f],
                        "shock_id": sh.shock_id,
                        "service": service,
                        "onset": PERIODS[sh.onset],
                        "window_months": len(w),
                        "history_months": history,
                        "assessable": bool(assessable),
                        "interrupted": bool(interrupted),
                        "class": classify(
                            assessable=bool(assessable), interrupted=bool(interrupted), tau=ind.tau
                        ),
                        "tau": ind.tau,
                        "censored": bool(ind.censored),
                        "absorption": _r(ind.absorption),
                        "loss": _r(ind.loss, 4),
                        "loss_share": _r(ind.loss_share),
                        "resilience_index": _r(ind.resilience_index),
                        "bounce_back": _r(ind.bounce_back),
                        "continuity": _r(ind.continuity),
                        "substitution": _r(sub),
                        "planted": planted.get((fac["orgunit_uid"].iat[f], sh.shock_id)),
                    }
                )
    return out


def survey_truth(rounds: list[SurveyRound]) -> tuple[list[dict], list[dict]]:
    """Prevalences per round × area (× arm) and programme effects in percentage points."""
    prev, eff = [], []
    for rnd in rounds:
        for outcome, units in sorted(rnd.truth_units.items()):
            u = units[units["eligible"]]
            for area in ("Mopti", "Bamako"):
                a = u[u["area"] == area]
                if a.empty:  # a round drawn for one area only (Monte Carlo)
                    continue
                for arm in ("all", "treated", "comparison"):
                    s = a if arm == "all" else a[a["arm"] == arm]
                    prev.append(
                        {
                            "round": rnd.year,
                            "area": area,
                            "arm": arm,
                            "outcome": outcome,
                            "n": len(s),
                            "prevalence": _r(np.average(s["p"], weights=s["weight"])),
                        }
                    )
                t = a[a["arm"] == "treated"]
                if rnd.year != rounds[0].year:
                    eff.append(
                        {
                            "programme": "I3S" if area == "Mopti" else "Djantoli",
                            "area": area,
                            "outcome": outcome,
                            "round": rnd.year,
                            "baseline": rounds[0].year,
                            "att_pp": _r(100 * np.average(t["p"] - t["p0"], weights=t["weight"])),
                        }
                    )
    return prev, eff


def survey_subgroup_truth(rounds: list[SurveyRound]) -> list[dict]:
    """Planted effects by the cluster's asset-wealth group, in percentage points.

    Groups as the did stage forms them (``cluster_wealth_quintile``: the weighted median
    of the cluster's household quintiles; poorest = ``params.POOREST_LEVELS``). Per area,
    outcome and later round: each group's planted effect over its treated respondents
    (``att_pp``), and ``gap_pp``, the programme's effect on the within-district gap
    (poorest − richer) averaged over the treated districts, each weighing the same, as
    the equality test of the did stage estimates it.
    """
    out = []
    for rnd in rounds[1:]:
        h = rnd.households
        levels = cluster_wealth_quintile(
            pd.DataFrame(
                {
                    "psu": h["hv021"],
                    "wealth_quintile": h["hv270"].astype(float),
                    "weight": h["hv005"] / 1e6,
                }
            )
        )
        for outcome, units in sorted(rnd.truth_units.items()):
            u = units[units["eligible"] & (units["arm"] == "treated")]
            u = u.assign(
                effect=u["p"] - u["p0"],
                poorest=u["psu"].map(levels).isin(POOREST_LEVELS),
            )
            for area, a in u.groupby("area", sort=True):

                def mean(s: pd.DataFrame) -> float:
                    return float(np.average(s["effect"], weights=s["weight"]))

                gaps = [
                    mean(d[d["poorest"]]) - mean(d[~d["poorest"]])
                    for _, d in a.groupby("district", sort=True)
                    if d["poorest"].any() and (~d["poorest"]).any()
                ]
                out.append(
                    {
                        "programme": "I3S" if area == "Mopti" else "Djantoli",
                        "area": area,
                        "outcome": outcome,
                        "round": rnd.year,
                        "baseline": rounds[0].year,
                        "variable": "cluster_wealth_quintile",
                        "groups": {"poorest_two": list(POOREST_LEVELS), "richer_three": [3, 4, 5]},
                        "att_pp": {
                            "poorest_two": _r(100 * mean(a[a["poorest"]])),
                            "richer_three": _r(100 * mean(a[~a["poorest"]])),
                        },
                        "gap_pp": _r(100 * float(np.mean(gaps))) if gaps else None,
                    }
                )
    return out
