"""Analysis panels ``panel_{area}``: the contract of the DiD and resilience stages.

One row per expected facility-month of the area's districts (a closed or not-yet-open
facility has no row; an unreported month has a row with missing values and
``reported = False``), sorted by facility and t:

==================  ===================================================================
facility_id         org-unit UID
district            cercle (Mopti) or commune (Bamako)
facility_urban      residence of the CSCOM from the facility list's type
                    (``did.facility_residence``): True urban, False rural, empty for a
                    type in neither list; the subgroup variable of facility analyses
t                   month index, 1 = first month of the data (0 is reserved: "never")
month               calendar month, ``YYYYMM`` text (as ``facility_month.period``)
population          catchment population of that year (the rates' denominator), with
                    displaced people where they live (``denominators``)
<indicator>         clean value (``facility_month.value_clean``), float
<indicator>_per_1000  clean value per 1,000 catchment population of that year
expected_births     births expected in the month: population × crude birth rate ÷ 12
                    (with ``quality_of_care`` configured)
<ratio>             each quality-of-care ratio of ``quality_of_care.ratios``: numerator ÷
                    denominator of the facility-month (1 − that for a drop-out), missing
                    when either is missing or the denominator is 0
group               t of first exposure to the area's programme (I3S: the facility's
                    start; Djantoli: the commune's start); 0 = never treated
end_t               t of the programme's last month for treated facilities (0 for
                    the never treated, or when the programme has no end date)
reported            a complete-data-set registration exists
==================  ===================================================================

When the population is adjusted for displacement (:mod:`sahel_eval.clean.denominators`),
``population_unadjusted`` follows ``population`` and ``<indicator>_per_1000_unadjusted``
follow the rates (likewise ``expected_births_unadjusted`` and the ratios over expected
births); without the adjustment the panel has neither.

Quality-of-care ratios (DESIGN §4: ANC1 → ANC4 retention, Penta1 → Penta3 drop-out,
assisted deliveries ÷ expected births) are per facility-month, so every estimator reads
them as it reads a rate; the SDID district block sums their numerators and
denominators instead (:func:`quality_ratio`).

A start or end inside a month counts that whole month (the first exposed month is the
month of the start date). A start before the first month of the data gives group 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.clean.denominators import denominator_population
from sahel_eval.clean.periods import date_month_number, month_number
from sahel_eval.config_subgroups import facility_residence

__all__ = [
    "build_panel",
    "build_panels",
    "programme_timing",
    "quality_column_names",
    "quality_ratio",
]


def quality_ratio(
    numerator: pd.Series | np.ndarray, denominator: pd.Series | np.ndarray, complement: bool
) -> np.ndarray:
    """numerator ÷ denominator (1 − that for a drop-out); NaN where the denominator is
    missing or not positive (no ANC1 this month: no retention to speak of)."""
    num = np.asarray(numerator, dtype="float64")
    den = np.asarray(denominator, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, num / den, np.nan)
    return 1.0 - ratio if complement else ratio


def _ratio_columns(
    quality: Mapping[str, Any], suffixes: Sequence[str]
) -> list[tuple[str, str, str, bool]]:
    """``(column, numerator, denominator column, complement)`` of each ratio column: a
    ratio over expected births gets one column per population (``suffixes``)."""
    out = []
    for name, spec in quality["ratios"].items():
        per_population = spec["denominator"] == "expected_births"
        for suffix in suffixes if per_population else ("",):
            den = f"{spec['denominator']}{suffix}"
            out.append((f"{name}{suffix}", spec["numerator"], den, bool(spec["complement"])))
    return out


def quality_column_names(quality: Mapping[str, Any], suffixes: Sequence[str]) -> list[str]:
    """Names of the panel's quality-of-care columns, in order (:func:`_quality_columns`)."""
    births = [f"expected_births{suffix}" for suffix in suffixes]
    return births + [column for column, *_ in _ratio_columns(quality, suffixes)]


def _quality_columns(
    wide: pd.DataFrame, quality: Mapping[str, Any], suffixes: Sequence[str]
) -> list[str]:
    """Adds ``expected_births`` and each configured ratio to ``wide``; their names.

    ``suffixes`` are those of the population columns (``""``, and ``"_unadjusted"``
    when displacement adjusts the population).
    """
    per_person = float(quality["crude_birth_rate"]) / 12.0
    for suffix in suffixes:
        wide[f"expected_births{suffix}"] = (
            wide[f"population{suffix}"].astype("float64") * per_person
        )
    for name, spec in quality["ratios"].items():
        missing = [spec[k] for k in ("numerator", "denominator") if spec[k] not in wide.columns]
        if missing:
            raise ValueError(
                f"quality_of_care.ratios.{name}: {missing} is not a monthly indicator of the "
                "panel (a quarterly data element stays in facility_month; `make check` names "
                "its rows)"
            )
    for column, num, den, complement in _ratio_columns(quality, suffixes):
        wide[column] = quality_ratio(wide[num], wide[den], complement)
    return quality_column_names(quality, suffixes)


def programme_timing(
    facilities: pd.DataFrame, programmes: pd.DataFrame, programme: str, first_period: str
) -> pd.DataFrame:
    """Month index of first exposure and of the programme's end per treated facility.

    Parameters
    ----------
    facilities
        Master list: ``orgunit_uid, region, district, commune``.
    programmes
        Roll-out table: ``programme, unit_level, unit_id, start, end``.
    programme
        The programme's name.
    first_period
        ``YYYYMM`` of t = 1.

    Returns
    -------
    pandas.DataFrame
        ``facility_id, group, end_t`` for facilities covered by the programme (the
        earliest start and latest end when several rows cover one facility).
    """
    rows = programmes[programmes["programme"] == programme]
    base = month_number(np.array([first_period]))[0]
    frames = []
    for level, cols in (
        ("facility", ("orgunit_uid",)),
        ("district", ("district",)),
        ("region", ("region",)),
        # A commune-level unit may be a rural commune or, in Bamako, a district.
        ("commune", ("commune", "district")),
    ):
        sub = rows[rows["unit_level"] == level]
        for col in cols:
            units = facilities[["orgunit_uid"]].assign(_unit=facilities[col].to_numpy())
            hit = units.merge(sub[["unit_id", "start", "end"]], left_on="_unit", right_on="unit_id")
            frames.append(hit[["orgunit_uid", "start", "end"]])
    cover = pd.concat(frames, ignore_index=True)
    cover["group"] = np.maximum(date_month_number(cover["start"]) - base + 1, 1)
    end = date_month_number(cover["end"])
    cover["end_t"] = np.where(end < 0, 0, np.maximum(end - base + 1, 1))
    out = cover.groupby("orgunit_uid", sort=True).agg(
        group=("group", "min"), end_t=("end_t", "max")
    )
    out = out.reset_index().rename(columns={"orgunit_uid": "facility_id"})
    out["facility_id"] = out["facility_id"].astype("str")
    return out


def build_panel(
    facility_month: pd.DataFrame,
    facilities: pd.DataFrame,
    population: pd.DataFrame,
    programmes: pd.DataFrame,
    *,
    districts: Sequence[str],
    programme: str | None,
    first_period: str | None = None,
    indicators: Sequence[str] | None = None,
    quality: Mapping[str, Any] | None = None,
    residence: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The analysis panel of one area.

    Parameters
    ----------
    facility_month
        The canonical long table.
    facilities
        Master list (``orgunit_uid, region, district, commune``).
    population
        ``orgunit_uid, year, population``.
    programmes
        Roll-out table.
    districts
        The area's districts (``areas.<area>.districts``).
    programme
        The area's programme (its ``group``), or ``None`` (everyone never treated).
    first_period
        ``YYYYMM`` of t = 1; default the first period of ``facility_month`` (the data,
        not the area, so t means the same month in every panel).
    indicators
        Column order; default the indicators of ``facility_month``, sorted. Quarterly
        indicators (``period_type`` quarter) are left out: a panel is monthly.
    quality
        The config's ``quality_of_care`` (``crude_birth_rate``, ``ratios``), or ``None``
        (no ``expected_births`` nor ratio columns).
    residence
        ``did.facility_residence`` (``urban``, ``rural``: lists of facility types), or
        ``None``: ``facility_urban`` is then empty.

    Returns
    -------
    pandas.DataFrame
        See the module docstring.
    """
    # A panel is monthly: quarterly indicators stay in facility_month only (DESIGN §4).
    quarterly = set(facility_month.loc[facility_month["period_type"] == "quarter", "indicator"])
    facility_month = facility_month[facility_month["period_type"] == "month"]
    first = first_period or str(facility_month["period"].min())
    inds = (
        list(indicators) if indicators is not None else sorted(facility_month["indicator"].unique())
    )
    inds = [i for i in inds if i not in quarterly]
    district = facilities.set_index("orgunit_uid")["district"]
    fm = facility_month.assign(district=facility_month["facility_id"].map(district).astype("str"))
    fm = fm[fm["district"].isin(list(districts))]
    wide = fm.set_index(["facility_id", "district", "period", "indicator"])["value_clean"].unstack(
        "indicator"
    )
    wide = wide.reindex(columns=inds).reset_index()
    wide.columns.name = None
    rep = fm.groupby(["facility_id", "period"], sort=False)["reported"].first()
    wide["reported"] = rep.reindex(
        pd.MultiIndex.from_frame(wide[["facility_id", "period"]])
    ).to_numpy(dtype=bool)
    base = month_number(np.array([first]))[0]
    wide["t"] = (month_number(wide["period"].to_numpy()) - base + 1).astype("int64")
    wide = wide.rename(columns={"period": "month"})

    # Adjusted for displacement: the given population is kept beside it, with its rates.
    pops = ["population", *(["population_unadjusted"] * ("population_unadjusted" in population))]
    pop = population.rename(columns={"orgunit_uid": "facility_id"})[
        ["facility_id", "year", *pops]
    ].copy()
    pop["facility_id"] = pop["facility_id"].astype("str")
    pop["year"] = pop["year"].astype("int64")
    wide["year"] = wide["month"].str[:4].astype("int64")
    wide = wide.merge(pop, on=["facility_id", "year"], how="left")
    rates = []
    for col, suffix in zip(pops, ("", "_unadjusted"), strict=False):
        per = wide[col].astype("float64")
        per = per.where(per > 0)
        for ind in inds:
            wide[f"{ind}_per_1000{suffix}"] = wide[ind] / per * 1000.0
        rates += [f"{ind}_per_1000{suffix}" for ind in inds]
    suffixes = [c.removeprefix("population") for c in pops]
    ratios = _quality_columns(wide, quality, suffixes) if quality is not None else []

    if programme is not None:
        timing = programme_timing(facilities, programmes, programme, first)
        wide = wide.merge(timing, on="facility_id", how="left")
    else:
        wide["group"] = 0
        wide["end_t"] = 0
    wide["group"] = wide["group"].fillna(0).astype("int64")
    wide["end_t"] = wide["end_t"].fillna(0).astype("int64")
    wide["facility_urban"] = pd.Series(pd.NA, index=wide.index, dtype="boolean")
    if residence is not None:
        urban = facility_residence(facilities["type"], residence)
        urban.index = facilities["orgunit_uid"].astype("str")
        wide["facility_urban"] = wide["facility_id"].map(urban).astype("boolean")
    cols = [
        "facility_id",
        "district",
        "facility_urban",
        "t",
        "month",
        *pops,
        *inds,
        *rates,
        *ratios,
        "group",
        "end_t",
        "reported",
    ]
    out = wide[cols].sort_values(["facility_id", "t"], kind="mergesort").reset_index(drop=True)
    for col in [*pops, *inds, *rates, *ratios]:
        out[col] = out[col].astype("float64")
    return out


def build_panels(
    facility_month: pd.DataFrame,
    facilities: pd.DataFrame,
    population: pd.DataFrame,
    programmes: pd.DataFrame,
    config: Mapping[str, Any],
    sites: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """``panel_{area}`` for every area of the config (``areas``, ``programmes``).

    Parameters
    ----------
    facility_month, facilities, population, programmes
        As for :func:`build_panel`.
    config
        Validated config.
    sites
        Ingested displacement sites, or ``None`` (see :func:`panel_for_area`).

    Returns
    -------
    dict
        Area name -> panel, in the config's order of areas.
    """
    return {
        area: panel_for_area(
            facility_month, facilities, population, programmes, config, area, sites=sites
        )
        for area in config["areas"]
    }


def panel_for_area(
    facility_month: pd.DataFrame,
    facilities: pd.DataFrame,
    population: pd.DataFrame,
    programmes: pd.DataFrame,
    config: Mapping[str, Any],
    area: str,
    *,
    sites: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``panel_{area}`` of one area of the config (its districts and its programme).

    With ``sites`` (the ingested displacement sites) and
    ``denominators.displacement_adjusted``, rates divide by the adjusted population
    (:func:`~sahel_eval.clean.denominators.denominator_population`).
    """
    spec = config["areas"][area]
    # An area district without facilities is refused by name, not an empty panel.
    # Imported here: the ingest package loads pandera (0.3 s), and the estimate jobs,
    # which import this module for `quality_ratio`, never build a panel.
    from sahel_eval.ingest.crosscheck import check_area_districts

    check_area_districts({"areas": {area: spec}}, facilities)
    names = [p["name"] for p in config["programmes"] if p["area"] == area]
    return build_panel(
        facility_month,
        facilities,
        denominator_population(population, sites, config),
        programmes,
        districts=spec["districts"],
        programme=names[0] if names else None,
        indicators=list(config["dhis2"]["indicators"]),
        quality=config["quality_of_care"],
        residence=config["did"]["facility_residence"],
    )
