"""Survey recodes: interim recode files -> canonical ``survey_{unit}`` tables (DESIGN §3-4).

One interim file (one round, one unit, as written by :func:`sahel_eval.ingest.ingest_survey`)
plus its label sidecar goes in; a table with round-unique design ids, named geography,
programme arm and DHS-defined outcomes comes out. :func:`clean_survey_rounds` stacks the
rounds of a unit into one table.

Rules, each configurable through :class:`SurveySettings`:

* Don't-know / missing codes are found **per variable from its value labels**: a code
  whose label contains a missing word ("ne sait pas", "manquant", "incohérent", …)
  becomes missing for that variable only. Nothing else is touched, so ``hv009 = 8``
  (eight people), ``v201 = 8`` (eight children) or ``shoop = 998`` FCFA stay valid.
* A categorical variable (one whose labels name at least one valid code) may only hold
  labelled codes; an unlabelled code (``m15 = 55``) is an input error, not a guess.
* Facility delivery = ``m15`` in 20–39 for births in the last five years
  (``v008 − b3 < 60``); fever care = among children with ``h22 = 1``, any ``h32*`` source
  equal to 1 except the excluded ones (pharmacy, shop, traditional healer, other);
  insurance = ``v481 = 1``, mutual membership = ``v481a = 1``; catastrophic spending =
  ``shoop / shconso`` above the threshold (10 %), all missing when their inputs are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean.survey_design import LONELY_PSU_RULES, collapse_single_psu_strata, design_ids
from sahel_eval.errors import InputError, Problem, problem

__all__ = [
    "DEFAULT_FEVER_EXCLUDED",
    "DEFAULT_MISSING_WORDS",
    "OUTCOMES",
    "Programme",
    "SurveySettings",
    "check_design",
    "check_labelled_codes",
    "clean_survey_file",
    "clean_survey_rounds",
    "fever_sources",
    "missing_codes",
    "programme_districts",
    "recode_births",
    "recode_children",
    "recode_households",
    "recode_women",
    "set_missing_codes",
]

DEFAULT_MISSING_WORDS = (
    "ne sait pas",
    "manquant",
    "incohérent",
    "nsp",
    "don't know",
    "missing",
    "inconsistent",
)
# Excluded from "care sought" (DHS: advice or treatment from a health provider).
DEFAULT_FEVER_EXCLUDED = ("h32k", "h32s", "h32t", "h32x")
DEFAULT_PLACE_OF_DELIVERY = {
    "home": (11, 12),
    "public": (21, 22, 23, 24, 25, 26),
    "private": (31, 32, 33, 34, 35, 36),
    "other": (96,),
}
# Derived outcomes per unit (names as in truth.json -> surveys).
OUTCOMES = {
    "households": ("oop_any", "catastrophic_spending"),
    "women": ("any_insurance", "mutual_membership"),
    "births": ("facility_delivery",),
    "children": ("fever", "fever_care", "diarrhoea"),
}
ID_NAMES = {
    "households": "household_id",
    "women": "woman_id",
    "births": "woman_id",
    "children": "woman_id",
}
_H32 = re.compile(r"^h32[a-z]$")
_ROW = "observation"


@dataclass(frozen=True)
class Programme:
    """A programme's assignment: the area it runs in and its treated districts."""

    name: str
    area: str
    districts: tuple[str, ...]


@dataclass(frozen=True)
class SurveySettings:
    """Everything the survey recodes take from the config.

    Attributes
    ----------
    areas
        Area key -> (region name, districts) (config ``areas``).
    programmes
        Programmes with their treated districts (see :func:`programme_districts`).
    missing_words
        Label words that make a code missing (``survey.missing_labels``).
    weight_scale
        Divisor of the raw weight (``survey.weight_scale``, 1e6 in DHS).
    urban_code
        Code of "urban" in the urban/rural variable (``survey.codes.urban``).
    place_of_delivery
        Groups of ``m15`` codes (``survey.codes.place_of_delivery``).
    facility_delivery_codes
        Inclusive ``m15`` range of a health facility (DHS: 20–39).
    recent_birth_months
        Births counted: ``v008 − b3 <`` this (DHS: 60, the last five years).
    fever_excluded_sources
        ``h32*`` sources that do not count as care sought.
    catastrophic_threshold
        Share of consumption above which health spending is catastrophic.
    lonely_psu
        ``"adjust"`` (keep strata; the variance centres a lonely PSU at the grand mean,
        as :func:`sahel_eval.did.covariance.design_based`) or ``"collapse"`` (merge it
        into the largest stratum of its district, :func:`collapse_single_psu_strata`).
    categorical
        Variables whose codes must all be labelled; ``None`` = every variable whose
        labels name at least one valid (non-missing) code.
    commune_districts
        Commune name -> district, for files whose district code is unlabelled and
        whose commune is not itself a district.
    """

    areas: Mapping[str, tuple[str, tuple[str, ...]]]
    programmes: tuple[Programme, ...] = ()
    missing_words: tuple[str, ...] = DEFAULT_MISSING_WORDS
    weight_scale: float = 1e6
    urban_code: int = 1
    place_of_delivery: Mapping[str, tuple[int, ...]] = field(
        default_factory=lambda: dict(DEFAULT_PLACE_OF_DELIVERY)
    )
    facility_delivery_codes: tuple[int, int] = (20, 39)
    recent_birth_months: int = 60
    fever_excluded_sources: tuple[str, ...] = DEFAULT_FEVER_EXCLUDED
    catastrophic_threshold: float = 0.10
    lonely_psu: str = "adjust"
    categorical: tuple[str, ...] | None = None
    commune_districts: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.lonely_psu not in LONELY_PSU_RULES:
            raise ValueError(f"lonely_psu must be one of {LONELY_PSU_RULES}")

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], districts: Mapping[str, Sequence[str]]
    ) -> SurveySettings:
        """Settings from a validated config and each programme's treated districts.

        Parameters
        ----------
        config
            Validated config (``areas``, ``programmes``, ``survey``).
        districts
            Programme name -> treated districts, e.g. from :func:`programme_districts`.
        """
        survey = config.get("survey", {})
        codes = survey.get("codes", {})
        areas = {
            key: (str(a["region"]), tuple(str(d) for d in a["districts"]))
            for key, a in config["areas"].items()
        }
        programmes = tuple(
            Programme(p["name"], p["area"], tuple(districts.get(p["name"], ())))
            for p in config.get("programmes", [])
        )
        kw: dict[str, Any] = {}
        if "missing_labels" in survey:
            kw["missing_words"] = tuple(survey["missing_labels"])
        if "weight_scale" in survey:
            kw["weight_scale"] = float(survey["weight_scale"])
        if "urban" in codes:
            kw["urban_code"] = int(codes["urban"])
        if "place_of_delivery" in codes:
            kw["place_of_delivery"] = {
                k: tuple(int(c) for c in v) for k, v in codes["place_of_delivery"].items()
            }
        for key, cast in (
            ("facility_delivery_codes", lambda v: (int(v[0]), int(v[1]))),
            ("recent_birth_months", int),
            ("fever_excluded_sources", tuple),
            ("catastrophic_threshold", float),
            ("lonely_psu", str),
            ("categorical", tuple),
            ("commune_districts", dict),
        ):
            if survey.get(key) is not None:
                kw[key] = cast(survey[key])
        return cls(areas=areas, programmes=programmes, **kw)


def programme_districts(
    programmes: pd.DataFrame,
    facilities: pd.DataFrame | None = None,
) -> dict[str, tuple[str, ...]]:
    """Treated districts of each programme, from the roll-out table.

    A survey respondent is assigned by district (the programmes are assigned to
    cercles and communes): a district is treated when any of its units is in the
    programme — a facility-level row counts for the facility's district.

    Parameters
    ----------
    programmes
        Ingested ``programmes`` table (``programme, unit_level, unit_id``).
    facilities
        Ingested facility list (``orgunit_uid, district``), needed for facility rows.

    Returns
    -------
    dict
        Programme -> sorted tuple of district names.
    """
    out: dict[str, set[str]] = {}
    fac = (
        {}
        if facilities is None
        else dict(zip(facilities["orgunit_uid"], facilities["district"], strict=True))
    )
    for row in programmes.itertuples(index=False):
        unit = str(row.unit_id)
        if row.unit_level == "facility":
            if unit not in fac:
                raise ValueError(f"facility {unit} of {row.programme} has no district")
            district = str(fac[unit])
        else:
            district = unit
        out.setdefault(str(row.programme), set()).add(district)
    return {k: tuple(sorted(v)) for k, v in sorted(out.items())}


# --- labels and codes -------------------------------------------------------------------


def _norm(text: str) -> str:
    # Accents and case vary between rounds ("Incohérent", "INCOHERENT"): compare bare.
    bare = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", bare.casefold()).strip()


def _is_missing_label(label: str, words: Iterable[str]) -> bool:
    text = _norm(label)
    # Whole words only: "nsp" must not match inside another word.
    return any(re.search(rf"(?<!\w){re.escape(_norm(w))}(?!\w)", text) for w in words)


def missing_codes(
    value_labels: Mapping[str, Mapping[str, str]],
    words: Iterable[str] = DEFAULT_MISSING_WORDS,
) -> dict[str, list[float]]:
    """Don't-know / missing codes of each variable, read from its value labels.

    Parameters
    ----------
    value_labels
        Variable -> {code as text: label} (the ingest sidecar's ``value_labels``).
    words
        A code is missing when its label contains one of these (case and accents
        ignored, whole words).

    Returns
    -------
    dict
        Variable -> sorted missing codes; variables without any are absent.
    """
    words = tuple(words)
    out: dict[str, list[float]] = {}
    for var, labels in value_labels.items():
        codes = sorted(float(c) for c, lab in labels.items() if _is_missing_label(lab, words))
        if codes:
            out[var] = codes
    return out


def set_missing_codes(
    frame: pd.DataFrame,
    value_labels: Mapping[str, Mapping[str, str]],
    *,
    words: Iterable[str] = DEFAULT_MISSING_WORDS,
) -> pd.DataFrame:
    """Replace each variable's labelled don't-know / missing codes by a missing value.

    Only codes that the variable's own labels call missing are replaced; a variable
    without labels is left alone, whatever its values (see :func:`missing_codes`).

    Returns
    -------
    pandas.DataFrame
        A copy.
    """
    out = frame.copy()
    for var, codes in missing_codes(value_labels, words).items():
        if var in out.columns and pd.api.types.is_numeric_dtype(out[var]):
            out[var] = out[var].mask(out[var].isin(codes))
    return out


def _valid_codes(labels: Mapping[str, str], words: Iterable[str]) -> set[float]:
    return {float(c) for c, lab in labels.items() if not _is_missing_label(lab, words)}


def _problem(frame: pd.DataFrame, bad: pd.Series, column: str, rule: str, detail: str) -> Problem:
    positions = np.flatnonzero(bad.to_numpy(dtype=bool))
    return problem(
        column,
        rule,
        detail,
        positions.tolist(),
        frame[column].to_numpy()[positions].tolist(),
        row_offset=1,
    )


def check_labelled_codes(
    frame: pd.DataFrame,
    value_labels: Mapping[str, Mapping[str, str]],
    *,
    file: str,
    words: Iterable[str] = DEFAULT_MISSING_WORDS,
    categorical: Iterable[str] | None = None,
) -> None:
    """Raise if a categorical variable holds a code its labels do not define.

    Parameters
    ----------
    frame
        Interim survey table (codes as numbers, default index: position 0 =
        observation 1).
    value_labels
        The file's value labels.
    file
        File name for the message.
    categorical
        Variables to check; default: those whose labels name a valid code (a variable
        labelled only for its missing codes, like an amount, is continuous).

    Raises
    ------
    InputError
        Rule ``labelled_code``, naming the variable and example observations.
    """
    words = tuple(words)
    frame = frame.reset_index(drop=True)
    if categorical is None:
        names = [v for v, lab in value_labels.items() if _valid_codes(lab, words)]
    else:
        names = list(categorical)
    problems = []
    for var in names:
        if var not in frame.columns or var not in value_labels:
            continue
        if not pd.api.types.is_numeric_dtype(frame[var]):
            continue
        allowed = [float(c) for c in value_labels[var]]
        values = frame[var].astype(float)
        bad = values.notna() & ~values.isin(allowed)
        if bad.any():
            problems.append(
                _problem(
                    frame,
                    bad,
                    var,
                    "labelled_code",
                    "code not among the variable's value labels ("
                    + ", ".join(str(int(c)) if c.is_integer() else str(c) for c in allowed)
                    + ")",
                )
            )
    if problems:
        raise InputError(
            file,
            problems,
            hint="correct the code in the file, or add its value label if the code is "
            "real (a missing code needs a label such as 'Manquant').",
            row_label=_ROW,
        )


def check_design(
    frame: pd.DataFrame,
    variables: Mapping[str, Any],
    *,
    file: str,
) -> None:
    """Raise if a survey file cannot carry design-based inference.

    Rules: ``weight_positive`` (weight present and > 0), ``psu_present`` (a PSU on
    every row; a round whose PSU is missing throughout is named as such) and
    ``strata_present``.

    Raises
    ------
    InputError
        One problem per failing rule, with example observations (no identifiers).
    """
    frame = frame.reset_index(drop=True)
    weight, psu, strata = variables["weight"], variables["psu"], variables["strata"]
    problems: list[Problem] = []
    missing_cols = [c for c in (weight, psu, strata) if c not in frame.columns]
    if missing_cols:
        raise InputError(
            file,
            [Problem(c, "column_present", "design variable absent") for c in missing_cols],
            hint="name the design variables under survey.variables in the config.",
        )
    w = pd.to_numeric(frame[weight], errors="coerce").astype(float)
    bad = w.isna() | (w <= 0)
    if bad.any():
        problems.append(
            _problem(frame, bad, weight, "weight_positive", "sampling weight missing or ≤ 0")
        )
    if len(frame) and frame[psu].isna().all():
        problems.append(
            Problem(
                psu,
                "psu_present",
                "this round has no PSU: the variable is missing for every respondent",
                n_failed=len(frame),
            )
        )
    elif frame[psu].isna().any():
        problems.append(_problem(frame, frame[psu].isna(), psu, "psu_present", "PSU missing"))
    if frame[strata].isna().any():
        problems.append(
            _problem(frame, frame[strata].isna(), strata, "strata_present", "stratum missing")
        )
    if problems:
        raise InputError(
            file,
            problems,
            hint="design-based standard errors need a positive weight, a PSU and a "
            "stratum for every respondent: get the round's full recode file.",
            row_label=_ROW,
        )


# --- outcomes ---------------------------------------------------------------------------


def _flag(condition: pd.Series, known: pd.Series) -> pd.Series:
    """0/1 as a nullable float: 1/0 where ``known``, missing elsewhere."""
    return condition.astype(float).where(known)


def recode_households(frame: pd.DataFrame, settings: SurveySettings) -> pd.DataFrame:
    """Out-of-pocket spending and catastrophic spending (households).

    ``oop`` = ``shoop`` (FCFA, 12 months), ``consumption`` = ``shconso``;
    ``oop_any`` = oop > 0; ``catastrophic_spending`` = oop / consumption >
    threshold. Missing when either amount is missing (don't-know codes already
    removed) or consumption is not positive.
    """
    out = pd.DataFrame(index=frame.index)
    oop = frame["shoop"].astype(float)
    conso = frame["shconso"].astype(float)
    out["oop"] = oop
    out["consumption"] = conso
    out["oop_any"] = _flag(oop > 0, oop.notna())
    share = oop / conso.where(conso > 0)
    out["oop_share"] = share
    out["catastrophic_spending"] = _flag(share > settings.catastrophic_threshold, share.notna())
    if "hv009" in frame:
        out["household_size"] = frame["hv009"].astype(float)
    if "hv270" in frame:
        out["wealth_quintile"] = frame["hv270"].astype(float)
    return out


def recode_women(frame: pd.DataFrame, settings: SurveySettings) -> pd.DataFrame:
    """Insurance: ``any_insurance`` = ``v481`` = 1, ``mutual_membership`` = ``v481a`` = 1."""
    out = pd.DataFrame(index=frame.index)
    for name, var in (
        ("any_insurance", "v481"),
        ("mutual_membership", "v481a"),
        ("insurance_employer", "v481b"),
        ("insurance_social_security", "v481c"),
        ("insurance_private", "v481d"),
    ):
        if var in frame:
            v = frame[var].astype(float)
            out[name] = _flag(v == 1, v.notna())
    return out


def _category(
    codes: pd.Series, labels: Mapping[str, str] | None, words: Iterable[str]
) -> pd.Series:
    # Missing codes are already gone from the data: keep them out of the categories too.
    labels = {c: lab for c, lab in (labels or {}).items() if not _is_missing_label(lab, words)}
    if not labels:
        return pd.Series(pd.NA, index=codes.index, dtype="string")
    ordered = sorted(labels.items(), key=lambda kv: float(kv[0]))
    lookup = {float(c): lab for c, lab in ordered}
    return pd.Series(
        pd.Categorical(
            codes.astype(float).map(lookup),
            categories=list(dict.fromkeys(lab for _, lab in ordered)),
        ),
        index=codes.index,
    )


def recode_births(
    frame: pd.DataFrame,
    settings: SurveySettings,
    value_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """Place and facility delivery for births of the last five years.

    ``facility_delivery`` = ``m15`` in the facility range (20–39) for a birth with
    ``v008 − b3 <`` 60 months; missing for an older birth or a missing ``m15``.
    ``place_of_delivery`` keeps the French label (category), ``place_type`` the group
    (home / public / private / other).
    """
    out = pd.DataFrame(index=frame.index)
    m15 = frame["m15"].astype(float)
    age = frame["v008"].astype(float) - frame["b3"].astype(float)
    recent = age < settings.recent_birth_months
    out["months_since_birth"] = age
    out["recent_birth"] = recent.astype("boolean").mask(age.isna())
    lo, hi = settings.facility_delivery_codes
    out["facility_delivery"] = _flag(m15.between(lo, hi), m15.notna() & recent)
    labels = (value_labels or {}).get("m15")
    out["place_of_delivery"] = _category(m15, labels, settings.missing_words)
    groups = {float(c): g for g, codes in settings.place_of_delivery.items() for c in codes}
    out["place_type"] = pd.Categorical(m15.map(groups), categories=list(settings.place_of_delivery))
    return out


def fever_sources(columns: Iterable[str], excluded: Iterable[str]) -> list[str]:
    """``h32*`` columns that count as care sought (all present ones minus ``excluded``)."""
    excluded = set(excluded)
    return sorted(c for c in columns if _H32.match(c) and c not in excluded)


def recode_children(frame: pd.DataFrame, settings: SurveySettings) -> pd.DataFrame:
    """Fever, care sought for fever, diarrhoea (children under five).

    ``fever`` = ``h22`` = 1; ``fever_care`` = among febrile children, any included
    ``h32*`` source = 1 (0 if at least one source is known and none is 1; missing for
    children without fever or with every source missing); ``diarrhoea`` = ``h11`` in
    {1, 2} (last 24 hours or 2 weeks).
    """
    out = pd.DataFrame(index=frame.index)
    h22 = frame["h22"].astype(float)
    fever = h22 == 1
    out["fever"] = _flag(fever, h22.notna())
    sources = fever_sources(frame.columns, settings.fever_excluded_sources)
    if not sources:
        raise ValueError("no h32* source left after the exclusions: check the config")
    h32 = frame[sources].astype(float)
    any_yes = (h32 == 1).any(axis=1)
    any_known = h32.notna().any(axis=1)
    out["fever_care"] = _flag(any_yes, fever & any_known)
    if "h11" in frame:
        h11 = frame["h11"].astype(float)
        out["diarrhoea"] = _flag(h11.isin([1, 2]), h11.notna())
    return out


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
            row_label=_ROW,
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
        urban, programme, arm, treated``, the unit's outcomes (:data:`OUTCOMES`) and
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
    for var, name in _COVARIATE_LABELS.items():
        if var in data and name not in out and var in value_labels:
            out[name] = _category(data[var], value_labels[var], settings.missing_words)
    design = {variables[k] for k in ("id", "cluster", "weight", "psu", "strata")}
    design |= {variables[k] for k in ("region", "district", "commune") if k in variables}
    if uvar:
        design.add(uvar)
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
