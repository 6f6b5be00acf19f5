"""Replicates of the demo design, for checking the calibration of interval estimators.

One replicate draws a new facility model (geography, events, programme waves, shocks)
and new gamma–Poisson counts from the demo generator with another seed, keeps the
months the facility reported, and estimates each programme's persistence ratio exactly
as the pipeline does (``att_gt`` with :data:`~sahel_eval.did.analyses.FACILITY_ATT_GT`, then
:func:`~sahel_eval.did.persistence.persistence_ratio`). The export's data-quality
faults are not planted: the question here is the interval, not the cleaning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sahel_eval.did.analyses import FACILITY_ATT_GT
from sahel_eval.did.cs.model import att_gt
from sahel_eval.did.persistence import persistence_ratio

from . import events, facility_model, geography, truth
from .params import DJANTOLI_END, I3S_END, INDICATORS, SCALES

__all__ = ["PERSISTENCE_OUTCOMES", "persistence_replicate"]

#: Outcomes with a planted effect, per programme, and the cluster levels of the pipeline.
PERSISTENCE_OUTCOMES = {
    "I3S": (("consultations_all", "anc1", "deliveries"), ("district", "facility_id")),
    "Djantoli": (
        ("consultations_all", "consultations_u5", "anc1", "deliveries", "consultations_mutual"),
        ("facility_id",),
    ),
}
_REGION = {"I3S": "Mopti", "Djantoli": "Bamako"}
_END = {"I3S": I3S_END, "Djantoli": DJANTOLI_END}


def _panel(model: facility_model.FacilityModel, counts: np.ndarray, programme: str) -> pd.DataFrame:
    fac = model.fac
    g = truth.programme_groups(model)[programme]
    area = np.flatnonzero((fac["region"] == _REGION[programme]).to_numpy())
    ff, tt = np.meshgrid(area, np.arange(counts.shape[1]), indexing="ij")
    keep = model.reported[ff, tt]
    ff, tt = ff[keep], tt[keep]
    frame = pd.DataFrame(
        {
            "facility_id": fac["orgunit_uid"].to_numpy()[ff],
            "district": fac["district"].to_numpy()[ff],
            "t": tt + 1,
            "group": np.where(g[ff] >= 0, g[ff] + 1, 0),
        }
    )
    per_1000 = counts[ff, tt, :] / model.pop[ff, tt][:, None] * 1000.0
    return frame.assign(**{k: per_1000[:, i] for i, k in enumerate(INDICATORS)})


def persistence_replicate(seed: int, *, level: float = 0.95) -> pd.DataFrame:
    """Persistence estimates and their planted values on one replicate of the demo design.

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
    # Same count model as the DHIS2 export: gamma–Poisson around the means.
    counts = rng_cnt.poisson(model.mu * rng_cnt.gamma(100.0, 0.01, model.mu.shape))
    planted = {(p["programme"], p["indicator"]): p["ratio"] for p in truth.effects(model)[1]}
    rows = []
    for programme, (outcomes, clusters) in PERSISTENCE_OUTCOMES.items():
        panel = _panel(model, counts, programme)
        end_t = facility_model.month_index(_END[programme]) + 1
        first_t = int(panel.loc[panel["group"] > 0, "group"].min())
        for outcome in outcomes:
            for cluster in clusters:
                fit = att_gt(
                    panel,
                    outcome,
                    **FACILITY_ATT_GT,
                    cluster=cluster,
                    level=level,
                )
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
