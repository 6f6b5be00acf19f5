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


def make_projections(
    rng: np.random.Generator, fac: pd.DataFrame, pop: pd.DataFrame
) -> pd.DataFrame:
    """Census-based district projections: the catchments' sum off by a district factor
    (catchment lists miss or double-count villages; WHO DQR domain 4)."""
    district = pop["orgunit_uid"].map(dict(zip(fac["orgunit_uid"], fac["district"], strict=True)))
    total = pop.groupby([district.rename("district"), "year"])["population"].sum().reset_index()
    factor = {d: rng.uniform(0.92, 1.12) for d in sorted(total["district"].unique())}
    total["population"] = np.rint(total["population"] * total["district"].map(factor)).astype(
        np.int64
    )
    years = range(FIRST_MONTH.year, LAST_MONTH.year + 1)
    return total[total["year"].isin(years)].reset_index(drop=True)


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
