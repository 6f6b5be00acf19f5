"""Noise-free monthly means of every facility, the planted shocks and reporting.

The model, per facility f, month t and indicator k (rates per 1,000 catchment
population per month)::

    mu[f,t,k] = pop[f,year(t)]/1000 · (base[f,k] · season[k,t] · trend[t] + effect[f,t,k])
                · shock[f,t]

``effect`` is the programme effect (ramped up over its first months, partly
persisting after the programme ends); ``shock`` multiplies every service and is the
product of the facility's planted responses to each shock. The counterfactual
without shocks (``shock = 1``) is the expected volume of the resilience truth; the
counterfactual without programme (``effect = 0``) gives the programme ATT.

The counts (:func:`draw_counts`) are gamma–Poisson around ``mu`` times a
district-month shock shared by every CSCOM of the district (:func:`district_month_noise`):
noise, not signal, so neither ``mu`` nor the truth contains it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..resilience.shocks import local_shocks
from .params import (
    BAMAKO_RATE_FACTOR,
    BASE_RATE,
    CHAIN_GAP_DAYS,
    COVID_ONSET,
    DISTRICT_MONTH_AR,
    DISTRICT_MONTH_SD,
    DJANTOLI_COMMUNE,
    DJANTOLI_EFFECT,
    DJANTOLI_END,
    DJANTOLI_PERSISTENCE,
    DJANTOLI_START,
    FIRST_MONTH,
    I3S_CERCLES,
    I3S_EFFECT,
    I3S_END,
    I3S_PERSISTENCE,
    I3S_WAVES,
    INDICATORS,
    LAST_MONTH,
    MIN_FATALITIES,
    PEAK_MONTHS,
    RAMP_MONTHS,
    SEASONAL_PEAK,
    STRIKES,
    WINDOW_MONTHS,
)

MONTHS = pd.period_range(FIRST_MONTH, LAST_MONTH, freq="M")


def month_index(p: pd.Period | pd.Timestamp) -> int:
    """0-based position of a month in the data (January 2014 = 0)."""
    p = pd.Period(p, freq="M")
    return (p.year - FIRST_MONTH.year) * 12 + p.month - FIRST_MONTH.month


@dataclass
class Shock:
    """A shock as the truth sees it: id, kind, scope, onset month index."""

    shock_id: str
    kind: str  # national | local
    district: str | None
    onset: int  # month index m0

    @property
    def window(self) -> range:
        return range(self.onset, min(self.onset + WINDOW_MONTHS, len(MONTHS)))


@dataclass
class FacilityModel:
    """Everything the exports and the truth are made from (arrays F × T [× K])."""

    fac: pd.DataFrame
    pop: np.ndarray  # F × T
    mu: np.ndarray  # F × T × K, observed world
    mu_no_shock: np.ndarray  # F × T × K, counterfactual without shocks
    mu_no_programme: np.ndarray  # F × T × K, counterfactual without programme
    mu_u5_split: np.ndarray  # F × T: share of consultations that are under-5
    expected: np.ndarray  # F × T bool: open that month
    reported: np.ndarray  # F × T bool: report received
    shocks: list[Shock]
    planted: pd.DataFrame  # planted response class per facility × shock
    district_noise: np.ndarray  # F × T: district-month shock multiplier of the counts


def _programme_exposure(fac: pd.DataFrame, rng: np.random.Generator) -> None:
    """Adds i3s_start and djantoli flags (staggered I3S waves within each cercle)."""
    fac["i3s_start"] = pd.NaT
    for cercle in I3S_CERCLES:
        idx = fac.index[fac["district"] == cercle]
        # Wave 1 takes the urban CSCOM and about half of the others.
        wave1 = rng.random(len(idx)) < 0.5
        wave1[0] = True
        fac.loc[idx, "i3s_start"] = np.where(wave1, I3S_WAVES[0], I3S_WAVES[1])
    fac["i3s_start"] = pd.to_datetime(fac["i3s_start"])
    fac["djantoli"] = fac["district"] == DJANTOLI_COMMUNE


def _effect_path(start: int, end: int, persistence: float) -> np.ndarray:
    """Share of the full effect per month: ramp-up from start, partial after end."""
    t = np.arange(len(MONTHS))
    e = t - start
    ramp = np.clip((e + 1) / RAMP_MONTHS, 0.0, 1.0)
    return np.where(t > end, persistence * ramp, ramp)


def _effects(fac: pd.DataFrame) -> np.ndarray:
    """Programme effect on the rate per 1,000, F × T × K."""
    F, T, K = len(fac), len(MONTHS), len(INDICATORS)
    eff = np.zeros((F, T, K))
    i3s_end = month_index(I3S_END)
    for f, start in enumerate(fac["i3s_start"]):
        if pd.isna(start):
            continue
        path = _effect_path(month_index(start), i3s_end, I3S_PERSISTENCE)
        for k, ind in enumerate(INDICATORS):
            eff[f, :, k] += I3S_EFFECT.get(ind, 0.0) * path
    dj = _effect_path(month_index(DJANTOLI_START), month_index(DJANTOLI_END), DJANTOLI_PERSISTENCE)
    for f in np.flatnonzero(fac["djantoli"].to_numpy()):
        for k, ind in enumerate(INDICATORS):
            eff[f, :, k] += DJANTOLI_EFFECT.get(ind, 0.0) * dj
    return eff


def _base_rates(fac: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Facility base rates F × K: area level × facility heterogeneity."""
    bamako = (fac["region"] == "Bamako").to_numpy()
    util = rng.lognormal(0.0, 0.2, len(fac))  # facility utilisation level
    rates = np.array([BASE_RATE[k] for k in INDICATORS])
    base = util[:, None] * rates[None, :] * np.where(bamako, BAMAKO_RATE_FACTOR, 1.0)[:, None]
    # Service mix varies a little between facilities.
    return base * rng.lognormal(0.0, 0.05, base.shape)


def _season_trend() -> np.ndarray:
    """T × K multiplier: seasonal peak Aug–Nov and a slow utilisation trend (+1 %/year)."""
    moy = MONTHS.month.to_numpy()
    peak = np.isin(moy, PEAK_MONTHS)
    st = np.ones((len(MONTHS), len(INDICATORS)))
    for k, ind in enumerate(INDICATORS):
        st[peak, k] = SEASONAL_PEAK.get(ind, 1.0)
    trend = 1.01 ** (np.arange(len(MONTHS)) / 12)
    return st * trend[:, None]


def national_shocks() -> list[Shock]:
    """COVID-19 and the two strikes, as month indices of onset."""
    out = [Shock("covid19", "national", None, month_index(COVID_ONSET))]
    out += [Shock(sid, "national", None, month_index(start)) for sid, start, _ in STRIKES]
    return out


def local_shock_list(events: pd.DataFrame) -> list[Shock]:
    """Local shocks chained from the events with the DESIGN §7 rule."""
    ev = events.rename(columns={"admin2": "district"})[["event_date", "district", "fatalities"]]
    table = local_shocks(ev, min_fatalities=MIN_FATALITIES, gap_days=CHAIN_GAP_DAYS)
    out = []
    for row in table.itertuples(index=False):
        onset = month_index(row.onset)
        if onset < len(MONTHS):
            out.append(Shock(row.shock_id, "local", row.district, onset))
    return out


def _response(
    cls: str, onset: int, rng: np.random.Generator, T: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Multiplier path, forced-unreported months and closure for one planted class."""
    mult = np.ones(T)
    off = np.zeros(T, dtype=bool)
    close = False
    t = np.arange(T)
    after = t >= onset
    if cls == "gainer":  # takes patients from less safe areas
        mult[after] = 1.3
    elif cls == "recovered":
        k = int(rng.integers(2, 7))
        depth = float(rng.uniform(0.35, 0.6))
        mult[(t >= onset) & (t < onset + k)] = depth
    elif cls == "not_recovered":
        depth = float(rng.uniform(0.45, 0.6))
        mult[after] = depth + np.minimum(0.2, 0.01 * (t[after] - onset))
    elif cls == "interrupted":
        k = int(rng.integers(3, 6))
        off[(t >= onset + 1) & (t < onset + 1 + k)] = True
        mult[after] = 0.6
        mult[t >= onset + 1 + k + 6] = 0.85
    elif cls == "closed":
        close = True
        mult[after] = 0.5
    return mult, off, close


def _covid_response(cls: str, onset: int, rng: np.random.Generator, T: int) -> np.ndarray:
    """COVID-19: drop April–September 2020, recovery by Q4 2020 for most CSCOMs."""
    mult = np.ones(T)
    if cls == "resilient":
        return mult
    if cls == "recovered":
        # back at the expected level from October 2020 (τ = 7), or earlier for some
        back = onset + int(rng.choice([4, 7, 7, 7]))
        mult[onset] = 0.92
        mult[onset + 1 : back] = float(rng.uniform(0.6, 0.78))
    else:  # not_recovered: a lasting loss of attendance
        mult[onset] = 0.9
        mult[onset + 1 :] = float(rng.uniform(0.6, 0.75))
    return mult


def _strike_response(
    cls: str, start: pd.Timestamp, end: pd.Timestamp, T: int, rng: np.random.Generator
) -> np.ndarray:
    """Strikes: CSCOM staff are partly ASACO-hired, so half the CSCOMs barely notice."""
    mult = np.ones(T)
    if cls == "recovered":
        for p in pd.period_range(start, end, freq="M"):
            mult[month_index(p)] = float(rng.uniform(0.5, 0.75))
    return mult


def build(
    fac: pd.DataFrame, pop_table: pd.DataFrame, events: pd.DataFrame, rng: np.random.Generator
) -> FacilityModel:
    """Draws the facility model: effects, shocks, closures and the reporting pattern."""
    F, T = len(fac), len(MONTHS)
    _programme_exposure(fac, rng)
    years = MONTHS.year.to_numpy()
    popw = pop_table.pivot(index="orgunit_uid", columns="year", values="population")
    popw = popw.loc[fac["orgunit_uid"]]
    pop = popw[years].to_numpy(dtype=float)  # F × T

    base = _base_rates(fac, rng)
    st = _season_trend()
    eff = _effects(fac)
    rate_no_prog = base[:, None, :] * st[None, :, :]
    rate = rate_no_prog + eff

    shocks = national_shocks() + local_shock_list(events)
    mult = np.ones((F, T))
    off = np.zeros((F, T), dtype=bool)
    closed_at = np.full(F, -1)
    planted = []
    strike_dates = {sid: (s, e) for sid, s, e in STRIKES}
    for sh in shocks:
        if sh.kind == "national":
            members = np.arange(F)
        else:
            members = np.flatnonzero((fac["district"] == sh.district).to_numpy())
        for f in members:
            if sh.shock_id == "covid19":
                cls = rng.choice(["resilient", "recovered", "not_recovered"], p=[0.25, 0.6, 0.15])
                m = _covid_response(cls, sh.onset, rng, T)
                o, c = np.zeros(T, dtype=bool), False
            elif sh.kind == "national":
                cls = rng.choice(["resilient", "recovered"])
                m = _strike_response(cls, *strike_dates[sh.shock_id], T, rng)
                o, c = np.zeros(T, dtype=bool), False
            else:
                cls = rng.choice(
                    ["resilient", "gainer", "recovered", "not_recovered", "interrupted", "closed"],
                    p=[0.2, 0.1, 0.3, 0.2, 0.12, 0.08],
                )
                m, o, c = _response(cls, sh.onset, rng, T)
            mult[f] *= m
            off[f] |= o
            if c and closed_at[f] < 0:
                closed_at[f] = sh.onset + 1
            planted.append(
                {
                    "orgunit_uid": fac["orgunit_uid"].iat[f],
                    "shock_id": sh.shock_id,
                    "planted": str(cls),
                }
            )

    # A facility closed after an attack: recorded in the master list (closure date
    # within its first month without activity).
    for f in np.flatnonzero(closed_at >= 0):
        p = MONTHS[closed_at[f]]
        fac.loc[fac.index[f], "closed"] = p.to_timestamp() + pd.Timedelta(
            days=int(rng.integers(0, 27))
        )
    opened_idx = np.array(
        [max(0, month_index(d)) if d >= MONTHS[0].to_timestamp() else 0 for d in fac["opened"]]
    )
    closed_idx = np.array([month_index(d) if pd.notna(d) else T for d in fac["closed"]])
    t = np.arange(T)
    expected = (t[None, :] >= opened_idx[:, None]) & (t[None, :] < closed_idx[:, None])

    reported = _reporting(fac, expected, off, rng)
    district_noise = district_month_noise(fac["district"].to_numpy(), T, rng)
    scale = pop[:, :, None] / 1000.0
    mu_no_shock = scale * rate
    mu = mu_no_shock * mult[:, :, None]
    mu_no_prog = scale * rate_no_prog * mult[:, :, None]
    u5 = INDICATORS.index("consultations_u5")
    al = INDICATORS.index("consultations_all")
    split = mu[:, :, u5] / mu[:, :, al]
    return FacilityModel(
        fac=fac,
        pop=pop,
        mu=mu,
        mu_no_shock=mu_no_shock,
        mu_no_programme=mu_no_prog,
        mu_u5_split=split,
        expected=expected,
        reported=reported,
        shocks=shocks,
        planted=pd.DataFrame(planted),
        district_noise=district_noise,
    )


def district_month_noise(
    district: np.ndarray,
    n_months: int,
    rng: np.random.Generator,
    *,
    sd: float = DISTRICT_MONTH_SD,
    ar: float = DISTRICT_MONTH_AR,
) -> np.ndarray:
    """F × T multiplier shared by the facilities of a district in a month.

    ``exp(z − sd²/2)`` (mean one) with ``z`` a stationary Gaussian AR(1) over months per
    district (standard deviation ``sd``, autocorrelation ``ar``), districts independent
    and drawn in sorted order, so that the draw does not depend on the facility order.
    """
    names, code = np.unique(district, return_inverse=True)
    eps = rng.standard_normal((len(names), n_months))
    z = np.empty_like(eps)
    z[:, 0] = sd * eps[:, 0]
    innovation = sd * np.sqrt(1.0 - ar**2)
    for t in range(1, n_months):
        z[:, t] = ar * z[:, t - 1] + innovation * eps[:, t]
    return np.exp(z - sd**2 / 2)[code]


def draw_counts(
    mean: np.ndarray, district_noise: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Counts around ``mean`` (F × T × R): gamma–Poisson (mild facility-month
    over-dispersion, as real counts have) times the district-month shocks."""
    lam = mean * district_noise[:, :, None] * rng.gamma(100.0, 1 / 100.0, mean.shape)
    return rng.poisson(lam)


def _reporting(
    fac: pd.DataFrame, expected: np.ndarray, off: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Report received: ≈ 3–5 % missing, ≈ 14 % in conflict zones after mid-2018,
    more during strikes (data retention) and the first COVID-19 months."""
    F, T = expected.shape
    p_miss = np.full((F, T), 0.05)
    p_miss[(fac["region"] == "Bamako").to_numpy()] = 0.03
    conflict = fac["conflict_zone"].to_numpy()
    late = np.arange(T) >= month_index(pd.Period("2018-06", freq="M"))
    p_miss[np.ix_(conflict, late)] = 0.14
    for _, start, end in STRIKES:
        for p in pd.period_range(start, end, freq="M"):
            p_miss[:, month_index(p)] += 0.12
    for p in pd.period_range("2020-04", "2020-06", freq="M"):
        p_miss[:, month_index(p)] += 0.05
    return expected & ~off & (rng.random((F, T)) >= p_miss)
