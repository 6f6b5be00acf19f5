"""Security events (ACLED-style) and the programme roll-out table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .params import DJANTOLI_COMMUNE, DJANTOLI_END, DJANTOLI_START, I3S_END

# Dated events of the demo. The large ones are the well-known attacks named in the
# source documents; fatalities are rounded, and the small ones are invented so that the
# fatality threshold and the chaining rule have something to act on.
_EVENTS = [
    # date, cercle, commune, location, event type, sub-type, fatalities
    ("2015-05-10", "Ténenkou", "Ténenkou", "Ténenkou", "Battles", "Armed clash", 4),
    ("2016-08-14", "Djenné", "Djenné", "Djenné", "Violence against civilians", "Attack", 2),
    ("2018-05-19", "Koro", "Koro", "Koro", "Violence against civilians", "Attack", 3),
    (
        "2019-01-01",
        "Bankass",
        "Koulogon",
        "Koulogon-Peul",
        "Violence against civilians",
        "Attack",
        37,
    ),
    (
        "2019-03-23",
        "Bankass",
        "Ogossagou",
        "Ogossagou",
        "Violence against civilians",
        "Attack",
        157,
    ),
    ("2019-06-09", "Bandiagara", "Sangha", "Sobane Da", "Violence against civilians", "Attack", 35),
    ("2019-06-17", "Koro", "Yoro", "Gangafani", "Violence against civilians", "Attack", 41),
    ("2019-07-02", "Koro", "Dinangourou", "Dinangourou", "Battles", "Armed clash", 6),
    ("2019-08-20", "Bandiagara", "Dourou", "Dourou", "Violence against civilians", "Attack", 12),
    ("2019-09-30", "Douentza", "Boulkessi", "Boulkessi", "Battles", "Armed clash", 40),
    (
        "2020-12-03",
        "Mopti",
        "Konna",
        "Konna",
        "Explosions/Remote violence",
        "Remote explosive/landmine/IED",
        3,
    ),
    ("2021-12-03", "Bandiagara", "Songho", "Songho", "Violence against civilians", "Attack", 31),
    ("2022-03-04", "Douentza", "Mondoro", "Mondoro", "Battles", "Armed clash", 27),
]


def make_events(rng: np.random.Generator) -> pd.DataFrame:
    """ACLED-style events table of the Mopti region."""
    rows = []
    for i, (date, cercle, commune, loc, etype, sub, fat) in enumerate(_EVENTS, start=1):
        rows.append(
            {
                "event_id_cnty": f"MLI{1000 + i}",
                "event_date": date,
                "year": int(date[:4]),
                "event_type": etype,
                "sub_event_type": sub,
                "actor1": "Unidentified Armed Group (Mali)",
                "admin1": "Mopti",
                "admin2": cercle,
                "admin3": commune,
                "location": loc,
                "latitude": round(float(rng.uniform(13.9, 15.3)), 4),
                "longitude": round(float(rng.uniform(-4.6, -2.0)), 4),
                "fatalities": fat,
                "notes": "Synthetic demo event.",
            }
        )
    return pd.DataFrame(rows)


def make_programmes(fac: pd.DataFrame) -> pd.DataFrame:
    """Roll-out table: I3S per facility (staggered), Djantoli for Commune III."""
    i3s = fac.loc[fac["i3s_start"].notna(), ["orgunit_uid", "i3s_start"]]
    rows = [
        {
            "programme": "I3S",
            "unit_level": "facility",
            "unit_id": uid,
            "start": start.date().isoformat(),
            "end": I3S_END.date().isoformat(),
        }
        for uid, start in zip(i3s["orgunit_uid"], i3s["i3s_start"], strict=True)
    ]
    rows.append(
        {
            "programme": "Djantoli",
            "unit_level": "commune",
            "unit_id": DJANTOLI_COMMUNE,
            "start": DJANTOLI_START.date().isoformat(),
            "end": DJANTOLI_END.date().isoformat(),
        }
    )
    return pd.DataFrame(rows)
