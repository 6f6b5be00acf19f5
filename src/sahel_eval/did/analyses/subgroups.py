"""Subgroup rows of a survey analysis and the test that the effects differ (DESIGN §4).

Only characteristics the programme cannot move split an analysis (``did.subgroups``;
the config check refuses scheme membership and wealth measured after the start):

* ``urban`` — residence of the respondent's cluster;
* ``sex`` — of the child (births, children: DHS ``b4``); the women's table is all
  female, so the config check refuses a sex split of its outcomes;
* ``cluster_wealth_quintile`` — the asset-based wealth quintile **of the cluster**:
  the weighted median of its households' asset-based quintiles (DHS ``hv270``), so a
  household that bought assets does not change its group.

Each subgroup names two groups (``groups``, first and second). For every primary
outcome of the analysis, every group and every later round, the 2×2 of
:func:`~sahel_eval.did.analyses.survey.round_fit` is re-run on the group's respondents
with the headline's assignment-level inference (randomisation over districts with
2 treated cercles or 1 treated commune), and its rows get the headline's verdicts; a
group with fewer than ``reporting.small_cell_k`` respondents in any arm × round cell
keeps a row with no number (``suppressed``). The equality test is in
:mod:`~sahel_eval.did.analyses.subgroup_gap`. Subgroup rows are exploratory: they take
no part in the Holm family of the primary outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.config_subgroups import subgroups_for
from sahel_eval.did.analyses.document import ESTIMATE_COLUMNS, _records
from sahel_eval.did.analyses.fits import _Fit
from sahel_eval.did.analyses.headline import apply_verdicts, primary_outcomes
from sahel_eval.did.analyses.settings import AnalysisSettings
from sahel_eval.did.analyses.subgroup_gap import gap_test
from sahel_eval.did.analyses.survey import outcome_frame, round_fit
from sahel_eval.errors import InputError, Problem

__all__ = ["CLUSTER_WEALTH", "SUBGROUP_COLUMNS", "cluster_wealth_quintile", "subgroup_section"]

CLUSTER_WEALTH = "cluster_wealth_quintile"
#: Columns of a subgroup row: the headline table's (no Holm: subgroups are exploratory),
#: the subgroup, its group (``group`` is the CS cohort), whether the row was suppressed
#: and its smallest cell.
SUBGROUP_COLUMNS = (
    *(c for c in ESTIMATE_COLUMNS if c not in ("p_holm", "holm_rejected", "robustness")),
    "subgroup",
    "group_name",
    "suppressed",
    "smallest_cell",
)


def cluster_wealth_quintile(households: pd.DataFrame) -> pd.Series:
    """Each cluster's (``psu``) asset-based wealth quintile: the weighted median of its
    households' ``wealth_quintile`` (the lowest quintile reaching half the weight)."""
    h = households.loc[households["wealth_quintile"].notna(), ["psu", "wealth_quintile", "weight"]]
    if h.empty:
        raise ValueError(
            "survey_households: column 'wealth_quintile' (DHS hv270) is empty; the "
            "subgroup variable cluster_wealth_quintile needs the asset-based quintile"
        )
    w = h.groupby(["psu", "wealth_quintile"], sort=True)["weight"].sum()
    share = w.groupby(level="psu").cumsum() / w.groupby(level="psu").transform("sum")
    reached = share[share >= 0.5 - 1e-12].reset_index()
    first = reached.groupby("psu", sort=True)["wealth_quintile"].first()
    return first.astype(float).rename(CLUSTER_WEALTH)


def _with_variable(frame: pd.DataFrame, variable: str, wealth: pd.Series | None) -> pd.DataFrame:
    if variable == CLUSTER_WEALTH:
        return frame.assign(**{CLUSTER_WEALTH: frame["psu"].map(wealth).astype(float)})
    return frame


def _group_codes(frame: pd.DataFrame, sub: Mapping[str, Any]) -> pd.Series:
    """0 for the first group, 1 for the second, NaN otherwise (e.g. the middle quintile)."""
    codes = pd.Series(np.nan, index=frame.index)
    column = frame[sub["variable"]]
    for code, group in enumerate(sub["groups"]):
        codes[column.isin(list(group["values"])).fillna(False).to_numpy(dtype=bool)] = code
    return codes


def _cells_ok(sub: pd.DataFrame, outcome: str, year: Any, k: int) -> tuple[bool, int]:
    """Whether every arm × round cell of a 2×2 has ≥ k respondents, and the smallest."""
    answered = sub[sub[outcome].notna()]
    counts = answered.groupby([answered["treated"].astype(int), answered["year"] == year]).size()
    smallest = int(counts.min()) if len(counts) == 4 else 0
    return smallest >= k, smallest


def _suppressed_row(spec: Mapping[str, Any], outcome: str, year: Any, smallest: int) -> dict:
    return {
        "analysis": spec["name"],
        "outcome": outcome,
        "variable": outcome,
        "round": float(year),
        "suppressed": True,
        "smallest_cell": smallest,
    }


def subgroup_section(
    spec: Mapping[str, Any], data: Mapping[str, pd.DataFrame], settings: AnalysisSettings
) -> dict[str, Any] | None:
    """The ``subgroups`` section of a survey analysis's document (None: none configured).

    ``estimates`` holds the tidy rows of every group's fits (columns of the headline
    table plus ``subgroup``, ``group_name``, ``suppressed``, ``smallest_cell``), ``tests``
    the equality tests, ``fits`` the facts of each group's fit.
    """
    subgroups = subgroups_for(spec, settings.subgroups)
    if not subgroups:
        return None
    wealth = None
    if any(s["variable"] == CLUSTER_WEALTH for s in subgroups.values()):
        wealth = cluster_wealth_quintile(data["households"])
    k = settings.small_cell_k
    frames: list[pd.DataFrame] = []
    suppressed: list[dict[str, Any]] = []
    fits: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    for outcome in primary_outcomes(spec, settings):
        frame, weight = outcome_frame(spec, data, outcome, settings)
        years = sorted(frame["year"].unique())
        for name, sub in subgroups.items():
            if sub["variable"] != CLUSTER_WEALTH and (
                sub["variable"] not in frame.columns or frame[sub["variable"]].isna().all()
            ):
                raise InputError(
                    "config",
                    [
                        Problem(
                            f"did.subgroups.{name}.variable",
                            "subgroup_variable_in_unit",
                            f"analysis '{spec['name']}': the survey table of primary "
                            f"outcome '{outcome}' has no {sub['variable']!r} values",
                        )
                    ],
                    hint="name the item under survey.variables.<unit> (sex: DHS b4 of "
                    "births and children), or drop the subgroup (config/README.md, did).",
                    column_label="key",
                )
            framed = _with_variable(frame, sub["variable"], wealth)
            codes = _group_codes(framed, sub)
            for year in years[1:]:
                for code, group in enumerate(sub["groups"]):
                    part = framed[codes == code]
                    label = {"subgroup": name, "group_name": group["name"]}
                    two = part[part["year"].isin([years[0], year])]
                    ok, smallest = _cells_ok(two, outcome, year, k)
                    if not ok:
                        suppressed.append(_suppressed_row(spec, outcome, year, smallest) | label)
                        continue
                    fit = _relabel(
                        round_fit(spec, part, outcome, weight, (years[0], year), settings),
                        label,
                        smallest,
                    )
                    fits.append(fit.facts)
                    frames.append(fit.rows)
                test = gap_test(
                    framed.assign(_group=codes), outcome, weight, (years[0], year), k, settings
                )
                tests.append(
                    {"outcome": outcome, "subgroup": name, "round": int(year)}
                    | {"groups": [g["name"] for g in sub["groups"]]}
                    | test
                )
    rows = pd.concat([_judged(frames, spec, settings), pd.DataFrame(suppressed)])
    rows = rows.reindex(columns=SUBGROUP_COLUMNS)
    for col in ("clusters", "treated_clusters", "n", "smallest_cell"):
        rows[col] = rows[col].astype("Int64")  # counts stay integers beside empty rows
    rows = rows.sort_values(
        ["outcome", "subgroup", "round", "group_name", "fit", "inference"], kind="mergesort"
    )
    return {
        "definitions": {n: dict(s) for n, s in subgroups.items()},
        "small_cell_k": k,
        "outcomes": primary_outcomes(spec, settings),
        "estimates": _records(rows.reset_index(drop=True)),
        "tests": tests,
        "fits": fits,
    }


def _relabel(fit: _Fit, label: Mapping[str, str], smallest: int) -> _Fit:
    fit_id = f"{fit.facts['fit']}:{label['subgroup']}={label['group_name']}"
    rows = fit.rows.assign(
        fit=fit_id, headline=False, suppressed=False, smallest_cell=smallest, **label
    )
    return _Fit(rows, dict(fit.facts, fit=fit_id, headline=False, **label))


def _judged(
    frames: list[pd.DataFrame], spec: Mapping[str, Any], settings: AnalysisSettings
) -> pd.DataFrame:
    """Verdicts as for the headline (DESIGN §6.1); exploratory, outside Holm's family."""
    if not frames:
        return pd.DataFrame(columns=list(SUBGROUP_COLUMNS))
    rows = pd.concat(frames, ignore_index=True)
    rows["robustness"] = None
    out = apply_verdicts(rows, spec, settings)
    out["family"] = "exploratory"
    return out
