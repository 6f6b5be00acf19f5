"""Sustainability (DESIGN §8): mutual-insurance KPIs and persistence of programme effects.

Mutual-insurance KPIs, per mutual, scheme and year
--------------------------------------------------
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
affordability                 contribution_per_beneficiary         consumption_per_person
============================  ===================================  =========================

``consumption_per_person`` (:func:`consumption_per_person`) is annual household
consumption per person in the mutual's area (config ``mutuals.areas``) from the latest
survey round up to the register's year: Σ weight × consumption ÷ Σ weight × household
size, the person-weighted mean of DESIGN §4.

A KPI whose denominator is 0 (a mutual's first year has no renewals due) or whose
inputs are missing has no value: ``value`` is empty and ``reason`` says why
(``zero_denominator``, ``missing_input``), and its status is ``not_available``. A KPI
that does not apply to a scheme (config ``sustainability.kpi_not_applicable``: RAMED
members pay no contribution, so collection and renewal mean nothing for them) has no
value either, status and reason ``not_applicable``: never a zero.

Status: ``good`` when the value lies in the KPI's ``good`` interval, else ``watch``
when it lies in its ``watch`` interval, else ``alarm`` (intervals closed; ``null``
bounds open-ended; thresholds from config ``sustainability.kpi_thresholds``).

Persistence
-----------
``persistence = mean calendar-time ATT over the 24 months after the programme's end
÷ mean over its last 24 months (or all its months, if fewer)`` is computed in one
place, :func:`sahel_eval.did.persistence.persistence_ratio`, by the DiD analyses for
each facility-clustered Callaway–Sant'Anna fit, with the delta-method SE and the
Fieller set from that fit's influence functions (:mod:`sahel_eval.did.fieller`,
conditional on no district-level shocks); beside it, the headline at the assignment
level by the Conley–Taber idea (:mod:`sahel_eval.did.persistence_ri`: Mopti p_min =
1/16, Bamako one treated commune, so ``not_informative`` at 5 %).
:func:`persistence_table` lays those records out as
``results/sustainability/persistence.csv``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_THRESHOLDS",
    "KPI_DEFINITIONS",
    "STATUSES",
    "consumption_per_person",
    "kpi_status",
    "mutual_kpis",
    "PERSISTENCE_COLUMNS",
    "persistence_table",
]

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
    "affordability": (("contribution_per_beneficiary",), ("consumption_per_person",)),
}

STATUSES = ("good", "watch", "alarm", "not_available", "not_applicable")

#: Defaults of config ``sustainability.kpi_thresholds`` (sources in config/README.md).
DEFAULT_THRESHOLDS: dict[str, dict[str, list[float | None]]] = {
    "penetration": {"good": [0.15, None], "watch": [0.05, None]},
    "renewal": {"good": [0.7, None], "watch": [0.5, None]},
    "collection": {"good": [0.9, None], "watch": [0.75, None]},
    "claims_ratio": {"good": [0.6, 0.8], "watch": [0.4, 1.0]},
    "operating_cost_ratio": {"good": [None, 0.15], "watch": [None, 0.2]},
    "cost_recovery": {"good": [1.0, None], "watch": [0.9, None]},
    "cost_recovery_with_subsidies": {"good": [1.0, None], "watch": [0.9, None]},
    "affordability": {"good": [None, 0.03], "watch": [None, 0.05]},
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


def consumption_per_person(
    mutuals: pd.DataFrame, households: pd.DataFrame, areas: Mapping[str, str]
) -> pd.Series:
    """Annual consumption per person behind each register row (NaN where unknown).

    Parameters
    ----------
    mutuals
        Canonical register table (``mutual``, ``year``).
    households
        ``results/clean/survey_households.parquet`` (``area, year, weight,
        consumption, household_size``).
    areas
        Config ``mutuals.areas``: mutual name -> area key; a mutual not listed has no
        consumption (its affordability is ``not_available``).

    Returns
    -------
    pandas.Series
        Aligned with ``mutuals``: Σ w·consumption ÷ Σ w·size over the area's households
        of the latest round whose year is ≤ the row's year (NaN before the first round).
    """
    h = households.dropna(subset=["consumption", "household_size"])
    h = h[h["household_size"] > 0]
    sums = (
        h.assign(wc=h["weight"] * h["consumption"], ws=h["weight"] * h["household_size"])
        .groupby(["area", "year"])[["wc", "ws"]]
        .sum()
    )
    per_person = (sums["wc"] / sums["ws"]).to_dict()
    rounds = sorted({int(y) for _, y in per_person})
    out = []
    for m, y in zip(mutuals["mutual"], mutuals["year"], strict=True):
        past = [r for r in rounds if r <= int(y)]
        area = areas.get(str(m))
        out.append(per_person.get((area, past[-1]), np.nan) if past and area else np.nan)
    return pd.Series(out, index=mutuals.index, dtype=float)


def mutual_kpis(
    mutuals: pd.DataFrame,
    thresholds: Mapping[str, Mapping[str, Sequence[float | None]]] | None = None,
    not_applicable: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """DESIGN §8 KPIs per mutual, scheme and year, with their status.

    Parameters
    ----------
    mutuals
        Canonical register table (``results/clean/mutuals.parquet``): ``mutual,
        scheme, year`` and the amounts of :data:`KPI_DEFINITIONS`, with
        ``consumption_per_person`` (:func:`consumption_per_person`) added.
    thresholds
        Per KPI ``{"good": [lo, hi], "watch": [lo, hi]}``; default
        :data:`DEFAULT_THRESHOLDS`.
    not_applicable
        Scheme (as written in the registers' ``scheme`` column) -> KPIs that do not
        apply to it (config ``sustainability.kpi_not_applicable``).

    Returns
    -------
    pandas.DataFrame
        Long table sorted by mutual, scheme, year and KPI (definition order):
        ``mutual, scheme, year, kpi, numerator, denominator, value, reason, status``.
    """
    thresholds = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    not_applicable = {} if not_applicable is None else not_applicable
    unknown = sorted({k for ks in not_applicable.values() for k in ks} - set(KPI_DEFINITIONS))
    if unknown:
        raise ValueError(
            f"sustainability.kpi_not_applicable names unknown KPI(s) {unknown}; "
            f"known: {list(KPI_DEFINITIONS)}"
        )
    keys = ["mutual", "scheme", "year"]
    need = set(keys) | {c for n, d in KPI_DEFINITIONS.values() for c in n + d}
    missing = sorted(need - set(mutuals.columns))
    if missing:
        raise ValueError(f"mutual registers lack column(s) {missing}")
    base = mutuals.sort_values(keys, kind="mergesort").reset_index(drop=True)
    scheme = base["scheme"].astype(str).to_numpy()
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
        na = np.array([kpi in not_applicable.get(s, ()) for s in scheme], dtype=bool)
        value = np.where(na, np.nan, value)
        reason = np.select(
            [na, missing_in, zero],
            ["not_applicable", "missing_input", "zero_denominator"],
            default="",
        )
        status = np.where(na, "not_applicable", kpi_status(kpi, value, thresholds)).astype(object)
        parts.append(
            pd.DataFrame(
                {
                    "mutual": base["mutual"].astype(str).to_numpy(),
                    "scheme": scheme,
                    "year": base["year"].astype("int64").to_numpy(),
                    "kpi": kpi,
                    "numerator": num,
                    "denominator": den,
                    "value": value,
                    "reason": reason.astype(object),
                    "status": status,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    order = {k: i for i, k in enumerate(KPI_DEFINITIONS)}
    out["_k"] = out["kpi"].map(order)
    out = out.sort_values([*keys, "_k"], kind="mergesort").drop(columns="_k")
    return out.reset_index(drop=True)


#: Fields of a persistence record copied unchanged into the table.
_RATIO_FIELDS = (
    "att_during",
    "se_during",
    "att_after",
    "se_after",
    "estimate",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "ci_note",
    "p_vs_1",
    "p_vs_0",
    "n_units",
    "inference",
    "control_clusters",
    "permutations",
    "p_min",
    "confidence_attained",
    "verdict",
)
#: Columns of ``results/sustainability/persistence.csv``, in order.
PERSISTENCE_COLUMNS = (
    "programme",
    "area",
    "analysis",
    "indicator",
    "outcome",
    "status",
    "reason",
    "fit",
    "cluster",
    "clusters",
    "treated_clusters",
    "headline",
    "conditional",
    "end_t",
    "end_month",
    "during_from",
    "during_to",
    "after_from",
    "after_to",
    "n_during",
    "n_after",
    *_RATIO_FIELDS,
    "ci_set",
    "warnings",
)


def persistence_table(documents: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Persistence of every facility analysis's outcomes, from the DiD documents.

    The ratios are computed once, by :func:`sahel_eval.did.persistence.persistence_ratio`
    inside :func:`sahel_eval.did.analyses.run_analysis`, for every Callaway–Sant'Anna
    fit (the assignment level and the facility level); this table lays them out.

    Parameters
    ----------
    documents
        Analysis documents (``results/estimates/{analysis}.json``, i.e.
        :func:`~sahel_eval.did.analyses.analysis_document`); survey analyses, which
        carry no persistence records, add no rows.

    Returns
    -------
    pandas.DataFrame
        One row per programme × indicator × cluster level, columns
        :data:`PERSISTENCE_COLUMNS`. ``headline`` marks the assignment-level
        (Conley–Taber) row, the only one with a ``verdict`` (``not_informative`` when
        its smallest attainable p exceeds the test level, with no p or set); the
        facility-level Fieller row beside it is ``conditional`` (on no district-level
        shocks, DESIGN §6.1). ``ci_set`` is the confidence set as JSON pieces
        ``[[low, high], …]`` (null ends unbounded), so that an unbounded set is read
        as a set. ``status`` is ``ok``, or ``skipped`` with a warning code in
        ``reason``.
    """
    rows = []
    for doc in documents:
        spec = doc["analysis"]
        variables = {f["outcome"]: f["variable"] for f in doc["fits"]}
        for r in doc.get("persistence") or []:
            base = r["outcome"].removesuffix("_rate").removesuffix("_per_1000")
            ok = r.get("estimate") is not None
            codes = [w["code"] for w in r.get("warnings", [])]
            rows.append(
                {
                    "programme": spec.get("programme", ""),
                    "area": spec["area"],
                    "analysis": spec["name"],
                    "indicator": base,
                    "outcome": variables[r["outcome"]],
                    "status": "ok" if ok else "skipped",
                    "reason": "" if ok else ";".join(codes),
                    "fit": r["fit"],
                    "cluster": r["cluster"],
                    "clusters": r.get("clusters"),
                    "treated_clusters": r.get("treated_clusters"),
                    "headline": bool(r["headline"]),
                    "conditional": bool(r["conditional"]),
                    "end_t": r["end_t"],
                    "end_month": r.get("end_month"),
                    "during_from": r.get("during_from"),
                    "during_to": r.get("during_to"),
                    "after_from": r.get("after_from"),
                    "after_to": r.get("after_to"),
                    "n_during": r.get("n_during"),
                    "n_after": r.get("after_months"),
                    **{k: r.get(k) for k in _RATIO_FIELDS},
                    "ci_set": None if r.get("ci_set") is None else json.dumps(r["ci_set"]),
                    "warnings": ";".join(codes),
                }
            )
    return pd.DataFrame(rows, columns=list(PERSISTENCE_COLUMNS))
