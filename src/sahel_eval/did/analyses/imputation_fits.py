"""The imputation estimator beside Callaway–Sant'Anna in a staggered analysis (§6.2).

Same horizons and weights as CS: the overall ATT (row ``simple``/``overall``: every
imputed facility-month weighs the same, as CS's simple aggregation weighs each cohort
by its facilities over its post months) and the ATT at each post event time CS reports
(rows ``dynamic``/``ATT(e=h)``). Two fits, as for CS:

* ``<outcome>:imputation:district_ri`` — assignment level: studentised RI over the
  same assignments as CS's (:mod:`~sahel_eval.did.imputation_ri`), test-inversion
  intervals at the attained level; the verdicts come from the shared table;
* ``<outcome>:imputation:facility`` — the BJS conservative variance clustered by
  facility, conditional on no district-level shocks.

Whether the two estimators differ by more than their intervals is decided here, as a
code in the RI fit's ``comparison`` facts (:func:`compare_with_cs`), never by a report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.did.analyses.assignment_fit import AssignmentRI, assignment_ri_fit
from sahel_eval.did.analyses.fits import _base_rows, _facts, _Fit, _Label, _Outcome, _ri_facts
from sahel_eval.did.imputation import imputation
from sahel_eval.did.imputation_ri import imputation_randomization_inference
from sahel_eval.did.inference.studentized import ci_note
from sahel_eval.did.results import EstimateResult, WarningCode

__all__ = ["compare_with_cs", "imputation_fits"]

_UNIT, _TIME, _GROUP = "facility_id", "t", "group"


def _term(h: float | None) -> str:
    return "overall" if h is None or pd.isna(h) else f"ATT(e={int(h)})"


def _rows(o: _Outcome, res: EstimateResult, tag: _Label) -> pd.DataFrame:
    table = res.table.assign(term=[_term(h) for h in res.table["event_time"]])
    overall = table["event_time"].isna()
    return pd.concat(
        [
            _base_rows(o, res, table[overall], tag, "simple"),
            _base_rows(o, res, table[~overall], tag, "dynamic"),
        ],
        ignore_index=True,
    )


def _facility_fit(o: _Outcome, horizons: list[int], treated: int) -> _Fit:
    res = imputation(
        o.data, o.variable, _UNIT, _TIME, _GROUP, horizons=horizons, level=o.settings.level
    )
    # Treated facilities not imputable (no untreated month of their own) are left out.
    res.info.update(treated_clusters=treated, n_dropped=res.info["n_not_imputable"])
    tag = _Label(f"{o.outcome}:imputation:facility", "imputation", "analytic", _UNIT, False)
    warns = [WarningCode("conditional_on_no_cluster_shocks", {"cluster": "district"})]
    facts = _facts(o, res, tag, extra_warnings=warns, note="conditional_on_no_cluster_shocks")
    facts.update(variance="bjs_conservative", avg_effects_by=["group", "t"])
    return _Fit(_rows(o, res, tag), facts)


def _ri_fit(o: _Outcome, horizons: list[int], facility: _Fit) -> _Fit:
    settings = o.settings
    ri = imputation_randomization_inference(
        o.data,
        o.variable,
        _UNIT,
        _TIME,
        _GROUP,
        "district",
        horizons=horizons,
        level=settings.level,
        draws=settings.wild_draws,
        seed=settings.seed_randomisation,
    )
    first = ri.results[0]
    by_term = {t: r.result for t, r in zip(ri.terms, ri.results, strict=True)}
    rows = facility.rows.copy()
    names = ["overall" if t == "overall" else f"ATT(e={t[2:]})" for t in ri.terms]
    res_of = dict(zip(names, by_term.values(), strict=True))
    for col in ("p", "ci_low", "ci_high"):
        rows[col] = [getattr(res_of[t], col) for t in rows["term"]]
    bounds = zip(rows["ci_low"], rows["ci_high"], strict=True)
    rows["ci_note"] = [ci_note(lo, hi) for lo, hi in bounds]
    label = AssignmentRI(
        fit_id=f"{o.outcome}:imputation:district_ri",
        clusters=first.clusters,
        treated_clusters=first.treated_clusters,
        p_min=first.result.p_min,
        confidence_attained=first.result.confidence_attained,
        permutations=first.permutations,
        seed=first.seed,
        headline=False,
    )
    return assignment_ri_fit(
        rows,
        facility.facts,
        label,
        settings.level,
        randomization=_ri_facts(
            first.permutations,
            first.enumerated,
            statistic="studentized_t_facility_bjs_conservative",
        ),
        pretest=None,
        note=None,
    )


def compare_with_cs(imp: pd.DataFrame, cs: pd.DataFrame) -> dict[str, Any]:
    """Do CS and imputation differ by more than their assignment-level intervals?

    On the overall (``simple``) row: ``differ_beyond_intervals`` when the two
    intervals are disjoint, ``within_intervals`` when they overlap,
    ``not_comparable`` when either has no bounded interval (not informative,
    unbounded). Over the shared post event times: how many pairs are disjoint.
    """
    key = ["aggregation", "term"]
    both = imp[key + ["estimate", "ci_low", "ci_high"]].merge(
        cs[key + ["estimate", "ci_low", "ci_high"]], on=key, suffixes=("_imp", "_cs")
    )
    bounds = both[["ci_low_imp", "ci_high_imp", "ci_low_cs", "ci_high_cs"]].to_numpy(float)
    bounded = np.isfinite(bounds).all(axis=1)
    disjoint = bounded & ((bounds[:, 1] < bounds[:, 2]) | (bounds[:, 3] < bounds[:, 0]))
    overall = (both["aggregation"] == "simple").to_numpy()
    if not overall.any():
        raise AssertionError("imputation/CS comparison: no overall row in both")
    i = int(np.flatnonzero(overall)[0])
    code = (
        "not_comparable"
        if not bounded[i]
        else "differ_beyond_intervals"
        if disjoint[i]
        else "within_intervals"
    )
    horizons = ~overall
    return {
        "with_fit": str(cs["fit"].iloc[0]),
        "cs_estimate": float(both["estimate_cs"].iloc[i]),
        "imputation_estimate": float(both["estimate_imp"].iloc[i]),
        "difference": float(both["estimate_imp"].iloc[i] - both["estimate_cs"].iloc[i]),
        "verdict": code,
        "horizons_compared": int((horizons & bounded).sum()),
        "horizons_disjoint": int((horizons & disjoint).sum()),
    }


def imputation_fits(o: _Outcome, cs_headline: _Fit, horizons: list[int]) -> list[_Fit]:
    """The assignment-level and facility-level imputation fits of one outcome, the
    first with its comparison with ``cs_headline`` (CS's RI fit of the same outcome)."""
    treated = int(o.data.loc[o.data[_GROUP] > 0, _UNIT].nunique())
    facility = _facility_fit(o, horizons, treated)
    ri = _ri_fit(o, horizons, facility)
    cs = cs_headline.rows[cs_headline.rows["aggregation"].isin(["simple", "dynamic"])]
    ri.facts["comparison"] = compare_with_cs(ri.rows, cs)
    return [ri, facility]
