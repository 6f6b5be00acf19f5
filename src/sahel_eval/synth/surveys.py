"""DHS-style household-survey rounds: households, women, births, children.

Individual outcome probabilities are linear in their parts (so that the 2×2 DiD of
the truth is the planted effect with no link-function bias)::

    p = base[area] + district effect + district-round shock + round trend
        + effect × treated × exposed × wealth gain

The wealth gain (``params.WEALTH_GAIN``) plants a larger effect in the clusters of the
poorest two asset-wealth levels (issue 18: subgroups).

The district-round shock (``SURVEY_DISTRICT_ROUND_SD``) is the surveys' district-month
shock: shared by a district's respondents in one round, noise rather than signal.

The truth keeps each unit's noise-free probability with and without programme, so
prevalences and effects are means of those, weighted by the design weights.

One module of ~690 lines, on purpose for now: the household, woman, birth and child
draws consume one random stream in a fixed order, and that order is what makes the
committed demo data reproducible; the scheme, quality and cost items already live in
``survey_items`` on a stream of their own. A split should move the per-unit draws
whole (``_household`` … ``_birth``) and be checked byte for byte against ``data/raw``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import survey_items
from .params import (
    BAMAKO_COMMUNES,
    BIRTHS_PER_WOMAN_5Y,
    DJANTOLI_COMMUNE,
    DJANTOLI_END,
    DJANTOLI_START,
    HOUSEHOLD_SIZE_DRAW,
    HOUSEHOLD_SIZE_SCALE,
    I3S_CERCLES,
    I3S_END,
    I3S_WAVES,
    MOPTI_CERCLES,
    SURVEY_DISTRICT_ROUND_SD,
    SURVEY_FIELD_MONTH,
    SURVEY_ROUNDS,
    WOMEN_PER_HOUSEHOLD,
    Scale,
)
from .wealth import cluster_wealth_levels, household_wealth, wealth_gain

#: Share of boys among births (sex ratio at birth 105 : 100).
MALE_SHARE = 105 / 205

_FIRST = [
    "Fatoumata",
    "Aminata",
    "Mariam",
    "Kadiatou",
    "Awa",
    "Oumou",
    "Hawa",
    "Assitan",
    "Djénéba",
    "Salimata",
    "Amadou",
    "Moussa",
    "Boubacar",
    "Ousmane",
    "Seydou",
    "Ibrahim",
    "Mamadou",
    "Adama",
    "Hamidou",
    "Yacouba",
]
_LAST = [
    "Traoré",
    "Diallo",
    "Coulibaly",
    "Keïta",
    "Koné",
    "Sangaré",
    "Dembélé",
    "Maïga",
    "Cissé",
    "Touré",
    "Guindo",
    "Dolo",
    "Ongoïba",
    "Kassogué",
    "Tembély",
    "Boré",
    "Sidibé",
]

# Outcome models: base by area, effects in probability points at full exposure.
OUTCOMES = {
    "facility_delivery": {
        "Mopti": 0.42,
        "Bamako": 0.86,
        "trend": 0.02,
        "I3S": 0.10,
        "Djantoli": 0.08,
    },
    "fever_care": {"Mopti": 0.40, "Bamako": 0.58, "trend": 0.01, "I3S": 0.12, "Djantoli": 0.12},
    "mutual_membership": {
        "Mopti": 0.03,
        "Bamako": 0.05,
        "trend": 0.005,
        "I3S": 0.15,
        "Djantoli": 0.12,
    },
    "catastrophic_spending": {
        "Mopti": 0.14,
        "Bamako": 0.10,
        "trend": 0.0,
        "I3S": -0.05,
        "Djantoli": -0.04,
    },
    "coverage_ramed": {"Mopti": 0.015, "Bamako": 0.02, "trend": 0.0, "I3S": 0.0, "Djantoli": 0.02},
    "anc_bp_measured": {
        "Mopti": 0.55,
        "Bamako": 0.78,
        "trend": 0.02,
        "I3S": 0.10,
        "Djantoli": 0.08,
    },
    "forgone_care_cost": {
        "Mopti": 0.22,
        "Bamako": 0.14,
        "trend": 0.0,
        "I3S": -0.06,
        "Djantoli": -0.05,
    },
}
PERSISTENCE = {"I3S": 0.5, "Djantoli": 0.4}
# SDG 3.8.2 is a share of people: households weigh size × sampling weight (DESIGN §4).
PERSON_WEIGHTED = ("catastrophic_spending", "catastrophic_spending_25")
OTHER_INSURANCE = {"v481b": 0.02, "v481c": 0.04, "v481d": 0.01}  # employer, AMO, private

# Value labels (French). Don't-know / missing codes are defined here, per variable.
YES_NO = {0: "Non", 1: "Oui"}
YES_NO_MISSING = {0: "Non", 1: "Oui", 9: "Manquant"}
YES_NO_DK = {0: "Non", 1: "Oui", 8: "Ne sait pas", 9: "Manquant"}
LABELS = {
    "hv024": {3: "Kayes", 5: "Mopti", 9: "Bamako"},
    "hv025": {1: "Urbain", 2: "Rural"},
    "b4": {1: "Masculin", 2: "Féminin"},
    "hv270": {1: "Le plus pauvre", 2: "Pauvre", 3: "Moyen", 4: "Riche", 5: "Le plus riche"},
    "shoop": {9999998: "Ne sait pas", 9999999: "Manquant"},
    "v106": {0: "Aucun", 1: "Primaire", 2: "Secondaire", 3: "Supérieur"},
    "v133": {97: "Incohérent", 98: "Ne sait pas", 99: "Manquant"},
    "v481": YES_NO_MISSING,
    "v481a": YES_NO_MISSING,
    "v481b": YES_NO_MISSING,
    "v481c": YES_NO_MISSING,
    "v481d": YES_NO_MISSING,
    "m15": {
        11: "Domicile de la répondante",
        12: "Autre domicile",
        21: "Hôpital public",
        22: "CSRéf",
        23: "CSCOM",
        26: "Autre secteur public",
        31: "Clinique privée",
        32: "Cabinet médical privé",
        36: "Autre secteur privé",
        96: "Autre",
        99: "Manquant",
    },
    "h11": {
        0: "Non",
        1: "Oui, dernières 24 heures",
        2: "Oui, dernières 2 semaines",
        8: "Ne sait pas",
        9: "Manquant",
    },
    "h12": YES_NO_DK,
    "h22": YES_NO_DK,
    "s481r": YES_NO_MISSING,
    "m3a": YES_NO_MISSING,
    "m3b": YES_NO_MISSING,
    "m3c": YES_NO_MISSING,
    "m42c": YES_NO_DK,
    "shrenon": YES_NO_DK,
}
H32 = {
    "h32a": "Hôpital public",
    "h32b": "CSRéf",
    "h32c": "CSCOM",
    "h32d": "Agent de santé communautaire",
    "h32e": "Autre secteur public",
    "h32j": "Clinique ou cabinet privé",
    "h32k": "Pharmacie",
    "h32l": "Autre secteur médical privé",
    "h32s": "Boutique",
    "h32t": "Tradipraticien",
    "h32x": "Autre",
}
H32_CARE = ("h32a", "h32b", "h32c", "h32d", "h32e", "h32j", "h32l")
H32_OTHER = ("h32k", "h32s", "h32t", "h32x")
for _v in H32:
    LABELS[_v] = YES_NO_MISSING
DISTRICT_CODES = {d: i + 1 for i, d in enumerate(MOPTI_CERCLES + BAMAKO_COMMUNES)}
LABELS["shdist"] = {v: k for k, v in DISTRICT_CODES.items()}
# The individual recodes carry the household's design variables, with the same labels.
LABELS["sdist"] = LABELS["shdist"]
LABELS["v024"] = LABELS["hv024"]
LABELS["v025"] = LABELS["hv025"]


@dataclass
class SurveyRound:
    """One round: four recode files plus each unit's noise-free probabilities."""

    year: int
    households: pd.DataFrame
    women: pd.DataFrame
    births: pd.DataFrame
    children: pd.DataFrame
    # outcome -> DataFrame(p, p0, eligible, weight, area, district, arm, y, psu, strata):
    # y is the drawn outcome (benchmarks fit the 2×2 on it without the recode files).
    truth_units: dict


def cmc(year: int, month: int) -> int:
    """DHS century-month code."""
    return (year - 1900) * 12 + month


def _exposure(prog: str | None, when: pd.Timestamp, i3s_start: pd.Timestamp | None) -> float:
    """Share of the full effect a unit gets at date ``when`` (absorbing, partial after end)."""
    if prog is None:
        return 0.0
    start, end = (i3s_start, I3S_END) if prog == "I3S" else (DJANTOLI_START, DJANTOLI_END)
    if when < start:
        return 0.0
    return PERSISTENCE[prog] if when > end else 1.0


def _phone(rng: np.random.Generator) -> str:
    d = rng.integers(0, 10, 6)
    return f"+223 {int(rng.choice([66, 76, 79, 90]))} {d[0]}{d[1]} {d[2]}{d[3]} {d[4]}{d[5]}"


def district_effects(districts: list[str], rng: np.random.Generator) -> dict[str, float]:
    """Each district's lasting shift of every outcome probability (SD 0.04)."""
    return {d: float(rng.normal(0, 0.04)) for d in sorted(districts)}


def make_round(
    year: int,
    scale: Scale,
    rng: np.random.Generator,
    district_effects: dict[str, float],
    rx: np.random.Generator,
    areas: tuple[str, ...] = ("Mopti", "Bamako"),
) -> SurveyRound:
    """Draws one survey round (clusters, households, women, births, children) in
    ``areas`` (the Monte Carlo draws only the area it analyses); ``rx`` draws the
    items of :mod:`.survey_items`, so that they leave the other draws unchanged."""
    interview = pd.Timestamp(year=year, month=SURVEY_FIELD_MONTH, day=15)
    v008 = cmc(year, SURVEY_FIELD_MONTH)
    trend_steps = SURVEY_ROUNDS.index(year)
    hh_rows, w_rows, b_rows, k_rows = [], [], [], []
    psu = 0
    strata_codes: dict[tuple[str, int], int] = {}
    for area, districts in (("Mopti", MOPTI_CERCLES), ("Bamako", BAMAKO_COMMUNES)):
        if area not in areas:
            continue
        for district in districts:
            d_eff = district_effects[district] + rng.normal(0, SURVEY_DISTRICT_ROUND_SD)
            if area == "Mopti":
                prog = "I3S" if district in I3S_CERCLES else None
            else:
                prog = "Djantoli" if district == DJANTOLI_COMMUNE else None
            n_clusters = scale.size(district, scale.clusters_per_district)
            levels = cluster_wealth_levels(year, district, n_clusters)
            for c in range(n_clusters):
                psu += 1
                urban = 1 if (area == "Bamako" or c == 0) else 2
                stratum = strata_codes.setdefault((district, urban), len(strata_codes) + 1)
                # I3S reached clusters in two waves too (alternating, as its CSCOMs).
                i3s_start = I3S_WAVES[c % 2] if prog == "I3S" else None
                # Urban clusters are over-sampled in Mopti: smaller weights.
                w_base = (0.5 if urban == 1 else 1.2) if area == "Mopti" else 0.9
                cl_eff = rng.normal(0, 0.03)
                for h in range(1, scale.households_per_cluster + 1):
                    hh = _household(
                        rng,
                        rx,
                        area,
                        district,
                        psu,
                        h,
                        stratum,
                        urban,
                        w_base,
                        year,
                        interview,
                        prog,
                        i3s_start,
                        trend_steps,
                        d_eff + cl_eff,
                        levels[c],
                    )
                    hh_rows.append(hh)
                    for line in range(1, int(rng.choice(list(WOMEN_PER_HOUSEHOLD))) + 1):
                        w = _woman(
                            rng,
                            rx,
                            hh,
                            line,
                            v008,
                            interview,
                            prog,
                            i3s_start,
                            trend_steps,
                            d_eff + cl_eff,
                        )
                        w_rows.append(w)
                        for b in range(1, int(rng.poisson(BIRTHS_PER_WOMAN_5Y)) + 1):
                            birth, child = _birth(
                                rng,
                                rx,
                                w,
                                b,
                                v008,
                                prog,
                                i3s_start,
                                trend_steps,
                                d_eff + cl_eff,
                            )
                            b_rows.append(birth)
                            if child is not None:
                                k_rows.append(child)
    households = pd.DataFrame(hh_rows)
    women = pd.DataFrame(w_rows)
    births = pd.DataFrame(b_rows)
    children = pd.DataFrame(k_rows)
    truth_units = {}
    for name, frame, design in (
        ("catastrophic_spending", households, ("hv021", "hv022")),
        ("catastrophic_spending_25", households, ("hv021", "hv022")),
        ("forgone_care_cost", households, ("hv021", "hv022")),
        ("mutual_membership", women, ("v021", "v022")),
        ("any_insurance", women, ("v021", "v022")),
        ("coverage_amo", women, ("v021", "v022")),
        ("coverage_ramed", women, ("v021", "v022")),
        ("coverage_none", women, ("v021", "v022")),
        ("facility_delivery", births, ("v021", "v022")),
        ("skilled_birth_attendance", births, ("v021", "v022")),
        ("anc_bp_measured", births, ("v021", "v022")),
        ("fever_care", children, ("v021", "v022")),
        ("fever_care_24h", children, ("v021", "v022")),
    ):
        cols = [
            f"_p_{name}",
            f"_p0_{name}",
            f"_elig_{name}",
            "_person_weight" if name in PERSON_WEIGHTED else "_weight",
            "_area",
            "_district",
            "_arm",
            f"_y_{name}",
            *design,
        ]
        unit = frame[cols].copy()
        unit.columns = [
            "p",
            "p0",
            "eligible",
            "weight",
            "area",
            "district",
            "arm",
            "y",
            "psu",
            "strata",
        ]
        truth_units[name] = unit
    return SurveyRound(
        year,
        households=_public(households),
        women=_public(women),
        births=_public(births),
        children=_public(children),
        truth_units=truth_units,
    )


def child_sex(caseid: str, bidx: int, b3: int) -> int:
    """DHS ``b4`` of a birth (1 male, 2 female; 105 boys per 100 girls), from a hash of
    the birth, so that the other draws of the round stay as they were."""
    u = zlib.crc32(f"{caseid}|{bidx}|{b3}".encode()) / 2**32
    return 1 if u < MALE_SHARE else 2


def displace_recent_births(
    rnd: SurveyRound, area: str, share: float, months: int
) -> dict[str, int]:
    """Plant the fertility gap of ``params.FERTILITY_GAP`` in one round: ``share`` of the
    ``area``'s births of the last ``months`` months (chosen by a hash of the birth) are
    recorded ``months`` months earlier, in the births and the children recodes alike.
    Returns the counts of recent births before and of those moved."""
    hcode = {"Mopti": 5, "Bamako": 9}[area]
    moved = 0
    recent = 0
    keys = set()
    b = rnd.births
    for i in b.index[(b["v024"] == hcode) & (b["v008"] - b["b3"] < months)]:
        recent += 1
        u = zlib.crc32(f"gap|{b.at[i, 'caseid']}|{b.at[i, 'bidx']}".encode()) / 2**32
        if u < share:
            keys.add((b.at[i, "caseid"], b.at[i, "bidx"]))
            moved += 1
    for frame in (rnd.births, rnd.children):
        hit = [(c, x) in keys for c, x in zip(frame["caseid"], frame["bidx"], strict=True)]
        frame.loc[hit, "b3"] = frame.loc[hit, "b3"] - months
        dob = pd.to_datetime(frame.loc[hit, "sdob"]) - pd.DateOffset(months=months)
        frame.loc[hit, "sdob"] = dob.dt.strftime("%Y-%m-%d")
    return {"recent_births": recent, "displaced": moved}


def _public(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[:, [c for c in frame.columns if not c.startswith("_")]]


def _p(
    outcome: str,
    area: str,
    trend_steps: int,
    district_eff: float,
    prog: str | None,
    exposure: float,
) -> tuple[float, float]:
    spec = OUTCOMES[outcome]
    scale = spec[area] if outcome != "mutual_membership" else 1.0
    p0 = spec[area] + spec["trend"] * trend_steps + district_eff * scale
    p0 = float(np.clip(p0, 0.005, 0.995))
    p = p0 + (spec[prog] * exposure if prog else 0.0)
    return float(np.clip(p, 0.001, 0.999)), p0


def _household(
    rng,
    rx,
    area,
    district,
    psu,
    h,
    stratum,
    urban,
    w_base,
    year,
    interview,
    prog,
    i3s_start,
    trend_steps,
    d_eff,
    level,
):
    wealth = household_wealth(level, int(rng.integers(1, 6)))
    conso = int(round(float(rng.lognormal(np.log(700_000 * (1 + 0.35 * (wealth - 1))), 0.35))))
    gain = wealth_gain(level)
    exposure = _exposure(prog, interview, i3s_start) * gain
    p, p0 = _p("catastrophic_spending", area, trend_steps, d_eff / 3, prog, exposure)
    cat = rng.random() < p
    share = (
        rng.uniform(0.1001, 0.4)
        if cat
        else (0.0 if rng.random() < 0.3 else rng.uniform(0.0, 0.0999))
    )
    oop = int(round(share * conso))
    if not cat and rng.random() < 0.01:
        oop = 998  # a valid amount that looks like a don't-know code
    u = rng.random()
    dk = u < 0.02
    oop_code = 9999998 if dk else (9999999 if u > 0.995 else oop)
    size = int(1 + round(HOUSEHOLD_SIZE_SCALE * rng.poisson(HOUSEHOLD_SIZE_DRAW)))
    hv005 = int(round(w_base * rng.uniform(0.9, 1.1) * 1e6))
    p_forgone = _p("forgone_care_cost", area, trend_steps, d_eff / 3, prog, exposure)
    lat = round(float(rng.uniform(13.8, 15.4) if area == "Mopti" else rng.uniform(12.58, 12.7)), 6)
    lon = round(float(rng.uniform(-4.8, -1.9) if area == "Mopti" else rng.uniform(-8.05, -7.9)), 6)
    out = {
        "hhid": f"{psu:4d}{h:4d}",
        "hv001": psu,
        "hv002": h,
        "hv005": hv005,
        "hv021": psu,
        "hv022": stratum,
        "hv024": 5 if area == "Mopti" else 9,
        "hv025": urban,
        "shdist": DISTRICT_CODES[district],
        "shcomm": district,
        "hv009": size,
        "hv270": wealth,
        "shconso": conso,
        "shoop": oop_code,
        "shnom": f"{_FIRST[int(rng.integers(len(_FIRST)))]} {_LAST[int(rng.integers(len(_LAST)))]}",
        "shtel": _phone(rng),
        "gps_lat": lat,
        "gps_lon": lon,
        "_p_catastrophic_spending": p,
        "_p0_catastrophic_spending": p0,
        "_elig_catastrophic_spending": oop_code < 9999998,
        "_y_catastrophic_spending": float(cat),
        "_weight": hv005 / 1e6,
        "_person_weight": size * hv005 / 1e6,
        "_area": area,
        "_district": district,
        "_arm": "treated" if prog else "comparison",
        "_prog": prog,
        "_i3s_start": i3s_start,
        "_gain": gain,
    }
    return (
        out | survey_items.household_items(rx, p_forgone) | survey_items.catastrophic_25(out, share)
    )


def _woman(rng, rx, hh, line, v008, interview, prog, i3s_start, trend_steps, d_eff):
    area = hh["_area"]
    exposure = _exposure(prog, interview, i3s_start) * hh["_gain"]
    p_mut, p0_mut = _p("mutual_membership", area, trend_steps, d_eff / 6, prog, exposure)
    mutual = int(rng.random() < p_mut)
    others = {v: int(rng.random() < q) for v, q in OTHER_INSURANCE.items()}
    any_ins = int(mutual or any(others.values()))
    q_other = 1 - np.prod([1 - q for q in OTHER_INSURANCE.values()])
    miss = rng.random() < 0.01
    items = survey_items.woman_items(
        rx,
        miss,
        _p("coverage_ramed", area, trend_steps, 0.0, prog, exposure),
        (p_mut, p0_mut),
        q_other,
        OTHER_INSURANCE["v481c"],
        bool(any_ins),
    )
    return items | {
        "caseid": f"{hh['hhid']}{line:3d}",
        "v001": hh["hv001"],
        "v002": hh["hv002"],
        "v003": line,
        "v005": hh["hv005"],
        "v008": v008,
        "v021": hh["hv021"],
        "v022": hh["hv022"],
        "v024": hh["hv024"],
        "v025": hh["hv025"],
        "sdist": hh["shdist"],
        "scomm": hh["shcomm"],
        "v012": int(rng.integers(15, 50)),
        "v106": int(rng.choice([0, 0, 0, 1, 1, 2, 3]) if area == "Mopti" else rng.integers(0, 4)),
        "v133": int(rng.choice([0, 0, 3, 6, 8, 8, 9, 12, 98])),
        "v190": hh["hv270"],
        "v201": int(rng.poisson(3.6)),
        "v481": 9 if miss else any_ins,
        "v481a": 9 if miss else mutual,
        "v481b": 9 if miss else others["v481b"],
        "v481c": 9 if miss else others["v481c"],
        "v481d": 9 if miss else others["v481d"],
        "snom": f"{_FIRST[int(rng.integers(10))]} {_LAST[int(rng.integers(len(_LAST)))]}",
        "stel": _phone(rng),
        "_p_mutual_membership": p_mut,
        "_p0_mutual_membership": p0_mut,
        "_elig_mutual_membership": not miss,
        "_y_mutual_membership": float(mutual),
        "_p_any_insurance": 1 - (1 - p_mut) * (1 - q_other),
        "_p0_any_insurance": 1 - (1 - p0_mut) * (1 - q_other),
        "_elig_any_insurance": not miss,
        "_y_any_insurance": float(any_ins),
        "_y_coverage_amo": float(others["v481c"]),
        "_weight": hh["hv005"] / 1e6,
        "_area": area,
        "_district": hh["_district"],
        "_arm": hh["_arm"],
        "_gain": hh["_gain"],
    }


def _birth(rng, rx, w, bidx, v008, prog, i3s_start, trend_steps, d_eff):
    area = w["_area"]
    b3 = int(v008 - rng.integers(0, 60))  # births in the last five years
    when = pd.Timestamp(year=1900 + (b3 - 1) // 12, month=(b3 - 1) % 12 + 1, day=1)
    exposure = _exposure(prog, when, i3s_start) * w["_gain"]
    p, p0 = _p("facility_delivery", area, trend_steps, d_eff, prog, exposure)
    facility = rng.random() < p
    if rng.random() < 0.01:
        m15 = 99
    elif facility:
        m15 = int(rng.choice([21, 22, 23, 23, 23, 26, 31, 32, 36]))
    else:
        m15 = int(rng.choice([11, 11, 11, 12, 96]))
    dob = when + pd.Timedelta(days=int(rng.integers(0, 28)))
    items = survey_items.birth_items(
        rx,
        area,
        facility,
        (p, p0),
        _p("anc_bp_measured", area, trend_steps, d_eff, prog, exposure),
    )
    birth = items | {
        "caseid": w["caseid"],
        "bidx": bidx,
        "v001": w["v001"],
        "v002": w["v002"],
        "v003": w["v003"],
        "v005": w["v005"],
        "v008": v008,
        "v021": w["v021"],
        "v022": w["v022"],
        "v024": w["v024"],
        "v025": w["v025"],
        "sdist": w["sdist"],
        "scomm": w["scomm"],
        "b3": b3,
        "b4": child_sex(w["caseid"], bidx, b3),
        "m15": m15,
        "sdob": dob.date().isoformat(),
        "_p_facility_delivery": p,
        "_p0_facility_delivery": p0,
        "_elig_facility_delivery": m15 != 99,
        "_y_facility_delivery": float(facility),
        "_weight": w["_weight"],
        "_area": area,
        "_district": w["_district"],
        "_arm": w["_arm"],
    }
    # Children: every birth in the last five years is alive in this demo.
    interview = pd.Timestamp(year=1900 + (v008 - 1) // 12, month=(v008 - 1) % 12 + 1, day=15)
    exp_now = _exposure(prog, interview, i3s_start) * w["_gain"]
    pc, pc0 = _p("fever_care", area, trend_steps, d_eff, prog, exp_now)
    u = rng.random()
    h22 = 8 if u < 0.015 else (9 if u < 0.025 else int(rng.random() < 0.27))
    child = {
        k: birth[k]
        for k in (
            "caseid",
            "bidx",
            "v001",
            "v002",
            "v003",
            "v005",
            "v008",
            "v021",
            "v022",
            "v024",
            "v025",
            "sdist",
            "scomm",
            "b3",
            "b4",
            "sdob",
        )
    }
    d = rng.random()
    child["h11"] = 8 if d < 0.01 else int(rng.choice([0, 0, 0, 0, 0, 1, 2]))
    child["h12"] = (
        int(rng.random() < 0.5) if child["h11"] in (1, 2) else (8 if child["h11"] == 8 else 0)
    )
    child["h22"] = h22
    sought = rng.random() < pc
    for v in H32:
        child[v] = np.nan if h22 != 1 else 0
    if h22 == 1:
        if sought:
            child[str(rng.choice(H32_CARE))] = 1
        elif rng.random() < 0.4:
            child[str(rng.choice(H32_OTHER))] = 1
    child.update(survey_items.child_items(rx, h22 == 1, sought, (pc, pc0)))
    child.update(
        {
            "_p_fever_care": pc,
            "_p0_fever_care": pc0,
            "_elig_fever_care": h22 == 1,
            "_y_fever_care": float(sought),
            "_weight": w["_weight"],
            "_area": area,
            "_district": w["_district"],
            "_arm": w["_arm"],
        }
    )
    return birth, child
