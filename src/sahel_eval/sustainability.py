"""Sustainability (DESIGN §8): mutual-insurance KPIs and persistence of programme effects.

Mutual-insurance KPIs, per mutual and year
------------------------------------------
============================  ===================================  =========================
KPI                           numerator                            denominator
============================  ===================================  =========================
penetration                   beneficiaries                        target_population
renewal                       renewed                              renewals_due
collection                    contributions_collected              contributions_due
claims_ratio                  claims_paid                          contributions_collected
operating_cost_ratio          admin_costs                          contributions_collected
cost_recovery                 contributions_collected              claims_paid + admin_costs
cost_recovery_with_subsidies  contributions_collected + subsidies  claims_paid + admin_costs
============================  ===================================  =========================

A KPI whose denominator is 0 (a mutual's first year has no renewals due) or whose
inputs are missing has no value: ``value`` is empty and ``reason`` says why
(``zero_denominator``, ``missing_input``), and its status is ``not_available``.

Status: ``good`` when the value lies in the KPI's ``good`` interval, else ``watch``
when it lies in its ``watch`` interval, else ``alarm`` (intervals closed; ``null``
bounds open-ended; thresholds from config ``sustainability.kpi_thresholds``).

Persistence
-----------
``persistence = mean calendar-time ATT over the 24 months after the programme's end
÷ mean over its last 24 months (or all its months, if fewer)``, from
:func:`sahel_eval.did.att_gt` (never-treated comparison) on the rate per 1,000 with
the delta-method CI of :meth:`AggregateResult.ratio` (facility-level influence
functions). The "after" window is cut at the end of the data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean.periods import to_period
from sahel_eval.did import att_gt

__all__ = [
    "DEFAULT_THRESHOLDS",
    "KPI_DEFINITIONS",
    "STATUSES",
    "kpi_status",
    "mutual_kpis",
    "persistence_table",
    "programme_persistence",
]

LOG = logging.getLogger(__name__)

#: KPI → (numerator columns, denominator columns), each summed.
KPI_DEFINITIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "penetration": (("beneficiaries",), ("target_population",)),
    "renewal": (("renewed",), ("renewals_due",)),
    "collection": (("contributions_collected",), ("contributions_due",)),
    "claims_ratio": (("claims_paid",), ("contributions_collected",)),
    "operating_cost_ratio": (("admin_costs",), ("contributions_collected",)),
    "cost_recovery": (("contributions_collected",), ("claims_paid", "admin_costs")),
    "cost_recovery_with_subsidies": (
        ("contributions_collected", "subsidies"),
        ("claims_paid", "admin_costs"),
    ),
}

STATUSES = ("good", "watch", "alarm", "not_available")

#: Defaults of config ``sustainability.kpi_thresholds`` (sources in config/README.md).
DEFAULT_THRESHOLDS: dict[str, dict[str, list[float | None]]] = {
    "penetration": {"good": [0.15, None], "watch": [0.05, None]},
    "renewal": {"good": [0.7, None], "watch": [0.5, None]},
    "collection": {"good": [0.9, None], "watch": [0.75, None]},
    "claims_ratio": {"good": [0.6, 0.8], "watch": [0.4, 1.0]},
    "operating_cost_ratio": {"good": [None, 0.15], "watch": [None, 0.2]},
    "cost_recovery": {"good": [1.0, None], "watch": [0.9, None]},
    "cost_recovery_with_subsidies": {"good": [1.0, None], "watch": [0.9, None]},
}


def _inside(value: np.ndarray, bounds: Sequence[float | None]) -> np.ndarray:
    lo, hi = bounds
    ok = np.isfinite(value)
    if lo is not None:
        ok &= value >= lo
    if hi is not None:
        ok &= value <= hi
    return ok


def kpi_status(
    kpi: str, value: np.ndarray, thresholds: Mapping[str, Mapping[str, Sequence[float | None]]]
) -> np.ndarray:
    """Status of each value of one KPI: good, watch, alarm or not_available."""
    if kpi not in thresholds:
        raise ValueError(f"sustainability.kpi_thresholds has no entry for KPI {kpi!r}")
    v = np.asarray(value, dtype=float)
    t = thresholds[kpi]
    return np.select(
        [~np.isfinite(v), _inside(v, t["good"]), _inside(v, t["watch"])],
        ["not_available", "good", "watch"],
        default="alarm",
    ).astype(object)


def mutual_kpis(
    mutuals: pd.DataFrame,
    thresholds: Mapping[str, Mapping[str, Sequence[float | None]]] | None = None,
) -> pd.DataFrame:
    """DESIGN §8 KPIs per mutual and year, with their status.

    Parameters
    ----------
    mutuals
        Canonical register table (``results/clean/mutuals.parquet``): ``mutual,
        year`` and the amounts of :data:`KPI_DEFINITIONS`.
    thresholds
        Per KPI ``{"good": [lo, hi], "watch": [lo, hi]}``; default
        :data:`DEFAULT_THRESHOLDS`.

    Returns
    -------
    pandas.DataFrame
        Long table sorted by mutual, year and KPI (definition order): ``mutual, year,
        kpi, numerator, denominator, value, reason, status``.
    """
    thresholds = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    need = {"mutual", "year"} | {c for n, d in KPI_DEFINITIONS.values() for c in n + d}
    missing = sorted(need - set(mutuals.columns))
    if missing:
        raise ValueError(f"mutual registers lack column(s) {missing}")
    base = mutuals.sort_values(["mutual", "year"], kind="mergesort").reset_index(drop=True)
    parts = []
    for kpi, (num_cols, den_cols) in KPI_DEFINITIONS.items():
        num_parts = base[list(num_cols)].astype(float)
        den_parts = base[list(den_cols)].astype(float)
        num = num_parts.sum(axis=1, min_count=len(num_cols)).to_numpy()
        den = den_parts.sum(axis=1, min_count=len(den_cols)).to_numpy()
        missing_in = ~(np.isfinite(num) & np.isfinite(den))
        zero = ~missing_in & (den == 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(missing_in | zero, np.nan, num / np.where(den == 0, 1.0, den))
        reason = np.select([missing_in, zero], ["missing_input", "zero_denominator"], default="")
        parts.append(
            pd.DataFrame(
                {
                    "mutual": base["mutual"].astype(str).to_numpy(),
                    "year": base["year"].astype("int64").to_numpy(),
                    "kpi": kpi,
                    "numerator": num,
                    "denominator": den,
                    "value": value,
                    "reason": reason.astype(object),
                    "status": kpi_status(kpi, value, thresholds),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    order = {k: i for i, k in enumerate(KPI_DEFINITIONS)}
    out["_k"] = out["kpi"].map(order)
    out = out.sort_values(["mutual", "year", "_k"], kind="mergesort").drop(columns="_k")
    return out.reset_index(drop=True)


def programme_persistence(
    panel: pd.DataFrame,
    outcome: str,
    *,
    months: int = 24,
    level: float = 0.95,
    first_period: int | None = None,
) -> dict[str, Any]:
    """Persistence ratio of one outcome of one area's programme (module notes).

    Parameters
    ----------
    panel
        ``panel_{area}`` (``facility_id, t, group, end_t, reported`` and ``outcome``).
        Rows not reported or with a missing outcome are left out (unbalanced panel).
    outcome
        Outcome column, e.g. ``consultations_all_per_1000``.
    months
        Length of the "during" and "after" windows.
    level
        Confidence level.
    first_period
        Month number (``year * 12 + month - 1``) of ``t = 1``, to label windows as
        ``YYYYMM``; taken from the panel's ``month`` column when omitted.

    Returns
    -------
    dict
        ``end_t``, window bounds (``t`` and ``YYYYMM``), ``att_during``, ``att_after``
        with SEs, ``estimate`` (the ratio), ``se``, ``ci_low``, ``ci_high``,
        ``p_vs_1``, ``n_units``; or ``status = "skipped"`` with ``reason``.
    """
    treated = panel["group"] > 0
    if not treated.any():
        return {"status": "skipped", "reason": "no_treated_facility"}
    end_t = int(panel.loc[treated, "end_t"].max())
    last_t = int(panel["t"].max())
    if end_t <= 0:
        return {"status": "skipped", "reason": "no_end_date"}
    if end_t >= last_t:
        return {"status": "skipped", "reason": "no_month_after_end"}
    first = int(panel.loc[treated, "group"].min())
    during = list(range(max(first, end_t - months + 1), end_t + 1))
    after = list(range(end_t + 1, min(last_t, end_t + months) + 1))
    data = panel[panel["reported"].astype(bool) & panel[outcome].notna()]
    res = att_gt(data, outcome, "facility_id", "t", "group", control="never_treated", level=level)
    ratio = res.aggregate("calendar").ratio(after, during, level=level)
    row = ratio.table.iloc[0]
    if first_period is None:
        t0 = panel.iloc[0]
        first_period = int(t0["month"][:4]) * 12 + int(t0["month"][4:]) - 1 - (int(t0["t"]) - 1)
    label = lambda t: str(to_period(np.array([first_period + t - 1]))[0])  # noqa: E731
    return {
        "status": "ok",
        "end_t": end_t,
        "end_month": label(end_t),
        "during_from": label(during[0]),
        "during_to": label(during[-1]),
        "after_from": label(after[0]),
        "after_to": label(after[-1]),
        "n_during": len(during),
        "n_after": len(after),
        "att_during": float(row["denominator"]),
        "se_during": float(row["se_denominator"]),
        "att_after": float(row["numerator"]),
        "se_after": float(row["se_numerator"]),
        "estimate": float(row["estimate"]),
        "se": float(row["se"]),
        "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]),
        "p_vs_1": float(row["p_vs_1"]),
        "n_units": int(res.n_units),
        "inference": "delta method, facility-level influence functions",
        "warnings": ";".join(w.code for w in ratio.warnings),
    }


def persistence_table(
    panels: Mapping[str, pd.DataFrame],
    config: Mapping[str, Any],
    *,
    exclude: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Persistence of every facility analysis's outcomes (config ``analyses``).

    Parameters
    ----------
    panels
        ``{area: panel_{area}}``.
    config
        Validated config: ``analyses`` (facility ones give programme, area and
        outcomes), ``sustainability.persistence_months``, ``reporting.test_level``.
    exclude
        Values to leave out (``facility_id, month, indicator``), e.g. DQ outliers
        kept under ``dq.treatment: flag``.

    Returns
    -------
    pandas.DataFrame
        One row per programme × indicator: ``programme, area, analysis, indicator,
        outcome`` and the fields of :func:`programme_persistence`.
    """
    months = int(config.get("sustainability", {}).get("persistence_months", 24))
    level = 1.0 - float(config.get("reporting", {}).get("test_level", 0.05))
    rows = []
    for analysis in config.get("analyses", []):
        if analysis.get("data") != "facility" or analysis["area"] not in panels:
            continue
        panel = panels[analysis["area"]]
        for indicator in analysis["outcomes"]:
            base = indicator.removesuffix("_rate")
            outcome = f"{base}_per_1000"
            if outcome not in panel.columns:
                raise ValueError(
                    f"analysis {analysis['name']!r}: outcome {indicator!r} has no column "
                    f"{outcome!r} in panel_{analysis['area']}"
                )
            data = panel
            if exclude is not None and not exclude.empty:
                drop = exclude[exclude["indicator"] == base]
                key = pd.MultiIndex.from_arrays([panel["facility_id"], panel["month"]])
                out_key = pd.MultiIndex.from_arrays([drop["facility_id"], drop["month"]])
                data = panel.assign(**{outcome: panel[outcome].mask(key.isin(out_key))})
            LOG.info("persistence: %s %s", analysis["name"], outcome)
            rows.append(
                {
                    "programme": analysis.get("programme", ""),
                    "area": analysis["area"],
                    "analysis": analysis["name"],
                    "indicator": base,
                    "outcome": outcome,
                    **programme_persistence(data, outcome, months=months, level=level),
                }
            )
    return pd.DataFrame(rows)
