"""Resilience summaries by district, area and programme status, and the programme comparison.

Median time to recovery with censoring
--------------------------------------
Every window is followed for the same time (H months) and censored only at its end,
so the share of windows recovered by ``τ`` months, ``F(τ)``, is the Kaplan–Meier
estimate with all assessable windows in the denominator (censored ones included).
The median is the smallest ``τ`` with ``F(τ) >= 0.5``; when fewer than half the
windows recover it is *not reached* (``median_tau`` empty, ``median_tau_reached``
false) rather than a median of the recovered ones only, which would flatter a
district where most facilities never recover.

Programme vs comparison (DiD engine)
------------------------------------
For each shock and the main service, two readings per facility: ``pre`` = Σ O ÷ Σ Ê
over the 12 months before onset (in-sample, ≈ 1) and ``post`` = the resilience index
(Σ O ÷ Σ Ê over the window). :func:`sahel_eval.did.did_2x2` on those rows gives

    δ = (post − pre | programme) − (post − pre | comparison),

the difference in resilience between facilities exposed to the programme at onset
(``group <= onset``) and the others, net of any pre-shock misfit. Programmes were
assigned to districts, so the headline is at that level (DESIGN §6.1): randomisation
inference (permuting which districts are treated) when every district is in one arm
at onset, and the wild cluster restricted bootstrap only with at least 5 treated and
5 comparison districts (fewer, and it is not valid: skipped, with the reason). With
neither, the assignment level shows nothing. Beside it, CRV1 clustered by facility,
conditional on no district-level shocks (``facility`` block). The engine's warning
codes (few treated clusters, not informative) are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did import did_2x2
from sahel_eval.did.assignment import wild_allowed
from sahel_eval.resilience.indicators import CLASSES

__all__ = ["aggregate_resilience", "compare_programme", "median_time_to_recovery"]

_MEANS = (
    "resilience_index",
    "loss_share",
    "absorption",
    "bounce_back",
    "continuity",
    "substitution",
)


def median_time_to_recovery(tau: Sequence[Any], censored: Sequence[bool]) -> tuple[float, bool]:
    """Median τ of windows censored at a common horizon (see the module notes).

    Parameters
    ----------
    tau
        Time to recovery per window (ignored where censored; may be NA there).
    censored
        True where the window did not recover.

    Returns
    -------
    (float, bool)
        The median (NaN when not reached or no window) and whether it was reached.
    """
    cens = np.asarray(censored, dtype=bool)
    n = cens.size
    if n == 0:
        return np.nan, False
    t = pd.to_numeric(pd.Series(list(tau)), errors="coerce").to_numpy(dtype=float)
    t = np.sort(t[~cens & np.isfinite(t)])
    k = int(np.ceil(0.5 * n))  # windows that must have recovered by the median
    if t.size < k:
        return np.nan, False
    return float(t[k - 1]), True


def _summary(frame: pd.DataFrame) -> dict[str, Any]:
    ok = frame[frame["assessable"].astype(bool)]
    out: dict[str, Any] = {"n_windows": len(frame), "n_assessable": len(ok)}
    for cls in CLASSES:
        n_cls = int((frame["class"] == cls).sum())
        out[f"n_{cls}"] = n_cls
        out[f"share_{cls}"] = n_cls / len(frame) if len(frame) else np.nan
    med, reached = median_time_to_recovery(ok["tau"], ok["censored"].astype(bool))
    out["median_tau"] = med
    out["median_tau_reached"] = reached
    out["n_censored"] = int(ok["censored"].astype(bool).sum())
    for col in _MEANS:
        vals = pd.to_numeric(ok[col], errors="coerce")
        out[f"mean_{col}"] = float(vals.mean()) if vals.notna().any() else np.nan
    return out


def aggregate_resilience(indicators: pd.DataFrame, *, area: str) -> pd.DataFrame:
    """Class shares, median τ and mean indicators per shock × service and level.

    Parameters
    ----------
    indicators
        :attr:`ResilienceResult.indicators` of one area.
    area
        Area name written in the ``area`` column.

    Returns
    -------
    pandas.DataFrame
        One row per ``level`` (``area``, ``programme``, ``district``) × group ×
        ``shock_id`` × ``service``: ``district`` (``""`` above district level),
        ``programme_status`` (``programme``, ``comparison`` or ``all``), counts and
        shares of each class (share of all windows), ``median_tau`` with
        ``median_tau_reached`` and ``n_censored``, and means over assessable windows
        of the indicators.
    """
    rows = []
    status = np.where(indicators["programme"].astype(bool), "programme", "comparison")
    ind = indicators.assign(programme_status=status)
    levels = (
        ("area", []),
        ("programme", ["programme_status"]),
        ("district", ["district"]),
    )
    for (shock, service), part in ind.groupby(["shock_id", "service"], sort=False):
        for level, keys in levels:
            groups = [((), part)] if not keys else part.groupby(keys, sort=True)
            for key, sub in groups:
                key = key if isinstance(key, tuple) else (key,)
                label = dict(zip(keys, key, strict=True))
                rows.append(
                    {
                        "area": area,
                        "level": level,
                        "district": label.get("district", ""),
                        "programme_status": label.get("programme_status", "all"),
                        "shock_id": shock,
                        "service": service,
                        **_summary(sub),
                    }
                )
    return pd.DataFrame(rows)


def compare_programme(
    indicators: pd.DataFrame,
    *,
    service: str,
    seed: int,
    level: float = 0.95,
    bootstrap: int = 9999,
) -> dict[str, Any]:
    """Resilience of programme vs comparison facilities per shock (see module notes).

    Parameters
    ----------
    indicators
        :attr:`ResilienceResult.indicators` of one area.
    service
        The service compared (the main one, e.g. ``consultations_all``).
    seed
        Seed of the wild bootstrap and randomisation draws.
    level
        Confidence level.
    bootstrap
        Random draws when enumeration is not used.

    Returns
    -------
    dict
        ``{"design", "service", "outcome", "shocks": {shock_id: {...}}}``; each shock
        holds ``status`` (``"ok"`` or ``"skipped"`` with ``reason``), facility counts,
        mean resilience index per arm, the ``wild`` and ``randomization`` results
        (:meth:`EstimateResult.to_dict`, or ``status: skipped`` with ``reason``) and
        the conditional facility-clustered ``facility`` result.
    """
    out: dict[str, Any] = {
        "design": (
            "did_2x2 on two readings per facility: pre = observed/expected over the 12 "
            "months before onset (in-sample), post = resilience index over the window; "
            "treat = exposed to the programme at onset; cluster = district"
        ),
        "service": service,
        "outcome": "resilience_index",
        "level": level,
        "shocks": {},
    }
    sel = indicators[
        (indicators["service"] == service)
        & indicators["assessable"].astype(bool)
        & indicators["resilience_index"].notna()
        & indicators["pre_ratio"].notna()
    ]
    for shock, part in indicators[indicators["service"] == service].groupby("shock_id", sort=False):
        data = sel[sel["shock_id"] == shock]
        entry: dict[str, Any] = {
            "n_facilities": int(len(part)),
            "n_programme": int(data["programme"].astype(bool).sum()),
            "n_comparison": int((~data["programme"].astype(bool)).sum()),
            "n_districts": int(data["district"].nunique()),
        }
        reason = None
        if entry["n_programme"] == 0:
            reason = "no_programme_facility"
        elif entry["n_comparison"] == 0:
            reason = "no_comparison_facility"
        elif entry["n_districts"] < 2:
            reason = "single_district"
        if reason:
            out["shocks"][shock] = {**entry, "status": "skipped", "reason": reason}
            continue
        prog = data["programme"].astype(bool)
        entry["mean_resilience_index_programme"] = float(data.loc[prog, "resilience_index"].mean())
        entry["mean_resilience_index_comparison"] = float(
            data.loc[~prog, "resilience_index"].mean()
        )
        long = pd.concat(
            [
                pd.DataFrame(
                    {
                        "y": data[reading].to_numpy(dtype=float),
                        "post": post,
                        "treat": prog.to_numpy(dtype=float),
                        "district": data["district"].to_numpy(),
                        "facility_id": data["facility_id"].to_numpy(),
                    }
                )
                for reading, post in (("pre_ratio", 0.0), ("resilience_index", 1.0))
            ],
            ignore_index=True,
        )
        entry["status"] = "ok"
        within = long.groupby("district")["treat"].nunique().max() > 1
        treated = int(data.loc[prog, "district"].nunique())
        controls = int(data["district"].nunique()) - treated
        for inference in ("wild", "randomization"):
            if inference == "randomization" and within:
                # Permuting districts needs one exposure per district; with staggered
                # facility starts some districts hold both arms at onset.
                entry[inference] = {
                    "status": "skipped",
                    "reason": "treatment_varies_within_district",
                }
                continue
            if inference == "wild" and not wild_allowed(treated, controls):
                entry[inference] = {
                    "status": "skipped",
                    "reason": "fewer_than_5_treated_or_comparison_districts",
                    "treated_clusters": treated,
                    "control_clusters": controls,
                }
                continue
            res = did_2x2(
                long,
                "y",
                "treat",
                "post",
                cluster="district",
                inference=inference,
                seed=seed,
                level=level,
                bootstrap=bootstrap,
            )
            entry[inference] = res.to_dict()
        entry["facility"] = did_2x2(
            long, "y", "treat", "post", cluster="facility_id", inference="cluster", level=level
        ).to_dict()
        out["shocks"][shock] = entry
    return out
