"""Subgroup rows of a facility analysis and the test that the effects differ (DESIGN §4).

A facility analysis splits by what the programme cannot move about a CSCOM: its
residence, ``facility_urban`` of the panel (from the facility list's type,
``did.facility_residence``). For every primary outcome and each of the subgroup's two
groups, the headline summary — Callaway–Sant'Anna's simple overall ATT (staggered) or
the static TWFE (single start) — is re-run on the group's CSCOMs with the headline's
assignment-level randomisation inference over the same districts and roll-out
(:func:`~sahel_eval.did.analyses.balanced.subsample_fits`), and its rows get the
headline's verdicts; they are exploratory (outside Holm's family). A group with fewer
than ``did.subgroup_min_facilities`` CSCOMs in the treated or the comparison arm keeps
a row with no number (``suppressed``); so does a group the estimator cannot run on
(``not_estimable``: e.g. Callaway–Sant'Anna needs, for every cohort, a CSCOM reporting
in each month and its base month, which a cohort of one or two CSCOMs often lacks).
A group with no CSCOM at all in the area is
refused (InputError, rule ``facility_subgroup_both_groups``), as ``make check`` does.

The equality test is the survey one (:func:`~sahel_eval.did.analyses.subgroup_gap.gap_test`,
RI over the same district assignments on the programme's effect on the
within-district gap, a sharp null) on facility means: each CSCOM's mean rate before
the programme's first exposed month and from it on, averaged over the district's
CSCOMs of each group (each CSCOM weighs the same, as in the estimand); a district
enters when both groups have a CSCOM there. The rows' and test's ``round`` is that
first exposed month (``YYYYMM``), their ``baseline`` the first month of the panel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from sahel_eval.config_subgroups import FACILITY_GROUP_HINT, subgroups_for
from sahel_eval.did.analyses.balanced import subsample_fits
from sahel_eval.did.analyses.document import _records
from sahel_eval.did.analyses.facility import _variable
from sahel_eval.did.analyses.fits import _Fit
from sahel_eval.did.analyses.headline import primary_outcomes
from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.analyses.subgroup_gap import gap_test
from sahel_eval.did.analyses.subgroups import SUBGROUP_COLUMNS, _group_codes, _judged
from sahel_eval.errors import InputError, Problem

__all__ = ["FACILITY_SUBGROUP_COLUMNS", "facility_gap_frame", "facility_subgroup_section"]

#: A facility subgroup row: the survey one's, and whether the estimator could not run
#: on the group (``not_estimable``: no number, the estimate log says why).
FACILITY_SUBGROUP_COLUMNS = (*SUBGROUP_COLUMNS, "not_estimable")


def _arm_counts(panel: pd.DataFrame) -> tuple[int, int]:
    """CSCOMs in the treated and the comparison arm of ``panel``."""
    units = panel.drop_duplicates("facility_id")
    treated = int((units["group"] > 0).sum())
    return treated, len(units) - treated


def facility_gap_frame(panel: pd.DataFrame, variable: str, codes: pd.Series) -> pd.DataFrame:
    """One row per CSCOM × window (``year`` 0 before the first exposed month, 1 from it
    on): ``district``, ``treated`` (its district holds a treated CSCOM), ``_group``, the
    CSCOM's mean of ``variable`` and a unit weight — the input of
    :func:`~sahel_eval.did.analyses.subgroup_gap.gap_test`."""
    first = int(panel.loc[panel["group"] > 0, "group"].min())
    treated_districts = set(panel.loc[panel["group"] > 0, "district"])
    f = panel.assign(_group=codes.to_numpy(), year=(panel["t"] >= first).astype(int))
    means = (
        f[f["_group"].notna()]
        .groupby(["facility_id", "district", "_group", "year"], sort=True)[variable]
        .mean()
        .reset_index()
    )
    means["treated"] = means["district"].isin(treated_districts).astype(int)
    means["_w"] = 1.0
    return means


def _refuse_empty(
    spec: Mapping[str, Any], name: str, sub: Mapping[str, Any], codes: pd.Series
) -> None:
    """InputError when a group has no CSCOM in the panel (the config check's rule)."""
    for code, group in enumerate(sub["groups"]):
        if not (codes == code).any():
            raise InputError(
                "config",
                [
                    Problem(
                        f"did.subgroups.{name}.groups",
                        "facility_subgroup_both_groups",
                        f"analysis '{spec['name']}' (area {spec['area']}) has no CSCOM in "
                        f"group '{group['name']}': its CSCOMs cannot be split by residence",
                    )
                ],
                hint=FACILITY_GROUP_HINT,
                column_label="key",
            )


def _empty_row(
    spec: Mapping[str, Any], outcome: str, rnd: int, smallest: int, name: str, group: str
) -> dict[str, Any]:
    """A group's row with no number: suppressed (too few CSCOMs in an arm) by default."""
    return {
        "analysis": spec["name"],
        "outcome": outcome,
        "variable": outcome,
        "round": float(rnd),
        "suppressed": True,
        "not_estimable": False,
        "smallest_cell": smallest,
        "subgroup": name,
        "group_name": group,
    }


def _relabel(fit: _Fit, name: str, group: str, rnd: int, smallest: int) -> _Fit:
    label = {"subgroup": name, "group_name": group}
    rows = fit.rows.assign(
        round=float(rnd),
        robustness=None,
        suppressed=False,
        not_estimable=False,
        smallest_cell=smallest,
        **label,
    )
    facts = {k: v for k, v in fit.facts.items() if k != "robustness"}
    return _Fit(rows, dict(facts, **label))


def facility_subgroup_section(
    spec: Mapping[str, Any], panel: pd.DataFrame, settings: AnalysisSettings
) -> dict[str, Any] | None:
    """The ``subgroups`` section of a facility analysis's document (None: no facility
    subgroup splits this analysis). Same shape as the survey one
    (:func:`~sahel_eval.did.analyses.subgroups.subgroup_section`), plus ``unit``
    (``per_1000``) and ``post_from`` (the first exposed month)."""
    subgroups = subgroups_for(spec, settings.subgroups)
    if not subgroups:
        return None
    k = settings.subgroup_min_facilities
    first_t = int(panel.loc[panel["group"] > 0, "group"].min())
    months = panel.drop_duplicates("t").set_index("t")["month"].astype(str)
    rnd, base = int(months[first_t]), int(months[int(panel["t"].min())])
    outcomes = primary_outcomes(spec, settings)
    frames: list[pd.DataFrame] = []
    suppressed: list[dict[str, Any]] = []
    fits: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    for name, sub in subgroups.items():
        codes = _group_codes(panel, sub)
        _refuse_empty(spec, name, sub, codes)
        for code, group in enumerate(sub["groups"]):
            part = panel[(codes == code).to_numpy()]
            smallest = min(_arm_counts(part))
            if smallest < k:
                suppressed += [
                    _empty_row(spec, o, rnd, smallest, name, group["name"]) for o in outcomes
                ]
                continue
            facts = {"subsample": f"{name}={group['name']}"}
            for outcome in outcomes:
                got = subsample_fits(dict(spec, outcomes=[outcome]), part, facts, settings)
                if not got:
                    # The estimator could not run on the group (the log says why, e.g. a
                    # cohort with no CSCOM reporting in a month it needs): a row that says
                    # so, with no number.
                    suppressed.append(
                        _empty_row(spec, outcome, rnd, smallest, name, group["name"])
                        | {"suppressed": False, "not_estimable": True}
                    )
                for fit in got:
                    fit = _relabel(fit, name, group["name"], rnd, smallest)
                    fits.append(fit.facts)
                    frames.append(fit.rows)
        for outcome in outcomes:
            variable = _variable(panel, outcome, spec, settings)
            gaps = facility_gap_frame(panel, variable, codes)
            test = gap_test(gaps, variable, "_w", (0, 1), 1, settings)
            tests.append(
                {"outcome": outcome, "subgroup": name, "round": rnd}
                | {"groups": [g["name"] for g in sub["groups"]]}
                | test
                | {"baseline": base}
            )
    rows = pd.concat([_judged(frames, spec, settings), pd.DataFrame(suppressed)])
    rows = rows.reindex(columns=FACILITY_SUBGROUP_COLUMNS)
    rows["not_estimable"] = rows["not_estimable"].astype(bool)
    for col in ("clusters", "treated_clusters", "n", "smallest_cell"):
        rows[col] = rows[col].astype("Int64")
    rows = rows.sort_values(
        ["outcome", "subgroup", "round", "group_name", "fit", "inference"], kind="mergesort"
    )
    return {
        "definitions": {n: dict(s) for n, s in subgroups.items()},
        "small_cell_k": k,
        "outcomes": outcomes,
        "unit": "per_1000",
        "post_from": months[first_t],
        "estimates": _records(rows.reset_index(drop=True)),
        "tests": tests,
        "fits": fits,
    }
