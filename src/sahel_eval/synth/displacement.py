"""District population projections and displacement sites (DESIGN §3-4).

Sites are where displaced people live now, by aire de santé and month, with the aire
they fled (as IOM's displacement tracking records it). The seeds name the Senou site
in Bamako (1,254 people since 2019); the Mopti sites are invented, in the cercle
that received people fleeing Bankass and Koro. The demo's facility counts do not
respond to these moves yet: the files and their truth are there for the denominators.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .params import FIRST_MONTH, LAST_MONTH

# site, district, aire de santé, origin district, origin aire, first month, persons at
# first month, persons at the last month (linear in between).
SITES = (
    ("Site de Senou", "Commune VI", "Yirimadio", "Bankass", "Ogossagou", "2019-01", 1_254, 1_254),
    ("Site de Socoura", "Mopti", "Socoura", "Koro", "Dinangourou", "2018-06", 600, 2_400),
    ("Site de Fatoma", "Mopti", "Fatoma", "Bankass", "Sokoura", "2019-04", 300, 1_500),
)


def make_sites(fac: pd.DataFrame) -> pd.DataFrame:
    """Displacement sites: one row per site and month (``YYYY-MM``); a site whose aires
    the scale does not have (fewer CSCOMs per district) is left out."""
    aires = set(zip(fac["district"], fac["aire_de_sante"], strict=True))
    rows = []
    for site, district, aire, o_district, o_aire, first, n0, n1 in SITES:
        if not {(district, aire), (o_district, o_aire)} <= aires:
            continue
        months = pd.period_range(pd.Period(first, freq="M"), LAST_MONTH, freq="M")
        persons = np.rint(np.linspace(n0, n1, len(months))).astype(int)
        rows += [
            {
                "site": site,
                "district": district,
                "aire_de_sante": aire,
                "origin_district": o_district,
                "origin_aire_de_sante": o_aire,
                "month": str(m),
                "persons": int(p),
            }
            for m, p in zip(months, persons, strict=True)
        ]
    return pd.DataFrame(rows)


# Planted WHO DQR domain-4 gaps (district, first year, last year, factor on the
# projection): a projection that missed a town's growth, and one from an old census
# that over-counts. Far outside [0.67, 1.33] whatever the district factor, so that the
# routine coverage computed with the projection (domain 3) is off in the survey years
# too. Only district_population.csv moves: the facility data do not see them.
PROJECTION_GAPS = (("Youwarou", 2019, 2023, 0.45), ("Commune V", 2014, 2016, 2.2))


def make_projections(
    rng: np.random.Generator, fac: pd.DataFrame, pop: pd.DataFrame
) -> tuple[pd.DataFrame, list[dict]]:
    """Census-based district projections: the catchments' sum off by a district factor
    (catchment lists miss or double-count villages; WHO DQR domain 4), and the planted
    gaps (:data:`PROJECTION_GAPS`) with the catchment sum ÷ projection of each year."""
    district = pop["orgunit_uid"].map(dict(zip(fac["orgunit_uid"], fac["district"], strict=True)))
    total = pop.groupby([district.rename("district"), "year"])["population"].sum().reset_index()
    factor = {d: rng.uniform(0.92, 1.12) for d in sorted(total["district"].unique())}
    planted = pd.Series(1.0, index=total.index)
    for d, first, last, f in PROJECTION_GAPS:
        planted[total["district"].eq(d) & total["year"].between(first, last)] = f
    catchment = total["population"].copy()
    total["population"] = np.rint(
        total["population"] * total["district"].map(factor) * planted
    ).astype(np.int64)
    years = total["year"].between(FIRST_MONTH.year, LAST_MONTH.year)
    gaps = [
        {
            "district": str(total.at[i, "district"]),
            "year": int(total.at[i, "year"]),
            "projection_factor": float(planted[i]),
            "catchment_ratio": round(float(catchment[i] / total.at[i, "population"]), 4),
        }
        for i in total.index[years & planted.ne(1.0)]
    ]
    return total[years].reset_index(drop=True), gaps


def adjusted_population(fac: pd.DataFrame, pop: pd.DataFrame, sites: pd.DataFrame) -> list[dict]:
    """Truth: per facility of an aire with a site (or fled by one) and year, catchment
    population, displaced people in and out (mean over the year's months, 0 for months
    without the site) and the adjusted population = catchment + in − out."""
    aire = dict(
        zip(
            zip(fac["district"], fac["aire_de_sante"], strict=True), fac["orgunit_uid"], strict=True
        )
    )
    s = sites.assign(year=sites["month"].str[:4].astype(int))
    moves: dict[tuple[str, int], list[float]] = {}
    for (d, a, od, oa, year), g in s.groupby(
        ["district", "aire_de_sante", "origin_district", "origin_aire_de_sante", "year"]
    ):
        mean = g["persons"].sum() / 12
        moves.setdefault((aire[(d, a)], year), [0.0, 0.0])[0] += mean
        moves.setdefault((aire[(od, oa)], year), [0.0, 0.0])[1] += mean
    base = pop.set_index(["orgunit_uid", "year"])["population"]
    return [
        {
            "orgunit_uid": uid,
            "year": int(year),
            "population": int(base[(uid, year)]),
            "displaced_in": round(inn, 4),
            "displaced_out": round(out, 4),
            "adjusted_population": round(base[(uid, year)] + inn - out, 4),
        }
        for (uid, year), (inn, out) in sorted(moves.items())
    ]
