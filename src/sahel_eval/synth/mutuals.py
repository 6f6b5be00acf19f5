"""Mutual-insurance registers (French headers, one file per mutual)."""

from __future__ import annotations

import numpy as np
import pandas as pd

# The two I3S inter-professional mutuals of Mopti (farmers; artisans and traders of the
# informal sector) and Djantoli's Commune III mutual with its AMV+ and RAMED+ members.
# name, file stem, format, launch year, end of programme support,
# schemes: (scheme, target population in 2015, contribution per beneficiary per year
# in FCFA, members per year of age)
MUTUALS = (
    (
        "Mutuelle interprofessionnelle des agriculteurs de Mopti",
        "mutuelle_agriculteurs",
        "csv",
        2016,
        2021,
        (("AMV", 520_000, 3_500, 1_500),),
    ),
    (
        "Mutuelle interprofessionnelle des artisans et commerçants du secteur informel",
        "mutuelle_artisans_commercants",
        "xlsx",
        2017,
        2021,
        (("AMV", 310_000, 4_200, 900),),
    ),
    (
        "Mutuelle de santé de la Commune III",
        "mutuelle_commune3",
        "xlsx",
        2012,
        2019,
        (("AMV+", 180_000, 6_000, 200), ("RAMED+", 9_000, 0, 20)),
    ),
)
# The area of each mutual (config ``mutuals.areas``), for affordability.
AREA = {
    "Mutuelle interprofessionnelle des agriculteurs de Mopti": "Mopti",
    "Mutuelle interprofessionnelle des artisans et commerçants du secteur informel": "Mopti",
    "Mutuelle de santé de la Commune III": "Bamako",
}
# Djantoli's count at its end (programme documents): 5,760 covered = 5,563 + 197.
DJANTOLI_COUNT = {"year": 2019, "AMV+": (1_325, 5_563), "RAMED+": (61, 197)}
# RAMED members pay no contribution (DESIGN §4): these KPIs do not apply to them.
NOT_APPLICABLE = {
    "RAMED+": (
        "renewal",
        "collection",
        "claims_ratio",
        "operating_cost_ratio",
        "cost_recovery",
        "affordability",
    )
}
RAMED_START = 2017  # RAMED+ enrolment through the mutual began with Djantoli
YEARS = range(2015, 2024)
COLUMNS = {
    "mutual": "mutuelle",
    "scheme": "regime",
    "year": "annee",
    "target_population": "population_cible",
    "members": "adherents",
    "beneficiaries": "beneficiaires",
    "renewals_due": "renouvellements_attendus",
    "renewed": "renouveles",
    "contribution_per_beneficiary": "cotisation_annuelle_par_beneficiaire",
    "contributions_due": "cotisations_dues",
    "contributions_collected": "cotisations_percues",
    "claims_paid": "prestations_payees",
    "admin_costs": "frais_gestion",
    "subsidies": "subventions",
}


def _scheme_rows(
    rng: np.random.Generator,
    name: str,
    launch: int,
    end: int,
    scheme: tuple[str, int, int, int],
) -> list[dict]:
    label, target, premium, per_year = scheme
    ramed = premium == 0
    first = RAMED_START if ramed else launch
    rows = []
    members_prev = 0
    for year in YEARS:
        age = year - first
        if age < 0:
            members = 0
        elif year <= end:
            members = int(per_year * min(age + 1, 6) * rng.uniform(0.9, 1.1))
        else:  # support has stopped: members drift away
            members = int(members_prev * rng.uniform(0.7, 0.85))
        beneficiaries = int(members * rng.uniform(3.0, 3.6 if ramed else 4.6))
        if name.endswith("Commune III") and year == DJANTOLI_COUNT["year"]:
            members, beneficiaries = DJANTOLI_COUNT[label]
        supported = first <= year <= end
        renewals_due = members_prev
        renewed = int(
            renewals_due * (rng.uniform(0.55, 0.75) if supported else rng.uniform(0.35, 0.5))
        )
        due = beneficiaries * premium
        collected = int(due * (rng.uniform(0.75, 0.92) if supported else rng.uniform(0.5, 0.7)))
        if ramed:  # the state (ANAM) pays the care of indigents; no contribution, no renewal
            claims = int(beneficiaries * rng.uniform(2_000, 3_000))
            admin = int(claims * rng.uniform(0.05, 0.1))
            subsidies = claims + admin
        else:
            claims = int(collected * rng.uniform(0.6, 1.15))
            admin = int(collected * rng.uniform(0.12, 0.3))
            subsidies = int(due * 0.5) if supported else int(due * 0.05)
        rows.append(
            {
                "mutual": name,
                "scheme": label,
                "year": year,
                "target_population": int(target * 1.03 ** (year - 2015)),
                "members": members,
                "beneficiaries": beneficiaries,
                "renewals_due": None if ramed else renewals_due,
                "renewed": None if ramed else renewed,
                "contribution_per_beneficiary": premium,
                "contributions_due": due,
                "contributions_collected": collected,
                "claims_paid": claims,
                "admin_costs": admin,
                "subsidies": subsidies,
            }
        )
        members_prev = members
    return rows


def make_registers(rng: np.random.Generator) -> dict[str, tuple[str, pd.DataFrame]]:
    """One register per mutual, a row per scheme and year: {file stem: (format, frame
    with French headers)}."""
    out = {}
    for name, stem, fmt, launch, end, schemes in MUTUALS:
        rows = [r for sch in schemes for r in _scheme_rows(rng, name, launch, end, sch)]
        frame = pd.DataFrame(rows)
        for col in ("renewals_due", "renewed"):
            frame[col] = frame[col].astype("Int64")
        out[stem] = (fmt, frame.rename(columns=COLUMNS))
    return out


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def consumption_per_person(households: dict[int, pd.DataFrame]) -> dict[tuple[str, int], float]:
    """(area, round year) -> Σ weight × consumption ÷ Σ weight × household size, from the
    households' recode files (DESIGN §4: consumption per person, person-weighted)."""
    out = {}
    for year, hh in households.items():
        w = hh["hv005"] / 1e6
        for code, area in ((5, "Mopti"), (9, "Bamako")):
            a = (hh["hv024"] == code) & (hh["hv009"] > 0)
            if a.any():
                out[(area, year)] = float(
                    (w[a] * hh.loc[a, "shconso"]).sum() / (w[a] * hh.loc[a, "hv009"]).sum()
                )
    return out


def _affordability(x, consumption: dict[tuple[str, int], float]) -> float | None:
    rounds = [y for a, y in consumption if a == AREA[x.mutual] and y <= x.year]
    if not rounds:
        return None
    return x.contribution_per_beneficiary / consumption[(AREA[x.mutual], max(rounds))]


def kpis(register: pd.DataFrame, consumption: dict[tuple[str, int], float]) -> list[dict]:
    """DESIGN §8 KPIs per mutual, scheme and year (None where a denominator is zero or
    the KPI does not apply to the scheme, which ``not_applicable`` lists);
    ``consumption`` as :func:`consumption_per_person`."""
    r = register.rename(columns={v: k for k, v in COLUMNS.items()})
    out = []
    for x in r.itertuples(index=False):
        costs = x.claims_paid + x.admin_costs
        skip = NOT_APPLICABLE.get(x.scheme, ())
        row = {
            "penetration": _ratio(x.beneficiaries, x.target_population),
            "renewal": None if x.scheme in NOT_APPLICABLE else _ratio(x.renewed, x.renewals_due),
            "collection": _ratio(x.contributions_collected, x.contributions_due),
            "claims_ratio": _ratio(x.claims_paid, x.contributions_collected),
            "operating_cost_ratio": _ratio(x.admin_costs, x.contributions_collected),
            "cost_recovery": _ratio(x.contributions_collected, costs),
            "cost_recovery_with_subsidies": _ratio(x.contributions_collected + x.subsidies, costs),
            "affordability": _affordability(x, consumption),
        }
        out.append(
            {
                "mutual": x.mutual,
                "scheme": x.scheme,
                "year": int(x.year),
                "members": int(x.members),
                "beneficiaries": int(x.beneficiaries),
                **{k: (None if k in skip else v) for k, v in row.items()},
                "not_applicable": list(skip),
            }
        )
    return out
