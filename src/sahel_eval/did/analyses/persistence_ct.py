"""The assignment-level persistence record beside the facility-level one (DESIGN §6.1).

:func:`~sahel_eval.did.persistence_ri.conley_taber_persistence` over the districts,
on the same windows and the same point estimates as the facility fit's record
(:func:`~sahel_eval.did.persistence.persistence_ratio`). The Conley–Taber record is
the headline (``headline: true``, a ``verdict``); the facility-level Fieller record is
marked ``conditional`` (on no district-level shocks) and never sets a verdict.
"""

from __future__ import annotations

from typing import Any

from sahel_eval.did.analyses.fits import _Outcome
from sahel_eval.did.cs.aggregate import AggregateResult
from sahel_eval.did.persistence_ri import conley_taber_persistence
from sahel_eval.did.results import WarningCode

__all__ = ["conley_taber_record"]

#: Window and label fields the two records share.
_WINDOW = (
    "end_t",
    "during_t",
    "after_t",
    "n_during",
    "after_months",
    "end_month",
    "during_from",
    "during_to",
    "after_from",
    "after_to",
    "n_units",
)


def conley_taber_record(
    o: _Outcome, cal: AggregateResult, facility: dict[str, Any], att_gt_options: dict[str, str]
) -> dict[str, Any]:
    """The Conley–Taber record of one outcome; marks ``facility`` conditional in place."""
    facility.update(headline=False, conditional=True)
    base = {
        "outcome": o.outcome,
        "fit": f"{o.outcome}:persistence:district_ct",
        "cluster": "district",
        "inference": "conley_taber",
        "headline": True,
        "conditional": False,
        **{k: facility.get(k) for k in _WINDOW},
        # Same estimator, same sample: the point estimates are the facility fit's.
        "att_during": facility.get("att_during"),
        "att_after": facility.get("att_after"),
        "method": "Conley-Taber: placebo assignments among the control districts only, "
        "test of after - rho * before = 0 inverted over rho",
    }
    if facility.get("estimate") is None:
        # A window is empty: no ratio at any level (the facility record says why).
        return {**base, "estimate": None, "warnings": list(facility["warnings"])}
    table = cal.table.dropna(subset=["time"])
    time = table["time"].astype(int)
    during, after = facility["during_t"], facility["after_t"]
    terms = {
        "after_terms": list(table.loc[time.between(*after), "term"]),
        "during_terms": list(table.loc[time.between(*during), "term"]),
    }
    s = o.settings
    rec = conley_taber_persistence(
        o.data,
        o.variable,
        unit=att_gt_options["unit"],
        time=att_gt_options["time"],
        group=att_gt_options["group"],
        cluster="district",
        **terms,
        actual_after=facility["att_after"],
        actual_during=facility["att_during"],
        level=s.level,
        draws=s.wild_draws,
        seed=s.seed_randomisation,
        **{k: att_gt_options[k] for k in ("control", "method", "unbalanced")},
    )
    warns = [w for w in facility["warnings"] if w["code"] == "persistence_short_window"]
    if rec["verdict"] == "not_informative":
        params = {
            "treated": rec["treated_clusters"],
            "p_min": rec["p_min"],
            "level": s.level,
            "inference": "conley_taber",
        }
        warns.append(WarningCode("not_informative", params).to_dict())
    return {**base, **rec, "warnings": warns}
