"""Replicates of the demo design, for checking the calibration of interval estimators.

Two kinds:

* :func:`replicate` (DESIGN §6.1's Monte Carlo): the design is fixed — districts,
  facilities, roll-out, planted effects and shocks, reporting pattern, as
  :func:`design` builds them with the demo seed — and each replicate redraws only the
  noise: district-month shocks and gamma–Poisson counts
  (:func:`~sahel_eval.synth.facility_model.draw_counts`), and fresh survey samples with
  their district-round shocks (Mopti's). It returns the analysis panels and survey tables in
  memory, in the columns the DiD stage reads, and the truth of that replicate.
* :func:`persistence_replicate`: a new facility model per seed (geography, events,
  waves, shocks) and counts *without* district-month shocks, estimating each
  programme's persistence ratio as the pipeline does: the calibration of the
  facility-level interval on its own assumption (no district-level shocks).

The export's data-quality faults are not planted: the question here is the interval,
not the cleaning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sahel_eval.did.analyses import FACILITY_ATT_GT
from sahel_eval.did.cs.model import att_gt
from sahel_eval.did.persistence import persistence_ratio

from . import events, facility_model, geography, surveys, truth
from .params import (
    DEFAULT_SEED,
    DJANTOLI_END,
    I3S_END,
    INDICATORS,
    SCALES,
    SURVEY_ROUNDS,
)

__all__ = [
    "PERSISTENCE_OUTCOMES",
    "Design",
    "Replicate",
    "design",
    "facility_panels",
    "persistence_replicate",
    "replicate",
]

#: Outcomes with a planted effect, per programme, and the cluster levels of the pipeline.
PERSISTENCE_OUTCOMES = {
    "I3S": (("consultations_all", "anc1", "deliveries"), ("district", "facility_id")),
    "Djantoli": (
        ("consultations_all", "consultations_u5", "anc1", "deliveries", "consultations_mutual"),
        ("facility_id",),
    ),
}
_REGION = {"I3S": "Mopti", "Djantoli": "Bamako"}
_PROGRAMME = {"mopti": "I3S", "bamako": "Djantoli"}
_END = {"I3S": I3S_END, "Djantoli": DJANTOLI_END}
_SURVEY_AREA = {"Mopti": "mopti", "Bamako": "bamako"}


@dataclass(frozen=True)
class Design:
    """The fixed part of every replicate: facility model, survey district effects and
    the facility truth (the noise-free means do not change between replicates)."""

    name: str
    model: facility_model.FacilityModel
    district_effects: dict[str, float]
    cs_overall: dict
    persistence: dict[tuple[str, str], float]
    effects: dict


@dataclass(frozen=True)
class Replicate:
    """One replicate's data, as the DiD stage reads it, and its truth.

    ``panels``: area key (``mopti``, ``bamako``) → analysis panel (``facility_id,
    district, t, month, group, end_t, population, reported, <indicator>,
    <indicator>_per_1000``; unreported months have
    missing values). ``surveys``: unit (``births``, ``women``, ``children``,
    ``households``) → table with one column per outcome it holds and ``area, year,
    district, treated, weight, strata, psu``. ``truth``: ``cs_overall``
    (:func:`~sahel_eval.synth.truth.cs_overall`), ``persistence``
    (``{(programme, indicator): ratio}``) and ``survey`` (``{(area, outcome, round):
    effect as a proportion}``, Mopti only).
    """

    seed: int
    panels: dict[str, pd.DataFrame]
    surveys: dict[str, pd.DataFrame]
    truth: dict


def design(variant: str = "demo", seed: int = DEFAULT_SEED) -> Design:
    """The demo design (``variant="demo"``: the bundled data's districts, facilities and
    roll-out), its unequal-district-sizes variant (``"unequal"``) or a small one for
    tests (``"small"``), drawn with the generator's streams so that ``design("demo")``
    is the model behind ``data/raw``; ``"national"`` is the benchmarks' scale."""
    if variant not in SCALES:
        raise ValueError(f"variant must be one of {sorted(SCALES)}, got {variant!r}")
    rng_geo, rng_ev, rng_fac, _, rng_srv, _ = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)
    )
    fac = geography.make_facilities(rng_geo, SCALES[variant])
    pop = geography.make_population(rng_geo, fac)
    model = facility_model.build(fac, pop, events.make_events(rng_ev), rng_fac)
    effects = surveys.district_effects(list(set(fac["district"])), rng_srv)
    planted, persistence = truth.effects(model)
    ratios = {(p["programme"], p["indicator"]): p["ratio"] for p in persistence}
    return Design(variant, model, effects, truth.cs_overall(model), ratios, planted)


def _area_panel(
    model: facility_model.FacilityModel, counts: np.ndarray, programme: str
) -> pd.DataFrame:
    """The area's panel: one row per expected facility-month, values where reported."""
    fac = model.fac
    g = truth.programme_groups(model)[programme]
    area = np.flatnonzero((fac["region"] == _REGION[programme]).to_numpy())
    ff, tt = np.meshgrid(area, np.arange(counts.shape[1]), indexing="ij")
    keep = model.expected[ff, tt]
    ff, tt = ff[keep], tt[keep]
    treated = g[ff] >= 0
    end_t = facility_model.month_index(_END[programme]) + 1
    frame = pd.DataFrame(
        {
            "facility_id": fac["orgunit_uid"].to_numpy()[ff],
            "district": fac["district"].to_numpy()[ff],
            "t": tt + 1,
            "month": truth.PERIODS[tt],
            "group": np.where(treated, g[ff] + 1, 0),
            "end_t": np.where(treated, end_t, 0),
        }
    )
    reported = model.reported[ff, tt]
    values = counts[ff, tt, :].astype("float64")
    values[~reported] = np.nan
    per_1000 = values / model.pop[ff, tt][:, None] * 1000.0
    # The panel contract (clean.panels): population, counts and rates, reported.
    frame = frame.assign(
        population=model.pop[ff, tt].astype("float64"),
        reported=reported,
        **{k: values[:, i] for i, k in enumerate(INDICATORS)},
    )
    return frame.assign(**{f"{k}_per_1000": per_1000[:, i] for i, k in enumerate(INDICATORS)})


def _survey_tables(rounds: list[surveys.SurveyRound]) -> dict[str, pd.DataFrame]:
    """Per unit, the eligible respondents' drawn outcomes with the design columns."""
    units = {
        "households": ("catastrophic_spending",),
        "women": ("mutual_membership", "any_insurance"),
        "births": ("facility_delivery",),
        "children": ("fever_care",),
    }
    out = {}
    for unit, outcomes in units.items():
        parts = []
        for rnd in rounds:
            first = rnd.truth_units[outcomes[0]]
            part = pd.DataFrame(
                {
                    "area": first["area"].map(_SURVEY_AREA).to_numpy(),
                    "year": rnd.year,
                    "district": first["district"].to_numpy(),
                    "treated": (first["arm"] == "treated").to_numpy(),
                    "weight": first["weight"].to_numpy(),
                    # PSUs and strata are round-specific (as the cleaning's design ids).
                    "strata": rnd.year * 1000 + first["strata"].to_numpy(),
                    "psu": rnd.year * 1000 + first["psu"].to_numpy(),
                }
            )
            for name in outcomes:
                u = rnd.truth_units[name]
                part[name] = u["y"].where(u["eligible"].astype(bool)).to_numpy()
            parts.append(part)
        out[unit] = pd.concat(parts, ignore_index=True)
    return out


def facility_panels(d: Design, seed: int) -> dict[str, pd.DataFrame]:
    """The analysis panels of replicate ``seed`` (area key → panel), without surveys."""
    rng_noise, rng_cnt, _, _ = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    model = d.model
    noise = facility_model.district_month_noise(
        model.fac["district"].to_numpy(), model.mu.shape[1], rng_noise
    )
    counts = facility_model.draw_counts(model.mu, noise, rng_cnt)
    return {area: _area_panel(model, counts, prog) for area, prog in _PROGRAMME.items()}


def replicate(d: Design, seed: int) -> Replicate:
    """One Monte Carlo replicate of design ``d``: fresh noise, same design.

    The seed alone fixes the draws (independent streams for the district-month shocks,
    the counts and the surveys), whichever process runs it.
    """
    rng_srv, rng_items = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)[2:]
    )
    scale = SCALES[d.name]
    # Mopti's rounds only: the Monte Carlo analyses the Mopti survey (Bamako's single
    # treated commune makes its survey 2×2 not informative at the assignment level).
    rounds = [
        surveys.make_round(y, scale, rng_srv, d.district_effects, rng_items, areas=("Mopti",))
        for y in SURVEY_ROUNDS
    ]
    _, survey_effects = truth.survey_truth(rounds)
    return Replicate(
        seed=seed,
        panels=facility_panels(d, seed),
        surveys=_survey_tables(rounds),
        truth={
            "cs_overall": d.cs_overall,
            "persistence": d.persistence,
            "effects": d.effects,
            "survey": {
                (_SURVEY_AREA[e["area"]], e["outcome"], e["round"]): e["att_pp"] / 100.0
                for e in survey_effects
            },
        },
    )


def persistence_replicate(seed: int, *, level: float = 0.95) -> pd.DataFrame:
    """Persistence estimates and their planted values on one redrawn demo design.

    Counts are drawn without district-month shocks: this checks the facility-level
    interval where its assumption holds (:func:`replicate` has the shocks).

    Parameters
    ----------
    seed
        Seed of the replicate (the bundled demo data is ``params.DEFAULT_SEED``).
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per programme × outcome × cluster level: ``seed, programme, outcome,
        cluster, truth, estimate, se, df, ci_low, ci_high, ci_note, inside``.
    """
    rng_geo, rng_ev, rng_fac, rng_cnt = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    fac = geography.make_facilities(rng_geo, SCALES["demo"])
    pop = geography.make_population(rng_geo, fac)
    model = facility_model.build(fac, pop, events.make_events(rng_ev), rng_fac)
    counts = facility_model.draw_counts(model.mu, np.ones(model.mu.shape[:2]), rng_cnt)
    planted = {(p["programme"], p["indicator"]): p["ratio"] for p in truth.effects(model)[1]}
    rows = []
    for programme, (outcomes, clusters) in PERSISTENCE_OUTCOMES.items():
        panel = _area_panel(model, counts, programme).dropna(
            subset=[f"{o}_per_1000" for o in outcomes]
        )
        # Rates under the outcome's name (the counts of the same name make way).
        panel = panel.drop(columns=list(outcomes)).rename(
            columns={f"{o}_per_1000": o for o in outcomes}
        )
        end_t = facility_model.month_index(_END[programme]) + 1
        first_t = int(panel.loc[panel["group"] > 0, "group"].min())
        for outcome in outcomes:
            for cluster in clusters:
                fit = att_gt(panel, outcome, **FACILITY_ATT_GT, cluster=cluster, level=level)
                rec = persistence_ratio(
                    fit.aggregate("calendar"),
                    end_t=end_t,
                    first_t=first_t,
                    last_t=int(panel["t"].max()),
                    level=level,
                )
                true = planted[(programme, outcome)]
                rows.append(
                    {
                        "seed": seed,
                        "programme": programme,
                        "outcome": outcome,
                        "cluster": cluster,
                        "truth": true,
                        **{
                            k: rec.get(k)
                            for k in ("estimate", "se", "df", "ci_low", "ci_high", "ci_note")
                        },
                        "inside": bool(rec["ci_low"] <= true <= rec["ci_high"]),
                    }
                )
    return pd.DataFrame(rows)
