"""DHS-defined survey outcomes per unit (DESIGN §4), from the harmonised columns.

Facility delivery = ``m15`` in 20–39 for births in the last five years
(``v008 − b3 < 60``); fever care = among children with ``h22 = 1``, any ``h32*`` source
equal to 1 except the excluded ones (pharmacy, shop, traditional healer, other);
insurance = ``v481 = 1``; coverage by scheme from the configured items (``v481a`` mutual,
``v481c`` AMO, the country's RAMED item …); catastrophic spending = ``shoop / shconso``
above each threshold (10 %, 25 %); forgone care because of cost; skilled birth attendance
(``m3a``–``m3c``), blood pressure at ANC (``m42c``), fever care within 24 h (``h46b``);
all missing when their inputs are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd

from sahel_eval.clean.survey_codes import labelled_category
from sahel_eval.clean.survey_settings import SurveySettings

__all__ = [
    "fever_sources",
    "recode_births",
    "recode_children",
    "recode_households",
    "recode_women",
]


_H32 = re.compile(r"^h32[a-z]$")


def _flag(condition: pd.Series, known: pd.Series) -> pd.Series:
    """0/1 as a nullable float: 1/0 where ``known``, missing elsewhere."""
    return condition.astype(float).where(known)


def recode_households(frame: pd.DataFrame, settings: SurveySettings) -> pd.DataFrame:
    """Out-of-pocket spending and catastrophic spending (households).

    ``oop`` = ``shoop`` (FCFA, 12 months), ``consumption`` = ``shconso``;
    ``oop_any`` = oop > 0; ``catastrophic_spending`` = oop / consumption >
    threshold. Missing when either amount is missing (don't-know codes already
    removed) or consumption is not positive.
    """
    out = pd.DataFrame(index=frame.index)
    oop = frame["shoop"].astype(float)
    conso = frame["shconso"].astype(float)
    out["oop"] = oop
    out["consumption"] = conso
    out["oop_any"] = _flag(oop > 0, oop.notna())
    share = oop / conso.where(conso > 0)
    out["oop_share"] = share
    out["catastrophic_spending"] = _flag(share > settings.catastrophic_threshold, share.notna())
    for name, threshold in settings.catastrophic_thresholds.items():
        out[name] = _flag(share > threshold, share.notna())
    var = settings.forgone_care_variable
    if var is not None and var in frame:
        v = frame[var].astype(float)
        out["forgone_care_cost"] = _flag(v == 1, v.notna())
    if "hv009" in frame:
        out["household_size"] = frame["hv009"].astype(float)
    if "hv270" in frame:
        out["wealth_quintile"] = frame["hv270"].astype(float)
    return out


def recode_women(frame: pd.DataFrame, settings: SurveySettings) -> pd.DataFrame:
    """Insurance: ``any_insurance`` = ``v481`` = 1; one outcome per configured scheme
    item (``settings.scheme_coverage``) and ``coverage_none`` (every item known, none
    covered; missing if an item is absent from the file)."""
    out = pd.DataFrame(index=frame.index)
    if "v481" in frame:
        v = frame["v481"].astype(float)
        out["any_insurance"] = _flag(v == 1, v.notna())
    covered, known = [], []
    for name, (var, values) in settings.scheme_coverage.items():
        if var not in frame:
            continue
        v = frame[var].astype(float)
        out[name] = _flag(v.isin([float(c) for c in values]), v.notna())
        covered.append(out[name] == 1)
        known.append(v.notna())
    if covered and len(covered) == len(settings.scheme_coverage):
        any_yes = pd.concat(covered, axis=1).any(axis=1)
        all_known = pd.concat(known, axis=1).all(axis=1)
        out["coverage_none"] = _flag(~any_yes, all_known)
    return out


def recode_births(
    frame: pd.DataFrame,
    settings: SurveySettings,
    value_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """Place and facility delivery for births of the last five years.

    ``facility_delivery`` = ``m15`` in the facility range (20–39) for a birth with
    ``v008 − b3 <`` 60 months; missing for an older birth or a missing ``m15``.
    ``place_of_delivery`` keeps the French label (category), ``place_type`` the group
    (home / public / private / other).
    """
    out = pd.DataFrame(index=frame.index)
    m15 = frame["m15"].astype(float)
    age = frame["v008"].astype(float) - frame["b3"].astype(float)
    recent = age < settings.recent_birth_months
    out["months_since_birth"] = age
    out["recent_birth"] = recent.astype("boolean").mask(age.isna())
    lo, hi = settings.facility_delivery_codes
    out["facility_delivery"] = _flag(m15.between(lo, hi), m15.notna() & recent)
    labels = (value_labels or {}).get("m15")
    out["place_of_delivery"] = labelled_category(m15, labels, settings.missing_words)
    groups = {float(c): g for g, codes in settings.place_of_delivery.items() for c in codes}
    out["place_type"] = pd.Categorical(m15.map(groups), categories=list(settings.place_of_delivery))
    items = [c for c in settings.skilled_attendant_items if c in frame]
    if items:
        m3 = frame[items].astype(float)
        out["skilled_birth_attendance"] = _flag(
            (m3 == 1).any(axis=1), m3.notna().any(axis=1) & recent
        )
    bp = settings.anc_bp_variable
    if bp is not None and bp in frame:
        v = frame[bp].astype(float)
        out["anc_bp_measured"] = _flag(v == 1, v.notna() & recent)
    return out


def fever_sources(columns: Iterable[str], excluded: Iterable[str]) -> list[str]:
    """``h32*`` columns that count as care sought (all present ones minus ``excluded``)."""
    excluded = set(excluded)
    return sorted(c for c in columns if _H32.match(c) and c not in excluded)


def recode_children(frame: pd.DataFrame, settings: SurveySettings) -> pd.DataFrame:
    """Fever, care sought for fever, diarrhoea (children under five).

    ``fever`` = ``h22`` = 1; ``fever_care`` = among febrile children, any included
    ``h32*`` source = 1 (0 if at least one source is known and none is 1; missing for
    children without fever or with every source missing); ``diarrhoea`` = ``h11`` in
    {1, 2} (last 24 hours or 2 weeks).
    """
    out = pd.DataFrame(index=frame.index)
    h22 = frame["h22"].astype(float)
    fever = h22 == 1
    out["fever"] = _flag(fever, h22.notna())
    sources = fever_sources(frame.columns, settings.fever_excluded_sources)
    if not sources:
        raise ValueError("no h32* source left after the exclusions: check the config")
    h32 = frame[sources].astype(float)
    any_yes = (h32 == 1).any(axis=1)
    any_known = h32.notna().any(axis=1)
    out["fever_care"] = _flag(any_yes, fever & any_known)
    days_var = settings.fever_days_variable
    if days_var is not None and days_var in frame:
        days = frame[days_var].astype(float)
        prompt = any_yes & (days <= settings.fever_prompt_max_days)
        # Care sought with its delay unknown: not known to be within 24 h.
        out["fever_care_24h"] = _flag(prompt, fever & any_known & ~(any_yes & days.isna()))
    if "h11" in frame:
        h11 = frame["h11"].astype(float)
        out["diarrhoea"] = _flag(h11.isin([1, 2]), h11.notna())
    return out
