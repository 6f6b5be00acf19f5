"""Survey items of DESIGN §4 beyond use of care: scheme coverage, quality of care,
financial protection (issue 17).

Drawn from a stream of their own (``rx``), so that adding them left every earlier
draw of the demo as it was. Each outcome's noise-free probability is kept, as the
older outcomes', for the truth:

- ``coverage_ramed`` (country item ``s481r``): linear model as the other outcomes.
- ``coverage_amo`` = ``v481c`` (DHS social security), a constant probability.
- ``coverage_none``: no scheme item and no other insurance is yes.
- ``skilled_birth_attendance`` (``m3a``–``m3c``): 0.92 after a facility delivery,
  0.04 otherwise, so p = 0.04 + 0.88 × p(facility delivery).
- ``anc_bp_measured`` (``m42c``, births with ANC, ``m14`` > 0): linear model.
- ``fever_care_24h`` (``h46b`` ≤ 1, same or next day): 60 % of care sought is prompt,
  so p = 0.6 × p(fever care).
- ``forgone_care_cost`` (country item ``shrenon``): linear model.
- ``catastrophic_spending_25``: OOP share above 25 %; the catastrophic share is
  uniform on (0.1001, 0.4), so p = p(> 10 %) × 0.15 / 0.2999.
"""

from __future__ import annotations

import numpy as np

SKILLED_IF_FACILITY = 0.92
SKILLED_IF_HOME = 0.04
PROMPT_SHARE = 0.6
SHARE_LOW, SHARE_HIGH = 0.1001, 0.4
ABOVE_25 = (SHARE_HIGH - 0.25) / (SHARE_HIGH - SHARE_LOW)
NO_ANC = {"Mopti": 0.22, "Bamako": 0.07}

VARIABLE_LABELS = {
    "s481r": "Couverte par le RAMED (régime d'assistance médicale)",
    "m3a": "Assistance à l'accouchement : médecin",
    "m3b": "Assistance à l'accouchement : infirmier(e) / sage-femme",
    "m3c": "Assistance à l'accouchement : matrone",
    "m14": "Nombre de visites prénatales",
    "m42c": "CPN : tension artérielle mesurée",
    "h46b": "Fièvre : jours avant de rechercher des soins",
    "shrenon": "A renoncé à des soins à cause du coût, 12 derniers mois",
}


def household_items(rx: np.random.Generator, p_forgone: tuple[float, float]) -> dict:
    """Forgone care because of cost (``shrenon``: 0/1, 8 don't know)."""
    p, p0 = p_forgone
    forgone = rx.random() < p
    dk = rx.random() < 0.02
    return {
        "shrenon": 8 if dk else int(forgone),
        "_p_forgone_care_cost": p,
        "_p0_forgone_care_cost": p0,
        "_elig_forgone_care_cost": not dk,
        "_y_forgone_care_cost": float(forgone),
    }


def catastrophic_25(hh: dict, share: float) -> dict:
    """Truth columns of catastrophic spending above 25 % (the same household draws)."""
    return {
        "_p_catastrophic_spending_25": hh["_p_catastrophic_spending"] * ABOVE_25,
        "_p0_catastrophic_spending_25": hh["_p0_catastrophic_spending"] * ABOVE_25,
        "_elig_catastrophic_spending_25": hh["_elig_catastrophic_spending"],
        "_y_catastrophic_spending_25": float(share > 0.25),
    }


def woman_items(
    rx: np.random.Generator,
    miss: bool,
    p_ramed: tuple[float, float],
    p_mut: tuple[float, float],
    q_other: float,
    q_amo: float,
    insured: bool,
) -> dict:
    """RAMED (``s481r``) and the truth of the scheme-coverage outcomes."""
    p, p0 = p_ramed
    ramed = rx.random() < p
    none_y = not (ramed or insured)
    return {
        "s481r": 9 if miss else int(ramed),
        "_p_coverage_ramed": p,
        "_p0_coverage_ramed": p0,
        "_y_coverage_ramed": float(ramed),
        "_p_coverage_amo": q_amo,
        "_p0_coverage_amo": q_amo,
        "_p_coverage_none": (1 - p_mut[0]) * (1 - q_other) * (1 - p),
        "_p0_coverage_none": (1 - p_mut[1]) * (1 - q_other) * (1 - p0),
        "_y_coverage_none": float(none_y),
        **{f"_elig_{o}": not miss for o in ("coverage_ramed", "coverage_amo", "coverage_none")},
    }


def _skilled(p_facility: float) -> float:
    return SKILLED_IF_HOME + (SKILLED_IF_FACILITY - SKILLED_IF_HOME) * p_facility


def birth_items(
    rx: np.random.Generator,
    area: str,
    facility: bool,
    p_fd: tuple[float, float],
    p_bp: tuple[float, float],
) -> dict:
    """Skilled attendant (``m3a``–``m3c``), ANC visits (``m14``) and BP at ANC (``m42c``)."""
    skilled = rx.random() < (SKILLED_IF_FACILITY if facility else SKILLED_IF_HOME)
    m3 = {"m3a": 0, "m3b": 0, "m3c": 0}
    if skilled:
        m3[str(rx.choice(["m3a", "m3b", "m3b", "m3c"]))] = 1
    m3_missing = rx.random() < 0.01
    if m3_missing:
        m3 = dict.fromkeys(m3, 9)
    anc = rx.random() >= NO_ANC[area]
    m14 = int(rx.integers(1, 8)) if anc else 0
    bp = rx.random() < p_bp[0]
    bp_missing = anc and rx.random() < 0.015
    m42c = (8 if bp_missing else int(bp)) if anc else np.nan
    return {
        **m3,
        "m14": m14,
        "m42c": m42c,
        "_p_skilled_birth_attendance": _skilled(p_fd[0]),
        "_p0_skilled_birth_attendance": _skilled(p_fd[1]),
        "_elig_skilled_birth_attendance": not m3_missing,
        "_y_skilled_birth_attendance": float(skilled),
        "_p_anc_bp_measured": p_bp[0],
        "_p0_anc_bp_measured": p_bp[1],
        "_elig_anc_bp_measured": anc and not bp_missing,
        "_y_anc_bp_measured": float(bp),
    }


def child_items(
    rx: np.random.Generator, fever: bool, sought: bool, p_fc: tuple[float, float]
) -> dict:
    """Days from fever onset to care (``h46b``) and the truth of prompt care."""
    prompt = sought and rx.random() < PROMPT_SHARE
    if not (fever and sought):
        h46b = np.nan
    else:
        h46b = int(rx.integers(0, 2)) if prompt else int(rx.integers(2, 8))
    return {
        "h46b": h46b,
        "_p_fever_care_24h": PROMPT_SHARE * p_fc[0],
        "_p0_fever_care_24h": PROMPT_SHARE * p_fc[1],
        "_elig_fever_care_24h": fever,
        "_y_fever_care_24h": float(prompt),
    }
