"""Survey harmonisation: interim recode files -> canonical ``survey_{unit}`` tables (DESIGN §3-4).

One interim file (one round, one unit, as written by :func:`sahel_eval.ingest.ingest_survey`)
plus its label sidecar goes in; a table with round-unique design ids, named geography,
programme arm and DHS-defined outcomes comes out. :func:`clean_survey_rounds` stacks the
rounds of a unit into one table.

Its rules, each configurable through
:class:`~sahel_eval.clean.survey_settings.SurveySettings`, live beside it: missing and
labelled codes in :mod:`sahel_eval.clean.survey_codes`, the outcome recodes in
:mod:`sahel_eval.clean.survey_recodes`, design ids and prevalences in
:mod:`sahel_eval.clean.survey_design`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean.survey_codes import (
    ROW_LABEL,
    check_design,
    check_labelled_codes,
    labelled_category,
    set_missing_codes,
)
from sahel_eval.clean.survey_design import collapse_single_psu_strata, design_ids
from sahel_eval.clean.survey_recodes import (
    recode_births,
    recode_children,
    recode_households,
    recode_women,
)
from sahel_eval.clean.survey_settings import Programme, SurveySettings
from sahel_eval.errors import InputError, problem
from sahel_eval.survey_outcomes import OUTCOMES

__all__ = ["ID_NAMES", "OUTCOMES", "clean_survey_file", "clean_survey_rounds"]

ID_NAMES = {
    "households": "household_id",
    "women": "woman_id",
    "births": "woman_id",
    "children": "woman_id",
}

# --- harmonisation ----------------------------------------------------------------------


def _label_map(labels: Mapping[str, str] | None) -> dict[float, str]:
    return {float(c): str(v) for c, v in (labels or {}).items()}


def _text_or_label(values: pd.Series, labels: Mapping[str, str] | None) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        lookup = _label_map(labels)
        return values.astype(float).map(lookup).astype("string")
    return values.astype("string").str.strip()


def _geography(
    frame: pd.DataFrame,
    variables: Mapping[str, Any],
    value_labels: Mapping[str, Mapping[str, str]],
    settings: SurveySettings,
    district_labels: Mapping[str, str] | None,
    file: str,
) -> pd.DataFrame:
    """region, district, commune, area (names), resolving the district per DESIGN §3."""
    dvar, cvar, rvar = variables["district"], variables["commune"], variables["region"]
    known = {d: area for area, (_, ds) in settings.areas.items() for d in ds}
    region_area = {region: area for area, (region, _) in settings.areas.items()}
    commune = _text_or_label(frame[cvar], value_labels.get(cvar))
    # District: its own labels, else labels shared by the round's other files, else a
    # commune that is itself a district (Bamako), else the commune -> district map.
    labels = value_labels.get(dvar) or district_labels
    district = _text_or_label(frame[dvar], labels)
    from_commune = commune.map(lambda c: c if c in known else settings.commune_districts.get(c))
    district = district.fillna(from_commune.astype("string"))
    region = _text_or_label(frame[rvar], value_labels.get(rvar))
    area = district.map(known).astype("string")
    # A district spelled differently from the config inside a study region is an error,
    # not "outside the study": it would silently drop respondents.
    unplaced = area.isna() & (region.isin(list(region_area)) | region.isna())
    if unplaced.any():
        bad = unplaced.to_numpy()
        positions = np.flatnonzero(bad)
        raise InputError(
            file,
            [
                problem(
                    dvar,
                    "known_district",
                    "district not found in `areas` of the config (from its value "
                    "label, or the commune)",
                    positions.tolist(),
                    [f"{frame[dvar].iat[i]} / {commune.iat[i]}" for i in positions[:5]],
                    row_offset=1,
                )
            ],
            hint="label the district codes, spell the district as under `areas`, or map "
            "the commune under survey.commune_districts in the config.",
            row_label=ROW_LABEL,
        )
    region = region.fillna(area.map({a: r for a, (r, _) in settings.areas.items()}))
    return pd.DataFrame(
        {"region": region, "district": district, "commune": commune, "area": area},
        index=frame.index,
    )


def _assignment(area: pd.Series, district: pd.Series, settings: SurveySettings) -> pd.DataFrame:
    """Programme of the area and arm of the district (first programme of an area)."""
    by_area: dict[str, Programme] = {}
    for prog in settings.programmes:
        by_area.setdefault(prog.area, prog)
    programme = area.map({a: p.name for a, p in by_area.items()}).astype("string")
    treated_pairs = {(p.area, d) for p in by_area.values() for d in p.districts}
    treated = pd.Series(
        [
            (1.0 if (a, d) in treated_pairs else 0.0) if pd.notna(p) else np.nan
            for a, d, p in zip(area, district, programme, strict=True)
        ],
        index=area.index,
    )
    arm = treated.map({1.0: "treated", 0.0: "comparison"}).astype("string")
    return pd.DataFrame(
        {"programme": programme, "arm": arm, "treated": treated.astype("Int64")},
        index=area.index,
    )


#: Units whose respondents are all women (the DHS individual recode): sex is constant.
WOMEN_ONLY_UNITS = ("women",)


def _sex(data: pd.DataFrame, unit: str, svar: str | None, settings: SurveySettings) -> pd.Series:
    """Canonical ``sex`` (``male`` / ``female``, missing otherwise): the configured item
    (DHS ``b4`` for births and children) through ``survey.codes.sex``; ``female`` for
    every row of the women's recode; missing when the unit has no such item."""
    if unit in WOMEN_ONLY_UNITS:
        return pd.Series("female", index=data.index, dtype="string")
    if not svar or svar not in data:
        return pd.Series(pd.NA, index=data.index, dtype="string")
    code = data[svar].astype(float)
    names = {float(c): name for name, c in settings.sex_codes.items()}
    return code.map(names).astype("string")


_COVARIATE_LABELS = {"v106": "education", "hv270": "wealth_label", "v190": "wealth_label"}


def clean_survey_file(
    frame: pd.DataFrame,
    labels: Mapping[str, Any],
    *,
    unit: str,
    variables: Mapping[str, Any],
    settings: SurveySettings,
    district_labels: Mapping[str, str] | None = None,
    file: str | None = None,
) -> pd.DataFrame:
    """One interim survey file -> rows of the canonical ``survey_{unit}`` table.

    Parameters
    ----------
    frame
        Interim table from :func:`sahel_eval.ingest.ingest_survey` (``round``,
        ``round_year``, hashed id, raw DHS names).
    labels
        Its sidecar (``value_labels``, ``file``, ``round``, ``year``).
    unit
        ``households``, ``women``, ``births`` or ``children``.
    variables
        ``survey.variables.<unit>`` of the config (names of id and design roles).
    settings
        See :class:`SurveySettings`.
    district_labels
        Labels of the district code to use when this file has none (e.g. the same
        round's household file).
    file
        Name for error messages (default: the sidecar's ``file``).

    Returns
    -------
    pandas.DataFrame
        ``round, year, <id>, psu, strata, weight, region, district, commune, area,
        urban, sex, programme, arm, treated``, the unit's outcomes (:data:`OUTCOMES`) and
        covariates; one row per input row, in input order.

    Raises
    ------
    InputError
        Weight ≤ 0, a missing PSU / stratum (``check_design``), an unlabelled code of a
        categorical variable (``check_labelled_codes``), an unknown district.
    """
    if unit not in OUTCOMES:
        raise ValueError(f"unit must be one of {tuple(OUTCOMES)}, got {unit!r}")
    file = file or str(labels.get("file", f"survey {unit}"))
    value_labels: Mapping[str, Mapping[str, str]] = labels.get("value_labels", {})
    frame = frame.reset_index(drop=True)
    check_design(frame, variables, file=file)
    check_labelled_codes(
        frame,
        value_labels,
        file=file,
        words=settings.missing_words,
        categorical=settings.categorical,
    )
    data = set_missing_codes(frame, value_labels, words=settings.missing_words)

    round_ = data["round"] if "round" in data else pd.Series(labels["round"], index=data.index)
    year = (
        data["round_year"] if "round_year" in data else pd.Series(labels["year"], index=data.index)
    )
    geo = _geography(data, variables, value_labels, settings, district_labels, file)
    out = pd.DataFrame(
        {
            "round": round_.astype("int64"),
            "year": year.astype("int64"),
            ID_NAMES[unit]: data[variables["id"]].astype("string"),
            "psu": design_ids(round_, data[variables["psu"]]),
            "strata": design_ids(round_, data[variables["strata"]]),
            "weight": data[variables["weight"]].astype(float) / settings.weight_scale,
        },
        index=data.index,
    )
    out = out.join(geo)
    uvar = variables.get("urban")
    if uvar and uvar in data:
        u = data[uvar].astype(float)
        out["urban"] = (u == settings.urban_code).astype("boolean").mask(u.isna())
    else:
        out["urban"] = pd.Series(pd.NA, index=data.index, dtype="boolean")
    svar = variables.get("sex")
    out["sex"] = _sex(data, unit, svar, settings)
    out = out.join(_assignment(out["area"], out["district"], settings))

    if unit == "households":
        derived = recode_households(data, settings)
    elif unit == "women":
        derived = recode_women(data, settings)
    elif unit == "births":
        derived = recode_births(data, settings, value_labels)
    else:
        derived = recode_children(data, settings)
    out = out.join(derived)
    if "household_size" in out:
        # Person weight of SDG 3.8.2 (a share of people): size × sampling weight.
        out["weight_person"] = out["weight"] * out["household_size"]
    for var, name in _COVARIATE_LABELS.items():
        if var in data and name not in out and var in value_labels:
            out[name] = labelled_category(data[var], value_labels[var], settings.missing_words)
    design = {variables[k] for k in ("id", "cluster", "weight", "psu", "strata")}
    design |= {variables[k] for k in ("region", "district", "commune") if k in variables}
    design |= {v for v in (uvar, svar) if v}
    rest = [
        c
        for c in data.columns
        if c not in design and c not in ("round", "round_year") and c not in out.columns
    ]
    return out.join(data[rest])


def clean_survey_rounds(
    parts: Sequence[tuple[pd.DataFrame, Mapping[str, Any]]],
    *,
    unit: str,
    variables: Mapping[str, Any],
    settings: SurveySettings,
    district_labels: Mapping[int, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """All rounds of one unit -> the canonical ``survey_{unit}`` table.

    Parameters
    ----------
    parts
        (interim table, label sidecar) per round, any order.
    unit, variables, settings
        As in :func:`clean_survey_file`.
    district_labels
        Round -> district-code labels, for files whose district code is unlabelled.

    Returns
    -------
    pandas.DataFrame
        Rounds stacked (columns of all rounds; a variable absent from a round is
        missing there), sorted by round with each file's row order kept; single-PSU
        strata collapsed when ``settings.lonely_psu == "collapse"``.
    """
    frames = []
    for frame, labels in parts:
        rnd = int(frame["round"].iat[0]) if len(frame) and "round" in frame else labels["round"]
        frames.append(
            clean_survey_file(
                frame,
                labels,
                unit=unit,
                variables=variables,
                settings=settings,
                district_labels=(district_labels or {}).get(int(rnd)),
            )
        )
    if not frames:
        raise ValueError("no survey file to clean")
    frames = [f for f in frames if len(f)] or frames[:1]
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values("round", kind="mergesort").reset_index(drop=True)
    if settings.lonely_psu == "collapse":
        out = collapse_single_psu_strata(out)
    return out
