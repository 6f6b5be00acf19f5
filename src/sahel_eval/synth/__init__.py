"""Synthetic demo raw data in the formats real inputs come in, with a planted truth.

``python -m sahel_eval.synth --out data/raw`` (or ``make demo-data``) writes the demo
data set; ``--scale national`` writes ≈ 1,400 CSCOMs for benchmarks. The same seed and
scale give byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..io.tables import FACILITY_COLUMNS
from . import (
    dhis2_export,
    displacement,
    events,
    facility_model,
    geography,
    mutuals,
    survey_items,
    surveys,
    truth,
)
from .params import (
    BASELINE_ROUND,
    CHAIN_GAP_DAYS,
    CRUDE_BIRTH_RATE,
    DEFAULT_SEED,
    DISTRICT_MONTH_AR,
    DISTRICT_MONTH_SD,
    ESSENTIAL_SERVICES,
    FERTILITY_GAP,
    FIRST_MONTH,
    INDICATORS,
    LAST_MONTH,
    MIN_FATALITIES,
    MIN_HISTORY,
    SCALES,
    SURVEY_DISTRICT_ROUND_SD,
    SURVEY_ROUNDS,
    WINDOW_MONTHS,
)
from .writers import write_csv, write_csv_gz, write_dta, write_json, write_sav, write_xlsx

__all__ = ["generate"]

SURVEY_UNITS = {"households": "HR", "women": "IR", "births": "BR", "children": "KR"}
# Round → (format, Stata version): the baseline is a legacy latin-1 Stata file, the
# midline came as SPSS, the endline as a current Stata file.
SURVEY_FORMATS = {2015: ("dta", 114), 2018: ("sav", None), 2021: ("dta", 118)}
IDENTIFIERS = {
    "dhis2_datavalues.csv.gz": ["storedby"],
    "dhis2_completeness.csv": ["storedby"],
    "HR": ["shnom", "shtel", "gps_lat", "gps_lon"],
    "IR": ["snom", "stel"],
    "BR": ["sdob"],
    "KR": ["sdob"],
}
VARIABLE_LABELS = (
    {
        "hhid": "Identifiant du ménage",
        "hv001": "Numéro de grappe",
        "hv002": "Numéro du ménage",
        "hv005": "Poids ménage (6 décimales)",
        "hv021": "Unité primaire de sondage",
        "hv022": "Strate",
        "hv024": "Région",
        "hv025": "Milieu de résidence",
        "shdist": "District sanitaire (cercle ou commune)",
        "shcomm": "Commune",
        "hv009": "Nombre de membres du ménage",
        "hv270": "Quintile de bien-être",
        "shconso": "Consommation annuelle du ménage (FCFA)",
        "shoop": "Dépenses de santé directes, 12 derniers mois (FCFA)",
        "shnom": "Nom du chef de ménage",
        "shtel": "Téléphone",
        "gps_lat": "Latitude GPS",
        "gps_lon": "Longitude GPS",
        "caseid": "Identifiant de l'enquêtée",
        "v001": "Numéro de grappe",
        "v002": "Numéro du ménage",
        "v003": "Numéro de ligne",
        "v005": "Poids femme (6 décimales)",
        "v008": "Date de l'entretien (CMC)",
        "v021": "Unité primaire de sondage",
        "v022": "Strate",
        "v024": "Région",
        "v025": "Milieu de résidence",
        "sdist": "District sanitaire",
        "scomm": "Commune",
        "v012": "Âge",
        "v106": "Niveau d'instruction",
        "v133": "Années d'études",
        "v190": "Quintile de bien-être",
        "v201": "Enfants nés vivants",
        "v481": "Couverte par une assurance maladie",
        "v481a": "Mutuelle de santé / communautaire",
        "v481b": "Assurance par l'employeur",
        "v481c": "Sécurité sociale (AMO)",
        "v481d": "Assurance privée",
        "snom": "Nom de l'enquêtée",
        "stel": "Téléphone",
        "bidx": "Rang de la naissance",
        "b3": "Date de naissance (CMC)",
        "b4": "Sexe de l'enfant",
        "m15": "Lieu de l'accouchement",
        "sdob": "Date de naissance exacte",
        "h11": "Diarrhée récente",
        "h12": "Conseil ou traitement pour la diarrhée",
        "h22": "Fièvre dans les 2 dernières semaines",
    }
    | survey_items.VARIABLE_LABELS
    | {k: f"Fièvre : soins recherchés - {v}" for k, v in surveys.H32.items()}
)


def generate(out: Path | str, *, scale: str = "demo", seed: int = DEFAULT_SEED) -> dict:
    """Write the demo raw data and ``truth.json`` into ``out``; return the truth.

    Parameters
    ----------
    out
        Folder to write (created if needed; existing files of the same names are
        overwritten).
    scale
        ``"demo"`` (≈ 220 CSCOMs, the bundled data), ``"unequal"`` (the demo design
        with unequal district sizes) or ``"national"`` (≈ 1,400).
    seed
        Seed of every random draw.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    sc = SCALES[scale]
    out = Path(out)
    (out / "survey").mkdir(parents=True, exist_ok=True)
    (out / "mutuals").mkdir(parents=True, exist_ok=True)
    # Independent streams per component, so that changing one leaves the others as they are.
    # Streams added later come last: spawn(n) keeps the first children whatever n is.
    rng_geo, rng_ev, rng_fac, rng_exp, rng_srv, rng_mut, rng_items, rng_pop = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)
    )

    fac = geography.make_facilities(rng_geo, sc)
    pop = geography.make_population(rng_geo, fac)
    ev = events.make_events(rng_ev)
    model = facility_model.build(fac, pop, ev, rng_fac)
    exp = dhis2_export.build_export(model, rng_exp)
    progs = events.make_programmes(model.fac)

    master = model.fac[list(FACILITY_COLUMNS)].copy()
    master["opened"] = master["opened"].dt.strftime("%Y-%m-%d")
    master["closed"] = master["closed"].dt.strftime("%Y-%m-%d").fillna("")
    write_csv(master, out / "facilities.csv")
    write_csv(pop, out / "population.csv")
    write_csv_gz(exp.datavalues, out / "dhis2_datavalues.csv.gz")
    write_csv(exp.completeness, out / "dhis2_completeness.csv")
    write_csv(exp.mapping, out / "orgunit_mapping.csv")
    write_csv(progs, out / "programmes.csv")
    write_csv(ev, out / "events.csv")
    sites = displacement.make_sites(model.fac)
    write_csv(sites, out / "displacement_sites.csv")
    projections, projection_gaps = displacement.make_projections(rng_pop, model.fac, pop)
    write_csv(projections, out / "district_population.csv")

    district_effects = surveys.district_effects(list(set(fac["district"])), rng_srv)
    rounds = [
        surveys.make_round(y, sc, rng_srv, district_effects, rng_items) for y in SURVEY_ROUNDS
    ]
    gap = FERTILITY_GAP
    fertility_gap = dict(gap) | surveys.displace_recent_births(
        next(r for r in rounds if r.year == gap["year"]),
        gap["area"],
        gap["share_displaced"],
        gap["months"],
    )
    survey_files = []
    for rnd in rounds:
        fmt, version = SURVEY_FORMATS[rnd.year]
        for unit, code in SURVEY_UNITS.items():
            frame = getattr(rnd, unit)
            name = f"ML{code}{rnd.year}.{fmt}"
            if fmt == "dta":
                write_dta(
                    frame,
                    out / "survey" / name,
                    version=version,
                    value_labels=surveys.LABELS,
                    variable_labels=VARIABLE_LABELS,
                    data_label=f"Enquête ménages {rnd.year} - données synthétiques",
                )
            else:
                write_sav(
                    frame,
                    out / "survey" / name,
                    value_labels=surveys.LABELS,
                    variable_labels=VARIABLE_LABELS,
                )
            survey_files.append(
                {
                    "round": rnd.year,
                    "unit": unit,
                    "path": f"survey/{name}",
                    "format": fmt,
                    "rows": len(frame),
                }
            )

    registers = mutuals.make_registers(rng_mut)
    consumption = mutuals.consumption_per_person({r.year: r.households for r in rounds})
    mutual_kpis = []
    for stem, (fmt, frame) in registers.items():
        if fmt == "csv":
            write_csv(frame, out / "mutuals" / f"{stem}.csv")
        else:
            write_xlsx(frame, out / "mutuals" / f"{stem}.xlsx", sheet="registre")
        mutual_kpis += mutuals.kpis(frame, consumption)

    timely = _timely(exp.completeness, model)
    eff, persistence = truth.effects(model)
    prev, survey_eff = truth.survey_truth(rounds)
    t = {
        "schema_version": 2,
        "meta": {
            "generator": "sahel_eval.synth",
            "seed": seed,
            "scale": scale,
            "first_month": str(FIRST_MONTH),
            "last_month": str(LAST_MONTH),
            "indicators": list(INDICATORS),
            "essential_services": list(ESSENTIAL_SERVICES),
            "definitions": {
                "expected_report": "opened month <= month < closed month",
                "timely": "completed on or before the 15th of the next month",
                "effect_scale": "monthly visits per 1,000 catchment population",
                "survey_effect_scale": "percentage points",
                "resilience_window_months": WINDOW_MONTHS,
                "recovery_threshold": 0.9,
                "recovery_run_months": 3,
                "min_history_months": MIN_HISTORY,
                "local_shock_min_fatalities": MIN_FATALITIES,
                "local_shock_gap_days": CHAIN_GAP_DAYS,
                "persistence_months": truth.PERSISTENCE_MONTHS,
                "fever_care_sources": list(surveys.H32_CARE),
                "facility_delivery_codes": [20, 39],
                "catastrophic_thresholds": [0.10, 0.25],
                "person_weighted": list(surveys.PERSON_WEIGHTED),
                "skilled_attendant_items": ["m3a", "m3b", "m3c"],
                "fever_prompt_max_days": 1,
                "scheme_items": {
                    "coverage_amo": "v481c",
                    "coverage_ramed": "s481r",
                    "mutual_membership": "v481a",
                },
                "kpis_not_applicable": {k: list(v) for k, v in mutuals.NOT_APPLICABLE.items()},
                "district_month_shocks": {
                    "sd_log": DISTRICT_MONTH_SD,
                    "ar1": DISTRICT_MONTH_AR,
                    "survey_district_round_sd": SURVEY_DISTRICT_ROUND_SD,
                    "in_truth": False,
                },
            },
        },
        "dhis2": exp.uids,
        "facilities": {
            "n": len(fac),
            "by_district": {
                d: int(n) for d, n in fac["district"].value_counts().sort_index().items()
            },
            "opened_during_period": sorted(
                model.fac.loc[model.fac["opened"] >= FIRST_MONTH.to_timestamp(), "orgunit_uid"]
            ),
            "closures": [
                {"orgunit_uid": u, "closed": c.date().isoformat()}
                for u, c in zip(model.fac["orgunit_uid"], model.fac["closed"], strict=True)
                if pd.notna(c)
            ],
        },
        "faults": _faults(exp, model),
        "completeness": truth.completeness(model, timely),
        "programmes": _programmes(model),
        "effects": eff,
        "cs_overall": truth.cs_overall(model),
        "persistence": persistence,
        "shocks": [
            {
                "shock_id": s.shock_id,
                "kind": s.kind,
                "district": s.district,
                "onset": truth.PERIODS[s.onset],
            }
            for s in model.shocks
        ],
        "resilience": truth.resilience(model),
        "surveys": {
            "rounds": list(SURVEY_ROUNDS),
            "baseline": BASELINE_ROUND,
            "files": survey_files,
            "prevalence": prev,
            "effects": survey_eff,
            "subgroup_effects": truth.survey_subgroup_truth(rounds),
            "dont_know_codes": _dk_codes(),
            "valid_values_that_look_like_codes": {
                "hv009": [8],
                "v201": [8],
                "v133": [8],
                "shoop": [998],
            },
        },
        "mutuals": mutual_kpis,
        "djantoli_count": {
            "year": mutuals.DJANTOLI_COUNT["year"],
            "by_scheme": {k: v[1] for k, v in mutuals.DJANTOLI_COUNT.items() if k != "year"},
        },
        "population": {
            "district_projections": projections.to_dict(orient="records"),
            "displacement_sites": sites.groupby("site", sort=True)
            .agg(
                district=("district", "first"),
                aire_de_sante=("aire_de_sante", "first"),
                origin_district=("origin_district", "first"),
                origin_aire_de_sante=("origin_aire_de_sante", "first"),
                first_month=("month", "min"),
                persons_first_month=("persons", "first"),
            )
            .reset_index()
            .to_dict(orient="records"),
            "adjusted": displacement.adjusted_population(model.fac, pop, sites),
        },
        # WHO DQR domain 4: district-years whose projection was planted off (catchment
        # sum ÷ projection outside [0.67, 1.33]); domain 3: the survey years among them,
        # where routine coverage over the projection is off by the same factor.
        "dq_population": projection_gaps,
        "dq_external": [
            {
                "district": g["district"],
                "year": g["year"],
                "indicators": ["anc1", "deliveries"],
                "projection_factor": g["projection_factor"],
            }
            for g in projection_gaps
            if g["year"] in SURVEY_ROUNDS
        ],
        # WHO DQR domain 4, fertility: the one area-round whose survey births of the
        # last 12 months were planted short (params.FERTILITY_GAP); elsewhere the survey's
        # crude birth rate is the facility model's (crude_birth_rate).
        "dq_fertility": [fertility_gap | {"crude_birth_rate": CRUDE_BIRTH_RATE}],
        "privacy": {"identifier_columns": IDENTIFIERS},
    }
    write_json(t, out / "truth.json")
    return t


def _timely(comp: pd.DataFrame, model: facility_model.FacilityModel) -> np.ndarray:
    """F × T: report completed by the 15th of the next month."""
    uid_pos = {u: i for i, u in enumerate(model.fac["orgunit_uid"])}
    per_pos = {p: i for i, p in enumerate(truth.PERIODS)}
    done = pd.to_datetime(comp["date"])
    deadline = (pd.PeriodIndex(comp["period"], freq="M") + 1).to_timestamp() + pd.Timedelta(days=15)
    out = np.zeros(model.reported.shape, dtype=bool)
    ok = (done < deadline).to_numpy()
    fi = comp["orgunit"].map(uid_pos).to_numpy()
    ti = comp["period"].map(per_pos).to_numpy()
    out[fi[ok], ti[ok]] = True
    return out


def _faults(exp: dhis2_export.Dhis2Export, model: facility_model.FacilityModel) -> dict:
    fi, ti = np.nonzero(model.expected & ~model.reported)
    f = {name: frame.to_dict(orient="records") for name, frame in exp.faults.items()}
    f["unreported"] = [
        {"orgunit_uid": model.fac["orgunit_uid"].iat[a], "period": truth.PERIODS[b]}
        for a, b in zip(fi, ti, strict=True)
    ]
    return f


def _programmes(model: facility_model.FacilityModel) -> dict:
    groups = truth.programme_groups(model)
    out = {}
    for prog, g in groups.items():
        out[prog] = {
            "groups": {
                u: int(x) + 1 for u, x in zip(model.fac["orgunit_uid"], g, strict=True) if x >= 0
            },
            "group_index": "month index t of first exposure, 1 = January 2014",
        }
    return out


def _dk_codes() -> dict[str, list[int]]:
    """Per variable, the codes its value labels define as don't know / missing."""
    words = ("ne sait pas", "manquant", "incohérent")
    return {
        v: sorted(c for c, lab in labels.items() if lab.lower() in words)
        for v, labels in sorted(surveys.LABELS.items())
        if any(lab.lower() in words for lab in labels.values())
    }
