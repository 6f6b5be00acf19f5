"""Master facility list and catchment populations."""

from __future__ import annotations

import string

import numpy as np
import pandas as pd

from .params import (
    BAMAKO_COMMUNES,
    CONFLICT_CERCLES,
    FIRST_MONTH,
    LAST_MONTH,
    MOPTI_CERCLES,
    Scale,
)

# Communes and localities per cercle (names as spelled locally; a pool to draw aires from).
_LOCALITIES = {
    "Bandiagara": [
        "Bandiagara",
        "Sangha",
        "Dourou",
        "Kendié",
        "Wadouba",
        "Tiréli",
        "Ningari",
        "Doucombo",
        "Pignari",
        "Ségué",
        "Kani-Bonzon",
        "Soroly",
        "Dandoli",
    ],
    "Bankass": [
        "Bankass",
        "Ségué-Iré",
        "Kani-Kombolé",
        "Baye",
        "Diallassagou",
        "Sokoura",
        "Ogossagou",
        "Koulogon",
        "Dimbal",
        "Tori",
        "Lessagou",
    ],
    "Djenné": [
        "Djenné",
        "Sofara",
        "Fakala",
        "Kéwa",
        "Madiama",
        "Ouro-Ali",
        "Pondori",
        "Niansanarié",
        "Femaye",
        "Dandougou",
    ],
    "Douentza": [
        "Douentza",
        "Boni",
        "Hombori",
        "Boulkessi",
        "Dallah",
        "Mondoro",
        "Petaka",
        "Kerena",
        "Haïré",
        "Gandamia",
    ],
    "Koro": [
        "Koro",
        "Dinangourou",
        "Dioungani",
        "Bondo",
        "Madougou",
        "Yoro",
        "Gangafani",
        "Barapireli",
        "Toroli",
        "Pel",
    ],
    "Mopti": [
        "Mopti",
        "Sévaré",
        "Socoura",
        "Fatoma",
        "Konna",
        "Sio",
        "Soye",
        "Dialloubé",
        "Borondougou",
        "Kounari",
        "Ouro-Modi",
        "Bassirou",
    ],
    "Ténenkou": [
        "Ténenkou",
        "Togoro-Kotia",
        "Diafarabé",
        "Dioura",
        "Toguéré-Coumbé",
        "Sougoulbé",
        "Karéri",
        "Diaka",
    ],
    "Youwarou": ["Youwarou", "Deboye", "Dirma", "Bimbéré-Tama", "Farimaké", "N'Dodjiga", "Akka"],
    "Commune I": [
        "Banconi",
        "Boulkassoumbougou",
        "Djélibougou",
        "Doumanzana",
        "Fadjiguila",
        "Sotuba",
        "Korofina",
    ],
    "Commune II": ["Bagadadji", "Médina-Coura", "Niaréla", "Bozola", "Hippodrome", "Quinzambougou"],
    "Commune III": [
        "Bamako-Coura",
        "Darsalam",
        "Dravéla",
        "Koulouba",
        "Point G",
        "Sogonafing",
        "N'Tomikorobougou",
        "Badialan",
    ],
    "Commune IV": ["Lafiabougou", "Hamdallaye", "Djicoroni-Para", "Sébénikoro", "Taliko", "Lassa"],
    "Commune V": [
        "Badalabougou",
        "Quartier Mali",
        "Torokorobougou",
        "Daoudabougou",
        "Kalaban-Coura",
        "Sabalibougou",
    ],
    "Commune VI": [
        "Sogoniko",
        "Faladié",
        "Magnambougou",
        "Niamakoro",
        "Sokorodji",
        "Banankabougou",
        "Missabougou",
        "Yirimadio",
    ],
}
_ROMAN = ["", " II", " III", " IV", " V", " VI", " VII", " VIII", " IX", " X"]
_UID_FIRST = string.ascii_letters
_UID_REST = string.ascii_letters + string.digits


def dhis2_uids(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct DHIS2-style UIDs: 11 characters, a letter first."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        uid = _UID_FIRST[rng.integers(len(_UID_FIRST))] + "".join(
            _UID_REST[i] for i in rng.integers(len(_UID_REST), size=10)
        )
        if uid not in seen:
            seen.add(uid)
            out.append(uid)
    return out


def _aires(district: str, n: int) -> list[str]:
    """``n`` distinct aires de santé named after the district's localities."""
    pool = _LOCALITIES[district]
    names = []
    for i in range(n):
        base = pool[i % len(pool)]
        names.append(
            base
            + _ROMAN[(i // len(pool)) % len(_ROMAN)]
            + ("" if i < len(pool) * len(_ROMAN) else f" {i}")
        )
    return names


def make_facilities(rng: np.random.Generator, scale: Scale) -> pd.DataFrame:
    """The master facility list, with the planted openings and conflict closures.

    ``closed`` is set later by the facility model (closures follow dated events); here
    every facility is open at the end.
    """
    rows = []
    for region, districts, per in (
        ("Mopti", MOPTI_CERCLES, scale.facilities_per_cercle),
        ("Bamako", BAMAKO_COMMUNES, scale.facilities_per_commune),
    ):
        for district in districts:
            for k, aire in enumerate(_aires(district, scale.size(district, per))):
                urban = region == "Bamako" or k == 0
                rows.append(
                    {
                        "region": region,
                        "district": district,
                        # Bamako's communes are both commune and health district.
                        "commune": district if region == "Bamako" else aire.split(" ")[0],
                        "aire_de_sante": aire,
                        "orgunit_name": f"CSCOM de {aire}",
                        "type": "CSCOM urbain" if urban else "CSCOM",
                        "urban": urban,
                    }
                )
    fac = pd.DataFrame(rows)
    fac.insert(0, "orgunit_uid", dhis2_uids(rng, len(fac)))
    n = len(fac)
    # Most CSCOMs predate the data; about 6 % open during the period.
    opened = pd.to_datetime("2000-01-01") + pd.to_timedelta(rng.integers(0, 4700, n), unit="D")
    late = rng.random(n) < 0.06
    late_days = rng.integers(365, 365 * 6, n)
    opened = opened.where(~late, pd.Timestamp("2014-01-01") + pd.to_timedelta(late_days, unit="D"))
    fac["opened"] = opened
    fac["closed"] = pd.NaT
    fac["conflict_zone"] = fac["district"].isin(CONFLICT_CERCLES)
    return fac


def make_population(rng: np.random.Generator, fac: pd.DataFrame) -> pd.DataFrame:
    """Catchment population per facility and year (growth ≈ 3 %/year)."""
    years = np.arange(FIRST_MONTH.year, LAST_MONTH.year + 1)
    bamako = (fac["region"] == "Bamako").to_numpy()
    base = np.where(
        bamako, rng.uniform(18_000, 45_000, len(fac)), rng.uniform(6_000, 18_000, len(fac))
    )
    growth = rng.uniform(0.025, 0.035, len(fac))
    pop = base[:, None] * (1 + growth[:, None]) ** (years[None, :] - years[0])
    out = pd.DataFrame(
        {
            "orgunit_uid": np.repeat(fac["orgunit_uid"].to_numpy(), len(years)),
            "year": np.tile(years, len(fac)),
            "population": np.rint(pop).astype(np.int64).ravel(),
        }
    )
    return out
