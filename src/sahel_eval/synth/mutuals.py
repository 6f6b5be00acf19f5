"""Mutual-insurance registers (French headers, one file per mutual)."""

from __future__ import annotations

import numpy as np
import pandas as pd

# name, file stem, format, launch year, end of programme support, target population,
# premium per beneficiary per year (FCFA)
MUTUALS = (
    (
        "Mutuelle interprofessionnelle de Bandiagara",
        "mutuelle_bandiagara",
        "csv",
        2017,
        2021,
        380_000,
        3_500,
    ),
    (
        "Mutuelle interprofessionnelle de Mopti",
        "mutuelle_mopti",
        "xlsx",
        2016,
        2021,
        450_000,
        3_500,
    ),
    (
        "Mutuelle de santé de la Commune III",
        "mutuelle_commune3",
        "xlsx",
        2012,
        2019,
        180_000,
        6_000,
    ),
)
YEARS = range(2015, 2024)
COLUMNS = {
    "mutual": "mutuelle",
    "year": "annee",
    "target_population": "population_cible",
    "members": "adherents",
    "beneficiaries": "beneficiaires",
    "renewals_due": "renouvellements_attendus",
    "renewed": "renouveles",
    "contributions_due": "cotisations_dues",
    "contributions_collected": "cotisations_percues",
    "claims_paid": "prestations_payees",
    "admin_costs": "frais_gestion",
    "subsidies": "subventions",
}


def make_registers(rng: np.random.Generator) -> dict[str, tuple[str, pd.DataFrame]]:
    """One register per mutual: {file stem: (format, frame with French headers)}."""
    out = {}
    for name, stem, fmt, launch, end, target, premium in MUTUALS:
        rows = []
        members_prev = 0
        for year in YEARS:
            age = year - launch
            if age < 0:
                members = 0
            elif year <= end:
                members = int(1_500 * min(age + 1, 6) * rng.uniform(0.9, 1.1))
            else:  # support has stopped: members drift away
                members = int(members_prev * rng.uniform(0.7, 0.85))
            supported = launch <= year <= end
            renewals_due = members_prev
            renewed = int(
                renewals_due * (rng.uniform(0.55, 0.75) if supported else rng.uniform(0.35, 0.5))
            )
            beneficiaries = int(members * rng.uniform(3.8, 4.6))
            due = beneficiaries * premium
            collected = int(due * (rng.uniform(0.75, 0.92) if supported else rng.uniform(0.5, 0.7)))
            claims = int(collected * rng.uniform(0.6, 1.15))
            admin = int(collected * rng.uniform(0.12, 0.3))
            subsidies = int(due * 0.5) if supported else int(due * 0.05)
            rows.append(
                {
                    "mutual": name,
                    "year": year,
                    "target_population": int(target * 1.03 ** (year - 2015)),
                    "members": members,
                    "beneficiaries": beneficiaries,
                    "renewals_due": renewals_due,
                    "renewed": renewed,
                    "contributions_due": due,
                    "contributions_collected": collected,
                    "claims_paid": claims,
                    "admin_costs": admin,
                    "subsidies": subsidies,
                }
            )
            members_prev = members
        out[stem] = (fmt, pd.DataFrame(rows).rename(columns=COLUMNS))
    return out


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def kpis(register: pd.DataFrame) -> list[dict]:
    """DESIGN §8 KPIs per mutual and year (None where a denominator is zero)."""
    r = register.rename(columns={v: k for k, v in COLUMNS.items()})
    out = []
    for x in r.itertuples(index=False):
        costs = x.claims_paid + x.admin_costs
        out.append(
            {
                "mutual": x.mutual,
                "year": int(x.year),
                "penetration": _ratio(x.beneficiaries, x.target_population),
                "renewal": _ratio(x.renewed, x.renewals_due),
                "collection": _ratio(x.contributions_collected, x.contributions_due),
                "claims_ratio": _ratio(x.claims_paid, x.contributions_collected),
                "operating_cost_ratio": _ratio(x.admin_costs, x.contributions_collected),
                "cost_recovery": _ratio(x.contributions_collected, costs),
                "cost_recovery_with_subsidies": _ratio(
                    x.contributions_collected + x.subsidies, costs
                ),
            }
        )
    return out
