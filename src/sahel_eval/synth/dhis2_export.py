"""The facility model as a DHIS2 data-value export and complete-registrations file,
with the faults real exports have (all recorded for the truth)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..io.dhis2 import DATAVALUE_COLUMNS
from .facility_model import MONTHS, FacilityModel, draw_counts
from .geography import dhis2_uids
from .params import DHIS2_DEFAULT_COC, INDICATORS

# (data element name, category option combo name, indicators the row adds to)
ROWS = (
    ("Consultations curatives", "Moins de 5 ans", ("consultations_all", "consultations_u5")),
    ("Consultations curatives", "5 ans et plus", ("consultations_all",)),
    ("CPN1", "default", ("anc1",)),
    ("CPN4", "default", ("anc4",)),
    ("Accouchements assistés", "default", ("deliveries",)),
    ("Penta1", "default", ("penta1",)),
    ("Penta3", "default", ("penta3",)),
    ("Paludisme confirmé", "default", ("malaria_confirmed",)),
    ("Consultations des mutualistes", "default", ("consultations_mutual",)),
)
_SURNAMES = [
    "diallo",
    "traore",
    "coulibaly",
    "keita",
    "kone",
    "sangare",
    "dembele",
    "maiga",
    "cisse",
    "toure",
    "guindo",
    "dolo",
    "ongoiba",
    "kassogue",
    "tembely",
    "bore",
]


@dataclass
class Dhis2Export:
    """The export, the registrations and the UIDs and faults behind them."""

    datavalues: pd.DataFrame
    completeness: pd.DataFrame
    mapping: pd.DataFrame
    uids: dict
    faults: dict = field(default_factory=dict)
    true_values: pd.DataFrame | None = None


def _ts(x: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    return pd.DatetimeIndex(x).strftime("%Y-%m-%dT%H:%M:%S.000").to_numpy()


def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def name_variants(name: str, aire: str) -> list[tuple[str, str]]:
    """Variants of a facility name as legacy exports spell it, with how to match them."""
    return [
        (_strip_accents(name).upper(), "name"),
        (f"ASACO {aire}", "name"),
        (f"cscom  de {aire.lower()}", "name"),
        (f"{aire} ", "name"),
        (f"CS communautaire {_strip_accents(aire).upper()[:5]} (ex-dispensaire)", "mapping"),
    ]


def build_export(model: FacilityModel, rng: np.random.Generator) -> Dhis2Export:
    """Draws the counts, writes them as DHIS2 rows and plants the faults."""
    fac = model.fac
    F, T = model.reported.shape
    de_names = sorted({r[0] for r in ROWS})
    coc_names = sorted({r[1] for r in ROWS} - {"default"})
    de_uid = dict(zip(de_names, dhis2_uids(rng, len(de_names)), strict=True))
    coc_uid = dict(zip(coc_names, dhis2_uids(rng, len(coc_names)), strict=True))
    coc_uid["default"] = DHIS2_DEFAULT_COC
    dataset_uid = dhis2_uids(rng, 1)[0]

    # Counts: gamma–Poisson around the means, times the district-month shocks.
    k_all = INDICATORS.index("consultations_all")
    k_u5 = INDICATORS.index("consultations_u5")
    means = []
    for _, _, inds in ROWS:
        if inds == ("consultations_all", "consultations_u5"):
            means.append(model.mu[:, :, k_u5])
        elif inds == ("consultations_all",):
            means.append(model.mu[:, :, k_all] - model.mu[:, :, k_u5])
        else:
            means.append(model.mu[:, :, INDICATORS.index(inds[0])])
    counts = draw_counts(np.stack(means, axis=2), model.district_noise, rng)  # F × T × R

    users = [
        f"{chr(97 + int(rng.integers(26)))}{_SURNAMES[int(rng.integers(len(_SURNAMES)))]}"
        for _ in range(F)
    ]
    # Completion: within 45 days of the month's end, 80 % by the 15th of the next month.
    month_end = MONTHS.to_timestamp(how="end").normalize()
    delay_days = np.where(
        rng.random((F, T)) < 0.8, rng.integers(1, 15, (F, T)), rng.integers(16, 46, (F, T))
    )
    secs = rng.integers(7 * 3600, 18 * 3600, (F, T))
    fi, ti = np.nonzero(model.reported)
    completed = (
        month_end[ti]
        + pd.to_timedelta(delay_days[fi, ti], unit="D")
        + pd.to_timedelta(secs[fi, ti], unit="s")
    )
    entered = completed - pd.to_timedelta(rng.integers(600, 86_400, len(fi)), unit="s")
    periods = MONTHS.strftime("%Y%m").to_numpy()
    uids = fac["orgunit_uid"].to_numpy()

    R = len(ROWS)
    body = pd.DataFrame(
        {
            "f": np.repeat(fi, R),
            "t": np.repeat(ti, R),
            "r": np.tile(np.arange(R), len(fi)),
            "true": counts[fi, ti, :].ravel(),
            "lastupdated": np.repeat(_ts(entered), R),
        }
    )
    body["value"] = body["true"]
    faults: dict = {}

    # Typing outliers: a value keyed ×10 (only on counts large enough to show it).
    cand = np.flatnonzero(body["true"].to_numpy() >= 10)
    n_out = int(round(0.003 * len(body)))
    out_idx = np.sort(rng.choice(cand, n_out, replace=False))
    body.loc[out_idx, "value"] = body.loc[out_idx, "true"] * 10

    # Conflicting duplicates: an earlier, wrong value for the same cell.
    rest = np.setdiff1d(np.flatnonzero(body["true"].to_numpy() >= 2), out_idx)
    conf_idx = np.sort(rng.choice(rest, int(round(0.002 * len(body))), replace=False))
    stale = body.loc[conf_idx].copy()
    stale["value"] = np.maximum(
        0, np.rint(stale["true"] * rng.uniform(0.4, 0.85, len(stale))).astype(np.int64) - 1
    )
    stale["lastupdated"] = _ts(
        pd.to_datetime(stale["lastupdated"]) - pd.to_timedelta(rng.integers(3, 30, len(stale)), "D")
    )

    # Exact duplicates: whole facility-month reports exported twice.
    fm = np.flatnonzero(rng.random(len(fi)) < 0.015)
    dup = body[np.isin(body.index // R, fm)].copy()

    # Zeros keyed for months with no report.
    ufi, uti = np.nonzero(model.expected & ~model.reported)
    keyed = rng.random(len(ufi)) < 0.15
    kz_rows = []
    for f, t in zip(ufi[keyed], uti[keyed], strict=True):
        n = int(rng.integers(1, R + 1))
        for r in np.sort(rng.choice(R, n, replace=False)):
            kz_rows.append((f, t, r))
    kz = pd.DataFrame(kz_rows, columns=["f", "t", "r"])
    kz["true"] = -1
    kz["value"] = 0
    kz_time = (
        month_end[kz["t"]]
        + pd.to_timedelta(rng.integers(2, 40, len(kz)), "D")
        + pd.to_timedelta(rng.integers(7 * 3600, 18 * 3600, len(kz)), "s")
    )
    kz["lastupdated"] = _ts(kz_time)

    allrows = pd.concat([body, kz], ignore_index=True)
    allrows = allrows.sort_values(["t", "f", "r"], kind="stable")
    allrows = pd.concat([allrows, dup, stale], ignore_index=True)

    # Name variants: a few facilities' rows for one legacy year carry a name, not a UID.
    orgunit = uids[allrows["f"].to_numpy()].astype(object)
    nv_fac = rng.choice(F, 5, replace=False)
    variants = []
    for j, f in enumerate(nv_fac):
        name = fac["orgunit_name"].iat[f]
        variant, method = name_variants(name, fac["aire_de_sante"].iat[f])[j]
        year = int(rng.choice([2014, 2015, 2016]))
        mask = (allrows["f"].to_numpy() == f) & (MONTHS.year.to_numpy()[allrows["t"]] == year)
        orgunit[mask] = variant
        variants.append(
            {
                "variant": variant,
                "orgunit_uid": uids[f],
                "method": method,
                "year": year,
                "n_rows": int(mask.sum()),
            }
        )

    de_of = np.array([de_uid[r[0]] for r in ROWS])
    coc_of = np.array([coc_uid[r[1]] for r in ROWS])
    r_arr = allrows["r"].to_numpy()
    dv = pd.DataFrame(
        {
            "dataelement": de_of[r_arr],
            "period": periods[allrows["t"].to_numpy()],
            "orgunit": orgunit,
            "categoryoptioncombo": coc_of[r_arr],
            "attributeoptioncombo": DHIS2_DEFAULT_COC,
            "value": allrows["value"].astype(np.int64).astype(str).to_numpy(),
            "storedby": np.array(users)[allrows["f"].to_numpy()],
            "lastupdated": allrows["lastupdated"].to_numpy(),
            "comment": "",
            "followup": "false",
        }
    )[list(DATAVALUE_COLUMNS)]  # the columns, in the order, the reader expects

    comp = pd.DataFrame(
        {
            "dataset": dataset_uid,
            "period": periods[ti],
            "orgunit": uids[fi],
            "attributeoptioncombo": DHIS2_DEFAULT_COC,
            "date": _ts(completed),
            "storedby": np.array(users)[fi],
            "completed": "true",
        }
    )

    def cell(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "orgunit_uid": uids[frame["f"].to_numpy()],
                "period": periods[frame["t"].to_numpy()],
                "dataelement": de_of[frame["r"].to_numpy()],
                "categoryoptioncombo": coc_of[frame["r"].to_numpy()],
                "indicators": [list(ROWS[r][2]) for r in frame["r"].to_numpy()],
            }
        )

    o = cell(body.loc[out_idx])
    o["true_value"] = body.loc[out_idx, "true"].to_numpy()
    o["reported_value"] = body.loc[out_idx, "value"].to_numpy()
    c = cell(stale)
    c["stale_value"] = stale["value"].to_numpy()
    c["correct_value"] = stale["true"].to_numpy()
    c["stale_lastupdated"] = stale["lastupdated"].to_numpy()
    faults["outliers"] = o
    faults["conflicting_duplicates"] = c
    faults["keyed_zeros"] = cell(kz)
    faults["exact_duplicates"] = pd.DataFrame(
        {"orgunit_uid": uids[fi[fm]], "period": periods[ti[fm]], "n_rows": R}
    )
    faults["name_variants"] = pd.DataFrame(variants)

    true_values = cell(body)
    true_values["value"] = body["true"].to_numpy()
    mapping = pd.DataFrame(
        [
            {"name_in_export": v["variant"], "orgunit_uid": v["orgunit_uid"]}
            for v in variants
            if v["method"] == "mapping"
        ]
    )
    uid_table = {
        "dataset": dataset_uid,
        "data_elements": de_uid,
        "category_option_combos": coc_uid,
        "rows": [
            {"dataelement": de_uid[d], "categoryoptioncombo": coc_uid[c_], "indicators": list(i)}
            for d, c_, i in ROWS
        ],
    }
    return Dhis2Export(dv, comp, mapping, uid_table, faults, true_values)
