"""What the survey recodes take from the config (DESIGN §3-4): :class:`SurveySettings`,
the programmes' treated districts (:func:`programme_districts`) and the DHS defaults
the schema repeats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sahel_eval.clean.survey_design import LONELY_PSU_RULES

__all__ = [
    "DEFAULT_FEVER_EXCLUDED",
    "DEFAULT_MISSING_WORDS",
    "DEFAULT_PLACE_OF_DELIVERY",
    "Programme",
    "SurveySettings",
    "programme_districts",
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
    sex_codes
        ``male`` and ``female`` codes of the sex item (``survey.codes.sex``; DHS ``b4``).
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
    catastrophic_thresholds
        Further catastrophic-spending outcomes: name -> threshold (SDG 3.8.2's 25 %).
    person_weighted
        Household outcomes weighted by size × sampling weight (``weight_person``):
        SDG 3.8.2 is a share of people.
    scheme_coverage
        Coverage outcome -> (variable, values meaning covered): DHS ``v481a``–``v481d``
        and the country's items (RAMED has no standard one). ``coverage_none`` = every
        item known and none says covered.
    skilled_attendant_items
        Items of the birth attendant (``m3a``–``m3c``: doctor, nurse / midwife,
        auxiliary midwife) whose "yes" makes the birth skilled-attended.
    anc_bp_variable
        Blood pressure measured at ANC (DHS ``m42c``; missing for births without ANC).
    fever_days_variable, fever_prompt_max_days
        Days from fever onset to care (DHS ``h46b``); care within 24 h = care sought
        and days ≤ the maximum (1: same or next day).
    forgone_care_variable
        Household item: care forgone because of its cost in the last 12 months.
    lonely_psu
        ``"adjust"`` (keep strata; the variance centres a lonely PSU at the grand mean,
        as :func:`sahel_eval.stats.covariance.design_based`) or ``"collapse"`` (merge it
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
    sex_codes: Mapping[str, int] = field(default_factory=lambda: {"male": 1, "female": 2})
    place_of_delivery: Mapping[str, tuple[int, ...]] = field(
        default_factory=lambda: dict(DEFAULT_PLACE_OF_DELIVERY)
    )
    facility_delivery_codes: tuple[int, int] = (20, 39)
    recent_birth_months: int = 60
    fever_excluded_sources: tuple[str, ...] = DEFAULT_FEVER_EXCLUDED
    catastrophic_threshold: float = 0.10
    catastrophic_thresholds: Mapping[str, float] = field(default_factory=dict)
    person_weighted: tuple[str, ...] = ()
    scheme_coverage: Mapping[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    skilled_attendant_items: tuple[str, ...] = ()
    anc_bp_variable: str | None = None
    fever_days_variable: str | None = None
    fever_prompt_max_days: int = 1
    forgone_care_variable: str | None = None
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
        survey = config["survey"]
        codes = survey["codes"]
        areas = {
            key: (str(a["region"]), tuple(str(d) for d in a["districts"]))
            for key, a in config["areas"].items()
        }
        programmes = tuple(
            Programme(p["name"], p["area"], tuple(districts.get(p["name"], ())))
            for p in config["programmes"]
        )
        delivery = survey["facility_delivery_codes"]
        # ``categorical: null`` (the schema default) means every labelled variable.
        categorical = survey["categorical"]
        return cls(
            areas=areas,
            programmes=programmes,
            missing_words=tuple(survey["missing_labels"]),
            weight_scale=float(survey["weight_scale"]),
            urban_code=int(codes["urban"]),
            sex_codes={k: int(v) for k, v in codes["sex"].items()},
            place_of_delivery={
                k: tuple(int(c) for c in v) for k, v in codes["place_of_delivery"].items()
            },
            facility_delivery_codes=(int(delivery[0]), int(delivery[1])),
            recent_birth_months=int(survey["recent_birth_months"]),
            fever_excluded_sources=tuple(survey["fever_excluded_sources"]),
            catastrophic_threshold=float(survey["catastrophic_threshold"]),
            catastrophic_thresholds={
                k: float(v) for k, v in survey["catastrophic_thresholds"].items()
            },
            person_weighted=tuple(survey["person_weighted"]),
            scheme_coverage={
                k: (str(v["variable"]), tuple(int(c) for c in v["values"]))
                for k, v in survey["scheme_coverage"].items()
            },
            skilled_attendant_items=tuple(survey["skilled_attendant_items"]),
            anc_bp_variable=survey["anc_bp_variable"],
            fever_days_variable=survey["fever_prompt"]["variable"],
            fever_prompt_max_days=int(survey["fever_prompt"]["max_days"]),
            forgone_care_variable=survey["forgone_care_variable"],
            lonely_psu=str(survey["lonely_psu"]),
            categorical=None if categorical is None else tuple(categorical),
            commune_districts=dict(survey["commune_districts"]),
        )


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
