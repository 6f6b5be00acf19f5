"""Synthetic DiD beside the event study of a single-start programme (DESIGN §6.2).

With one treated district (Djantoli: Commune III of six) no assignment-level test can
reject anything, so what a reader can weigh is how well the comparison tracks the
treated unit before the start. :func:`~sahel_eval.did.synthdid` fits unit and time
weights that make it so, at two levels:

* **district** (commune): each district's rate per 1,000 = its reporting facilities'
  summed counts ÷ their summed catchment population, month by month (a quality-of-care
  ratio: summed numerators ÷ summed denominators). One treated
  district: placebo over the G − 1 controls gives p_min = 1/G, so the row is
  assignment level with verdict ``not_informative`` and no assignment-level p or
  interval.
* **facility**: the treated district's CSCOMs against the other districts' CSCOMs; the
  placebo interval is conditional on no district-level shocks (placebo facilities
  cannot show a shock shared by the treated district).

**Too few placebos.** A placebo SE is the standard deviation of the placebo estimates,
one per re-assignment of treatment to controls. An interval at level 1 − α claims how
often an estimate falls beyond it; with fewer than :func:`min_placebos` = ⌈1/α⌉
placebo estimates (20 at 95 %) not one of them can lie in that tail, so the data say
nothing about it, and a standard deviation of r values is itself uncertain by about
1/√(2(r − 1)) of its size (35 % with r = 5). With one treated commune of six there are
5 placebos: their spread is tiny on the demo (SE 0.0001 against errors of 0.01–0.07
from the planted effect; 17–27 % Monte Carlo coverage), a precise-looking interval the
design cannot support. Such a fit keeps its estimate and verdict, its SE and interval
are withheld (``null``) in its rows, and its facts say so (``placebo``: ``interval`` =
``withheld``, ``reason`` = ``too_few_placebos``, the flagged ``se``; warning
``placebo_too_few``). This
departs from DESIGN §6.2, which asks for the commune-level interval labelled
conditional; the facility-level fit (100 random placebo draws) keeps its conditional
interval.

The estimand is the mean effect over the programme's months (start to ``end_t``):
months after the end are left out, since the effect of a programme that stopped is the
persistence question (DESIGN §8), not this one. SDID needs a balanced block: at the
facility level a CSCOM missing more than :data:`MAX_MISSING_SHARE` of the window's
months is dropped; the others' missing months are filled by linear interpolation within
the facility (the nearest reported month at the ends). Both counts are in the facts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean.panels import quality_ratio
from sahel_eval.did.analyses.fits import _base_rows, _facts, _Fit, _Label, _Outcome
from sahel_eval.did.results import EstimateResult, WarningCode
from sahel_eval.did.sdid import synthdid

__all__ = ["MAX_MISSING_SHARE", "min_placebos", "synthetic_fits"]

#: A CSCOM missing more of the window's months than this is left out of the block.
MAX_MISSING_SHARE = 0.2


def min_placebos(level: float) -> int:
    """Fewest placebo estimates behind a printed placebo interval: ⌈1/α⌉, α = 1 − level.

    Below it not one placebo estimate can fall in the interval's α tail (see the module
    docstring); 20 at the 95 % level.
    """
    return math.ceil(round(1.0 / (1.0 - level), 9))


def _treat(frame: pd.DataFrame) -> pd.Series:
    return ((frame["group"] > 0) & (frame["t"] >= frame["group"])).astype(int)


def _district_block(o: _Outcome, end_t: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    p = o.data[o.data["t"] <= end_t]
    ratio = o.settings.quality_ratios.get(o.outcome)
    if ratio is None:  # a rate per 1,000: summed counts ÷ summed catchment population
        num, den = o.variable.removesuffix("_per_1000"), "population"
        scale, complement = 1000.0, False
    else:  # a quality-of-care ratio: summed numerators ÷ summed denominators
        num, den = ratio["numerator"], ratio["denominator"]
        scale, complement = 1.0, bool(ratio["complement"])
    ok = p[num].notna() & p[den].gt(0)
    agg = (
        p.loc[ok]
        .groupby(["district", "t"], sort=True)
        .agg(_num=(num, "sum"), _den=(den, "sum"), group=("group", "max"))
        .reset_index()
    )
    agg["y"] = quality_ratio(agg["_num"], agg["_den"], complement) * scale
    agg["treat"] = _treat(agg)
    return agg[["district", "t", "y", "treat"]], {"unit": "district"}


def _facility_block(o: _Outcome, end_t: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    p = o.data.loc[o.data["t"] <= end_t, ["facility_id", "district", "t", "group", o.variable]]
    wide = p.pivot(index="facility_id", columns="t", values=o.variable).sort_index(axis=1)
    months = wide.shape[1]
    share = wide.isna().sum(axis=1) / months
    keep = share <= MAX_MISSING_SHARE
    filled = int(wide.loc[keep].isna().to_numpy().sum())
    wide = wide.loc[keep].interpolate(axis=1, limit_direction="both")
    long = wide.stack().rename("y").reset_index()
    group = p.drop_duplicates("facility_id").set_index("facility_id")["group"]
    long["group"] = long["facility_id"].map(group)
    long["treat"] = _treat(long)
    facts = {
        "unit": "facility_id",
        "facilities_dropped": int((~keep).sum()),
        "cells_filled": filled,
        "max_missing_share": MAX_MISSING_SHARE,
    }
    return long[["facility_id", "t", "y", "treat"]], facts


def _sdid_fit(o: _Outcome, end_t: int, level: str) -> _Fit:
    block, extra = (_district_block if level == "district" else _facility_block)(o, end_t)
    unit = extra["unit"]
    fit = synthdid(
        block,
        "y",
        unit,
        "t",
        "treat",
        se="placebo",
        reps=o.settings.synthdid_reps,
        seed=o.settings.seed_randomisation,
    )
    low, high = fit.ci(o.settings.level)
    replicates = int(len(fit.replicates))
    minimum = min_placebos(o.settings.level)
    withheld = replicates < minimum
    se, p_value = fit.se, fit.p
    if withheld:  # no precise-looking interval (nor normal p) from a handful of placebos
        se, p_value, low, high = np.nan, np.nan, np.nan, np.nan
    treated_units = int(block.loc[block["treat"] == 1, unit].nunique())
    units = int(block[unit].nunique())
    cluster = "district" if level == "district" else "facility_id"
    informative_p_min = 1.0 / units if level == "district" else np.nan
    table = pd.DataFrame(
        {
            "term": ["overall"],
            "estimate": [fit.estimate],
            "se": [se],
            "ci_low": [low],
            "ci_high": [high],
            "p": [p_value],
            "p_min": [informative_p_min],
        }
    )
    month = o.data.drop_duplicates("t").set_index("t")["month"].astype(str)
    info = {
        "n": len(block),
        "n_units": units,
        # Clusters as the row's cluster column names them: districts, or facilities.
        "clusters": units,
        "treated_clusters": treated_units,
        "n_dropped": int(extra.get("facilities_dropped", 0)),
        "seed": fit.info.get("seed"),
        "p_min": informative_p_min,
    }
    res = EstimateResult(table=table.assign(inference="placebo"), info=info)
    tag = _Label(f"{o.outcome}:synthdid:{level}", "synthdid", "placebo", cluster, False)
    rows = _base_rows(o, res, table, tag, "window_mean")
    warns = [WarningCode(w) for w in fit.warnings]
    note = None
    if withheld:
        warns.append(WarningCode("placebo_too_few", {"placebos": replicates, "minimum": minimum}))
    if level == "facility":
        warns.append(WarningCode("conditional_on_no_cluster_shocks", {"cluster": "district"}))
        note = "conditional_on_no_cluster_shocks"
    facts = _facts(o, res, tag, extra_warnings=warns, note=note)
    # Every non-zero weight, largest unit weight first (results/tables/{area}/sdid_weights).
    omega = fit.unit_weights.sort_values(ascending=False, kind="mergesort")
    start = int(block.loc[block["treat"] == 1, "t"].min())
    facts.update(
        extra,
        level=level,
        draws=replicates,
        placebo={
            "replicates": replicates,
            "enumerated": bool(fit.info["placebo_enumerated"]),
            "min_for_interval": minimum,
            "interval": "withheld" if withheld else "conditional",
            "reason": "too_few_placebos" if withheld else None,
            # The placebo SD itself, flagged by ``interval``: a withheld one is kept for
            # the Monte Carlo's coverage check of the interval it would have given.
            "se": float(fit.se),
        },
        window={"from": month.get(start), "to": month.get(end_t), "from_t": start, "to_t": end_t},
        pre_rmse=fit.pre_rmse,
        n_treated_units=treated_units,
        n_control_units=units - treated_units,
        unit_weights=[{"unit": str(k), "weight": float(v)} for k, v in omega.items() if v > 0],
        time_weights=[
            {"month": month.get(int(k)), "weight": float(v)}
            for k, v in fit.time_weights.items()
            if v > 0
        ],
    )
    return _Fit(rows, facts)


def synthetic_fits(o: _Outcome, end_t: int | None) -> list[_Fit]:
    """District- and facility-level SDID fits of one outcome (none without an end date)."""
    if end_t is None:
        return []
    return [_sdid_fit(o, end_t, "district"), _sdid_fit(o, end_t, "facility")]
