"""Fixed facts and scale knobs of the synthetic demo data.

The dates of shocks and programmes follow the source documents (UNISSAHEL, Santé Sud,
PADSS2 / I3S); the magnitudes are invented but plausible for CSCOMs of the Mopti region
and Bamako.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

DEFAULT_SEED = 20240611

FIRST_MONTH = pd.Period("2014-01", freq="M")
LAST_MONTH = pd.Period("2023-12", freq="M")

MOPTI_CERCLES = (
    "Bandiagara",
    "Bankass",
    "Djenné",
    "Douentza",
    "Koro",
    "Mopti",
    "Ténenkou",
    "Youwarou",
)
BAMAKO_COMMUNES = (
    "Commune I",
    "Commune II",
    "Commune III",
    "Commune IV",
    "Commune V",
    "Commune VI",
)

# Cercles where violence hits CSCOMs in the demo (DESIGN §3; issue 2).
CONFLICT_CERCLES = ("Bandiagara", "Bankass", "Douentza", "Koro")

INDICATORS = (
    "consultations_all",
    "consultations_u5",
    "anc1",
    "anc4",
    "deliveries",
    "penta1",
    "penta3",
    "malaria_confirmed",
    "consultations_mutual",
)
ESSENTIAL_SERVICES = ("consultations_all", "anc1", "deliveries", "penta3")

# Quality-of-care ratios of the demo config (quality_of_care; DESIGN §4): name ->
# (numerator, denominator, complement); expected_births = population × CBR ÷ 12.
QUALITY_RATIOS = {
    "anc_retention": ("anc4", "anc1", False),
    "penta_dropout": ("penta3", "penta1", True),
    "delivery_coverage": ("deliveries", "expected_births", False),
}
CRUDE_BIRTH_RATE = 0.042
# The surveys' births agree with it (issue 18, G18-3): households hold 0-3 women of
# 15-49 (mean 10/7), each with Poisson(0.8) births over the five years before the
# interview, so a household has 10/7 × 0.8 / 5 births a year; its size is 1 + the
# Poisson(5.5) draw scaled so that the mean size is births a year ÷ CRUDE_BIRTH_RATE
# (≈ 5.44 people; Mali's DHS 2018: 5.7). Scaling the draw, not its parameter, keeps
# every other draw of the surveys as it was.
WOMEN_PER_HOUSEHOLD = (0, 1, 1, 1, 2, 2, 3)
BIRTHS_PER_WOMAN_5Y = 0.8
HOUSEHOLD_SIZE_DRAW = 5.5
HOUSEHOLD_SIZE_SCALE = (
    sum(WOMEN_PER_HOUSEHOLD) / 7 * BIRTHS_PER_WOMAN_5Y / 5 / CRUDE_BIRTH_RATE - 1
) / HOUSEHOLD_SIZE_DRAW  # 0.808
# WHO DQR domain 4 (fertility), planted: in one area and round, interviewers recorded
# half of the births of the 12 months before the interview a year earlier (a known
# displacement that shortens the birth module), so the survey's crude birth rate there
# is about half the others' and expected pregnancies (5 %) ÷ it lies far above 1.33.
# Only the 12-month fertility moves: those births stay in the five-year window.
FERTILITY_GAP = {"area": "Mopti", "year": 2018, "share_displaced": 0.5, "months": 12}

# Monthly rate per 1,000 catchment population before any programme (Mopti; Bamako ×).
BASE_RATE = {
    "consultations_all": 30.0,
    "consultations_u5": 12.0,
    "anc1": 3.2,
    "anc4": 1.4,
    "deliveries": 2.4,
    "penta1": 3.0,
    "penta3": 2.6,
    "malaria_confirmed": 7.0,
    "consultations_mutual": 0.6,
}
BAMAKO_RATE_FACTOR = 1.3

# Malaria peaks August–November (3× base); consultations follow it partly.
SEASONAL_PEAK = {"malaria_confirmed": 3.0, "consultations_all": 1.3, "consultations_u5": 1.4}
PEAK_MONTHS = (8, 9, 10, 11)

# Programme effect on the monthly rate per 1,000 population, at full ramp-up.
I3S_EFFECT = {
    "consultations_all": 8.0,
    "consultations_u5": 4.0,
    "anc1": 0.5,
    "anc4": 0.4,
    "deliveries": 0.6,
    "malaria_confirmed": 1.0,
    "consultations_mutual": 6.0,
}
DJANTOLI_EFFECT = {
    "consultations_all": 6.0,
    "consultations_u5": 3.0,
    "anc1": 0.5,
    "anc4": 0.3,
    "deliveries": 0.7,
    "consultations_mutual": 4.0,
}
RAMP_MONTHS = 6
I3S_PERSISTENCE = 0.5
DJANTOLI_PERSISTENCE = 0.4

I3S_WAVES = (pd.Timestamp("2016-01-01"), pd.Timestamp("2017-07-01"))
I3S_END = pd.Timestamp("2021-12-31")
I3S_CERCLES = ("Bandiagara", "Mopti")
DJANTOLI_START = pd.Timestamp("2017-11-01")
DJANTOLI_END = pd.Timestamp("2019-10-31")
DJANTOLI_COMMUNE = "Commune III"

COVID_ONSET = pd.Period("2020-03", freq="M")
STRIKES = (
    ("strike_2017", pd.Timestamp("2017-03-09"), pd.Timestamp("2017-04-16")),
    ("strike_2018", pd.Timestamp("2018-07-26"), pd.Timestamp("2018-08-09")),
)

# District-month shocks (DESIGN §6.1): noise shared by every CSCOM of a district in a
# month (a strike of the district's staff, an attack nearby, a new district manager),
# part of neither the expected series nor the truth. A mean-one multiplier of every
# count, exp(z − SD²/2) with z a stationary AR(1) per district: 5 % SD and
# month-to-month correlation 0.3, the low end of district-level residual swings in
# DHIS2 series once season and trend are removed (8 % and 0.5 lowered the agreement
# of the resilience classes with their noise-free truth in Mopti from 94 % to 88 %).
# They make facility-clustered intervals too narrow, as in real data;
# assignment-level (RI) intervals still cover.
DISTRICT_MONTH_SD = 0.05
DISTRICT_MONTH_AR = 0.3
# The surveys' counterpart: a shift of every outcome probability shared by a district
# in one round (SD on the probability scale), independent between rounds.
SURVEY_DISTRICT_ROUND_SD = 0.02
# Subgroups (DESIGN §4, issue 18): every survey cluster has an asset-wealth level 1–5
# (its households' quintiles scatter ±1 around it), the levels taken in turn within a
# district and round. The programme's effect is WEALTH_GAIN times the planted one: ×1.5
# in the poorest two levels, ×0.5 above, so a district with as many poor as richer
# clusters (the demo's 6: levels 1–5 and one more 1) keeps the planted mean and the gap
# is the planted effect itself.
WEALTH_SEED = 18
POOREST_LEVELS = (1, 2)
WEALTH_GAIN = {"poorest": 1.5, "richer": 0.5}

SURVEY_ROUNDS = (2015, 2018, 2021)
SURVEY_FIELD_MONTH = 4  # fieldwork in April of each round year
BASELINE_ROUND = 2015

# Resilience definitions used for the truth (DESIGN §7; the config defaults).
WINDOW_MONTHS = 12
MIN_FATALITIES = 10
CHAIN_GAP_DAYS = 90
MIN_HISTORY = 24

DHIS2_DEFAULT_COC = "HllvX50cXC0"


@dataclass(frozen=True)
class Scale:
    """Scale knobs: the same code makes the demo and the national-scale data set."""

    name: str
    facilities_per_cercle: int
    facilities_per_commune: int
    clusters_per_district: int
    households_per_cluster: int
    # District → size factor of its facility and survey-cluster counts (1 if absent).
    district_sizes: tuple[tuple[str, float], ...] = ()

    def size(self, district: str, base: int) -> int:
        """``base`` facilities or clusters scaled by the district's factor (at least 2)."""
        factor = dict(self.district_sizes).get(district, 1.0)
        return max(2, round(base * factor))


# The demo design with unequal district sizes (DESIGN §6.1 Monte Carlo): a large
# urban cercle and small rural ones, ×0.3 to ×2 of the demo's 22 CSCOMs per cercle
# and 8 per commune (treated: Bandiagara small, Mopti large; Commune III small).
UNEQUAL_DISTRICT_SIZES = (
    ("Bandiagara", 0.5),
    ("Bankass", 1.5),
    ("Djenné", 0.75),
    ("Douentza", 0.3),
    ("Koro", 1.25),
    ("Mopti", 2.0),
    ("Ténenkou", 0.4),
    ("Youwarou", 0.6),
    ("Commune I", 1.5),
    ("Commune II", 0.5),
    ("Commune III", 0.75),
    ("Commune IV", 1.75),
    ("Commune V", 1.25),
    ("Commune VI", 1.0),
)

SCALES = {
    "demo": Scale("demo", 22, 8, 6, 14),
    "unequal": Scale("unequal", 22, 8, 6, 14, UNEQUAL_DISTRICT_SIZES),
    # The same districts with few CSCOMs and survey clusters: fast tests of machinery.
    "small": Scale("small", 8, 4, 2, 8),
    # ≈ 1,400 CSCOMs: the national order of magnitude (benchmarks).
    "national": Scale("national", 150, 33, 20, 20),
}
