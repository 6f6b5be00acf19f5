"""Internal consistency and consistency over time (WHO Data Quality Review, DESIGN §5).

Internal consistency, per facility-year and district-year, on clean values:

* ``anc1_penta1`` = ANC1 ÷ Penta1 and ``penta1_penta3`` = Penta1 ÷ Penta3 are
  consistent within ``bounds`` (default [1, 1.5]): more first ANC visits than first
  vaccinations, and a drop-out from Penta1 to Penta3 that is neither negative nor
  huge;
* ``anc4_anc1`` = ANC4 ÷ ANC1 is consistent when ≤ 1.

Each ratio sums only the months in which both of its indicators have a clean value,
so a month missing for one of them does not bias the ratio.

Consistency over time, per facility × indicator × year and district × indicator ×
year: the year's mean monthly value ÷ the mean of the two previous years' mean
monthly values. Means over reported months (not totals) keep a missed month from
looking like a fall in activity; the ratio needs both previous years.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["RATIOS", "consistency_over_time", "internal_consistency"]

# check -> (numerator, denominator)
RATIOS = {
    "anc1_penta1": ("anc1", "penta1"),
    "penta1_penta3": ("penta1", "penta3"),
    "anc4_anc1": ("anc4", "anc1"),
}


def _wide(facility_month: pd.DataFrame, indicators: Sequence[str]) -> pd.DataFrame:
    sub = facility_month[facility_month["indicator"].isin(list(indicators))]
    wide = sub.pivot_table(
        index=["facility_id", "district", "period"],
        columns="indicator",
        values="value_clean",
        aggfunc="first",
        dropna=False,
        observed=True,
    )
    wide = wide.reindex(columns=list(indicators))
    wide = wide.reset_index()
    wide["year"] = wide["period"].str[:4].astype("int64")
    return wide


def internal_consistency(
    facility_month: pd.DataFrame, *, bounds: Sequence[float] = (1.0, 1.5)
) -> pd.DataFrame:
    """Internal consistency ratios per facility-year and district-year.

    Parameters
    ----------
    facility_month
        Long table with ``facility_id, district, period, indicator, value_clean``.
    bounds
        Lower and upper bound of ANC1/Penta1 and Penta1/Penta3.

    Returns
    -------
    pandas.DataFrame
        ``level`` (facility / district), ``unit`` (UID or district), ``district``,
        ``year``, ``check``, ``numerator``, ``denominator``, ``months``, ``ratio``,
        ``lower``, ``upper``, ``consistent`` (bool; NA when the ratio is undefined).
    """
    lo, hi = float(bounds[0]), float(bounds[1])
    wide = _wide(facility_month, ["anc1", "anc4", "penta1", "penta3"])
    frames = []
    for check, (num, den) in RATIOS.items():
        both = wide[num].notna() & wide[den].notna()
        part = wide.loc[both, ["facility_id", "district", "year", num, den]].rename(
            columns={num: "numerator", den: "denominator"}
        )
        part["months"] = 1
        for level, unit in (("facility", "facility_id"), ("district", "district")):
            keys = [unit, "year"] if unit == "district" else [unit, "district", "year"]
            agg = part.groupby(keys, sort=True)[["numerator", "denominator", "months"]].sum()
            agg = agg.reset_index()
            if unit == "district":
                agg["unit"] = agg["district"]
            else:
                agg = agg.rename(columns={"facility_id": "unit"})
            agg["level"] = level
            agg["check"] = check
            frames.append(agg)
    out = pd.concat(frames, ignore_index=True)
    den = out["denominator"].where(out["denominator"] > 0)
    out["ratio"] = out["numerator"] / den
    anc4 = out["check"] == "anc4_anc1"
    out["lower"] = np.where(anc4, np.nan, lo)
    out["upper"] = np.where(anc4, 1.0, hi)
    ok = (out["ratio"] <= out["upper"]) & (anc4 | (out["ratio"] >= out["lower"]))
    out["consistent"] = pd.array(np.where(out["ratio"].isna(), None, ok), dtype="boolean")
    out["months"] = out["months"].astype("int64")
    cols = [
        "level",
        "unit",
        "district",
        "year",
        "check",
        "numerator",
        "denominator",
        "months",
        "ratio",
        "lower",
        "upper",
        "consistent",
    ]
    return (
        out[cols]
        .sort_values(["level", "unit", "year", "check"], kind="mergesort")
        .reset_index(drop=True)
    )


def consistency_over_time(facility_month: pd.DataFrame) -> pd.DataFrame:
    """Each year's mean monthly value ÷ the mean of the two previous years.

    Parameters
    ----------
    facility_month
        Long table with ``facility_id, district, period, indicator, value_clean``.

    Returns
    -------
    pandas.DataFrame
        ``level, unit, district, indicator, year, months, mean_monthly,
        previous_mean, ratio`` (NaN when either previous year has no value).
    """
    fm = facility_month[facility_month["value_clean"].notna()]
    fm = fm.assign(year=fm["period"].str[:4].astype("int64"))
    frames = []
    # District means are means of facility-month values, i.e. an average facility.
    for level, keys in (
        ("facility", ["facility_id", "district", "indicator"]),
        ("district", ["district", "indicator"]),
    ):
        g = fm.groupby([*keys, "year"], sort=True)["value_clean"]
        yearly = pd.DataFrame({"months": g.size(), "mean_monthly": g.mean()}).reset_index()
        prev = yearly[[*keys, "year", "mean_monthly"]]
        p1 = prev.assign(year=prev["year"] + 1).rename(columns={"mean_monthly": "_p1"})
        p2 = prev.assign(year=prev["year"] + 2).rename(columns={"mean_monthly": "_p2"})
        yearly = yearly.merge(p1, on=[*keys, "year"], how="left").merge(
            p2, on=[*keys, "year"], how="left"
        )
        yearly["previous_mean"] = (yearly["_p1"] + yearly["_p2"]) / 2
        yearly["ratio"] = yearly["mean_monthly"] / yearly["previous_mean"].where(
            yearly["previous_mean"] > 0
        )
        yearly["level"] = level
        yearly["unit"] = yearly["facility_id"] if level == "facility" else yearly["district"]
        frames.append(yearly)
    out = pd.concat(frames, ignore_index=True)
    out["months"] = out["months"].astype("int64")
    cols = [
        "level",
        "unit",
        "district",
        "indicator",
        "year",
        "months",
        "mean_monthly",
        "previous_mean",
        "ratio",
    ]
    return (
        out[cols]
        .sort_values(["level", "unit", "indicator", "year"], kind="mergesort")
        .reset_index(drop=True)
    )
