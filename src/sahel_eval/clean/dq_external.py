"""WHO Data Quality Review domains 3 and 4 (DESIGN §5): ``results/dq/external_*.csv``.

* **Domain 3, external consistency**: a routine indicator's coverage in a district and
  survey year (annual count ÷ expected pregnancies) against the survey's coverage of
  the same district and year (births of the recall period, weighted). Coverage is
  computed over the district projection (the WHO denominator) and over the summed
  catchment populations (the denominator of the pipeline's per-1,000 rates).
* **Domain 4, consistency of population data**: catchment populations summed over a
  district's CSCOMs ÷ the district projection, every year; and the configured
  expected-pregnancy rate ÷ the survey's crude birth rate, per area and survey year
  (a district holds too few births in a year for a usable rate).

A ratio is ``outside`` when the point estimate lies outside its bounds, and
``flagged`` when it stays outside at the far end of the survey's confidence interval:
with about 100 births per district and round, survey sampling error alone puts
ratios of consistent data outside [0.67, 1.33] (a flag the data do not support).
Population ratios have no sampling error: flagged = outside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean.survey_design import suppress_small_cells, weighted_prevalence

__all__ = [
    "ExternalSettings",
    "catchment_by_district",
    "external_consistency",
    "fertility_consistency",
    "population_consistency",
    "routine_counts",
    "survey_coverage",
]

# DHS household number in the household and births recodes (kept as covariates):
# with the PSU it links a birth to its household for the crude birth rate.
HOUSEHOLD_NUMBER = {"households": "hv002", "births": "v002"}


@dataclass(frozen=True)
class ExternalSettings:
    """Config ``dq_external`` with the survey interval's level and small-cell k."""

    coverage_bounds: tuple[float, float]
    population_bounds: tuple[float, float]
    expected_pregnancy_rate: float
    survey_items: Mapping[str, Mapping[str, Any]]
    fertility_months: int
    level: float
    small_cell_k: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ExternalSettings:
        """Settings from the validated config (``dq_external``, ``reporting``)."""
        ext = config["dq_external"]
        return cls(
            coverage_bounds=(float(ext["coverage_bounds"][0]), float(ext["coverage_bounds"][1])),
            population_bounds=(
                float(ext["population_bounds"][0]),
                float(ext["population_bounds"][1]),
            ),
            expected_pregnancy_rate=float(ext["expected_pregnancy_rate"]),
            survey_items={k: dict(v) for k, v in sorted(ext["survey_items"].items())},
            fertility_months=int(ext["fertility_months"]),
            level=1 - float(config["reporting"]["test_level"]),
            small_cell_k=int(config["reporting"]["small_cell_k"]),
        )


def _flags(
    out: pd.DataFrame, ratio: str, low: str, high: str, bounds: tuple[float, float], prefix: str
) -> pd.DataFrame:
    # outside: the point ratio; flagged: the whole interval [low, high] outside bounds.
    lo, hi = bounds
    r = out[ratio]
    out[f"{prefix}outside"] = (r < lo) | (r > hi)
    out[f"{prefix}flagged"] = (out[high] < lo) | (out[low] > hi)
    return out


def catchment_by_district(population: pd.DataFrame, facilities: pd.DataFrame) -> pd.DataFrame:
    """Catchment populations summed over each district's facilities, per year.

    ``population``: interim table (``orgunit_uid, year, population``);
    ``facilities``: interim master list. Returns ``district, year, catchment``.
    """
    district = population["orgunit_uid"].map(facilities.set_index("orgunit_uid")["district"])
    out = (
        population.assign(district=district)
        .groupby(["district", "year"], sort=True)["population"]
        .sum()
        .rename("catchment")
        .reset_index()
    )
    out["year"] = out["year"].astype("int64")
    out["catchment"] = out["catchment"].astype("int64")
    return out


def population_consistency(
    catchment: pd.DataFrame, projections: pd.DataFrame | None, bounds: tuple[float, float]
) -> pd.DataFrame:
    """Domain 4a: catchment sum ÷ district projection per district and year.

    Years present in both tables only (no rows without projections). Returns
    ``district, year, catchment, projection, ratio, lower, upper, outside, flagged``.
    """
    if projections is None:
        projections = pd.DataFrame({"district": [], "year": [], "population": []})
    proj = projections.rename(columns={"population": "projection"}).astype({"year": "int64"})
    out = catchment.merge(proj, on=["district", "year"], how="inner", validate="1:1")
    out["projection"] = out["projection"].astype("int64")
    out["ratio"] = out["catchment"] / out["projection"]
    out["lower"], out["upper"] = bounds
    out = _flags(out, "ratio", "ratio", "ratio", bounds, "")
    return out.sort_values(["district", "year"], kind="mergesort").reset_index(drop=True)


def survey_coverage(births: pd.DataFrame, settings: ExternalSettings) -> pd.DataFrame:
    """Survey coverage of each configured item per district and survey year.

    Births of the recall period (``recent_birth``); an item counts when its variable
    is at least ``min``. Korn–Graubard intervals; cells under ``small_cell_k``
    respondents blanked. Returns ``indicator, district, year, estimate, ci_low,
    ci_high, n, suppressed``.
    """
    # The cells are districts: in a district-stratified design (DHS-style, and the
    # demo's) each is a union of strata, so the cell variance is the design's.
    recent = births[births["recent_birth"].astype(bool)]
    items = {}
    for indicator, item in settings.survey_items.items():
        v = recent[item["variable"]].astype(float)
        items[indicator] = (v >= float(item["min"])).astype(float).where(v.notna())
    frame = recent[["district", "year", "weight", "psu", "strata"]].assign(**items)
    cells = weighted_prevalence(
        frame,
        list(items),
        by=("district", "year"),
        level=settings.level,
        ci="korn_graubard",
    )
    cells = suppress_small_cells(cells, k=settings.small_cell_k)
    cells = cells.rename(columns={"outcome": "indicator"})
    cols = ["indicator", "district", "year", "estimate", "ci_low", "ci_high", "n", "suppressed"]
    return cells[cols]


def routine_counts(facility_month: pd.DataFrame, facilities: pd.DataFrame) -> pd.DataFrame:
    """Annual clean counts per district and indicator (monthly data elements).

    Returns ``district, year, indicator, routine_count, share_with_value`` (facility-
    months holding a usable value ÷ facility-months expected: a low share lowers the
    count, and so the routine coverage).
    """
    fm = facility_month[facility_month["period_type"] == "month"]
    fm = fm.assign(
        district=fm["facility_id"].map(facilities.set_index("orgunit_uid")["district"]),
        year=fm["period"].astype(str).str[:4].astype("int64"),
        with_value=fm["value_clean"].notna(),
    )
    g = fm.groupby(["district", "year", "indicator"], sort=True)
    out = g.agg(
        routine_count=("value_clean", "sum"), with_value=("with_value", "mean")
    ).reset_index()
    return out.rename(columns={"with_value": "share_with_value"})


def external_consistency(
    routine: pd.DataFrame,
    catchment: pd.DataFrame,
    projections: pd.DataFrame | None,
    survey: pd.DataFrame,
    settings: ExternalSettings,
) -> pd.DataFrame:
    """Domain 3: routine coverage ÷ survey coverage per district, survey year, indicator.

    Parameters
    ----------
    routine
        :func:`routine_counts`.
    catchment
        :func:`catchment_by_district`.
    projections
        Interim district projections, or ``None`` (projection columns left empty).
    survey
        :func:`survey_coverage`.

    Returns
    -------
    pandas.DataFrame
        Per row the counts, expected pregnancies and coverage over both denominators,
        the survey coverage and interval, and for each denominator the ratio, its
        interval (routine coverage ÷ the survey interval's ends), ``outside`` and
        ``flagged`` (projection) / ``catchment_*`` (catchment).
    """
    rate = settings.expected_pregnancy_rate
    out = survey.merge(routine, on=["district", "year", "indicator"], how="inner")
    out = out.merge(catchment, on=["district", "year"], how="left")
    proj = (
        projections.rename(columns={"population": "projection"})[["district", "year", "projection"]]
        if projections is not None
        else pd.DataFrame({"district": [], "year": [], "projection": []})
    ).astype({"year": "int64", "projection": "float64"})
    out = out.merge(proj, on=["district", "year"], how="left")
    out = out.rename(
        columns={"estimate": "survey_coverage", "ci_low": "survey_low", "ci_high": "survey_high"}
    )
    for prefix, den in (("", "projection"), ("catchment_", "catchment")):
        cov = out["routine_count"] / (out[den].astype(float) * rate)
        out[f"{prefix}routine_coverage"] = cov
        out[f"{prefix}ratio"] = cov / out["survey_coverage"]
        # Survey interval ends of 0 give an unbounded ratio: inf, not an error.
        with np.errstate(divide="ignore"):
            out[f"{prefix}ratio_low"] = cov / out["survey_high"]
            out[f"{prefix}ratio_high"] = cov / out["survey_low"]
        out = _flags(
            out,
            f"{prefix}ratio",
            f"{prefix}ratio_low",
            f"{prefix}ratio_high",
            settings.coverage_bounds,
            prefix,
        )
    out["lower"], out["upper"] = settings.coverage_bounds
    out["expected_pregnancy_rate"] = rate
    return out.sort_values(["indicator", "district", "year"], kind="mergesort").reset_index(
        drop=True
    )


def fertility_consistency(
    households: pd.DataFrame, births: pd.DataFrame, settings: ExternalSettings
) -> pd.DataFrame:
    """Domain 4b: expected-pregnancy rate ÷ the survey's crude birth rate, per area
    and survey year.

    The crude birth rate is Σ w_h b_h / Σ w_h s_h over households (b_h births to its
    women in the last ``fertility_months``, annualised; s_h its size): a weighted
    mean of b_h / s_h with weights w_h s_h, so the survey-design interval of a
    ratio estimator. Returns ``area, year, births, recall_months, survey_birth_rate, survey_low,
    survey_high, n, expected_pregnancy_rate, ratio, ratio_low, ratio_high, outside,
    flagged``.
    """
    key_h = ["round", "psu", HOUSEHOLD_NUMBER["households"]]
    recent = births[births["months_since_birth"] < settings.fertility_months]
    per_hh = recent.groupby(["round", "psu", HOUSEHOLD_NUMBER["births"]], sort=True).size()
    per_hh.index = per_hh.index.set_names(key_h)
    hh = households.join(per_hh.rename("births"), on=key_h)
    hh["births"] = hh["births"].fillna(0.0)
    per_year = 12 / settings.fertility_months
    hh["birth_rate"] = hh["births"] * per_year / hh["household_size"]
    cells = weighted_prevalence(
        hh, "birth_rate", by=("area", "year"), weight="weight_person", level=settings.level
    )
    births_n = hh.groupby(["area", "year"], sort=True)["births"].sum().rename("births")
    cells = cells.join(births_n, on=["area", "year"])
    cells = cells.rename(
        columns={"estimate": "survey_birth_rate", "ci_low": "survey_low", "ci_high": "survey_high"}
    )
    rate = settings.expected_pregnancy_rate
    cells["expected_pregnancy_rate"] = rate
    cells["recall_months"] = settings.fertility_months
    cells["ratio"] = rate / cells["survey_birth_rate"]
    with np.errstate(divide="ignore"):
        cells["ratio_low"] = rate / cells["survey_high"]
        cells["ratio_high"] = rate / cells["survey_low"].where(cells["survey_low"] > 0, 0.0)
    cells["lower"], cells["upper"] = settings.population_bounds
    cells = _flags(cells, "ratio", "ratio_low", "ratio_high", settings.population_bounds, "")
    cols = [
        "area",
        "year",
        "births",
        "recall_months",
        "n",
        "survey_birth_rate",
        "survey_low",
        "survey_high",
        "expected_pregnancy_rate",
        "ratio",
        "ratio_low",
        "ratio_high",
        "lower",
        "upper",
        "outside",
        "flagged",
    ]
    return cells[cols].reset_index(drop=True)
