"""The bundled demo data: byte-identical regeneration and truth checked against the files."""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pyreadstat
import pytest

from sahel_eval.config import load_config
from sahel_eval.synth import generate, surveys
from sahel_eval.synth.config import config_for_raw
from sahel_eval.synth.mutuals import consumption_per_person, kpis

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((RAW / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def datavalues() -> pd.DataFrame:
    return pd.read_csv(RAW / "dhis2_datavalues.csv.gz", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def registrations() -> pd.DataFrame:
    return pd.read_csv(RAW / "dhis2_completeness.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def facilities() -> pd.DataFrame:
    return pd.read_csv(RAW / "facilities.csv", dtype=str, keep_default_na=False)


def _files(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "README.md"
    )


def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    generate(tmp_path)
    assert _files(tmp_path) == _files(RAW)
    for name in _files(RAW):
        assert (tmp_path / name).read_bytes() == (RAW / name).read_bytes(), name


def test_gzip_header_has_no_time_or_name() -> None:
    head = (RAW / "dhis2_datavalues.csv.gz").read_bytes()[:10]
    assert head[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    assert head[3] & 0x08 == 0  # FNAME flag unset


def test_raw_data_size_is_bounded() -> None:
    total = sum(p.stat().st_size for p in RAW.rglob("*") if p.is_file())
    assert total < 20 * 1024 * 1024


def test_truth_matches_its_schema(truth: dict) -> None:
    schema = json.loads(
        resources.files("sahel_eval.synth").joinpath("truth_schema.json").read_text("utf-8")
    )
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(truth)


def test_geography_and_facility_list(truth: dict, facilities: pd.DataFrame) -> None:
    assert 150 <= len(facilities) <= 250
    assert len(facilities) == truth["facilities"]["n"]
    assert facilities["orgunit_uid"].is_unique
    assert facilities["orgunit_uid"].str.fullmatch(r"[A-Za-z][A-Za-z0-9]{10}").all()
    mopti = set(facilities.loc[facilities["region"] == "Mopti", "district"])
    assert mopti == {
        "Bandiagara",
        "Bankass",
        "Djenné",
        "Douentza",
        "Koro",
        "Mopti",
        "Ténenkou",
        "Youwarou",
    }
    assert set(facilities.loc[facilities["region"] == "Bamako", "district"]) == {
        f"Commune {r}" for r in ("I", "II", "III", "IV", "V", "VI")
    }
    assert facilities["orgunit_name"].str.contains("[éèêàïô]").any()
    closed = facilities[facilities["closed"] != ""]
    assert {c["orgunit_uid"] for c in truth["facilities"]["closures"]} == set(closed["orgunit_uid"])
    # Closures happen in conflict zones; some CSCOMs open during the period.
    assert set(closed["district"]) <= {"Bandiagara", "Bankass", "Douentza", "Koro"}
    assert len(truth["facilities"]["opened_during_period"]) > 0


def test_dhis2_export_columns_and_values(datavalues: pd.DataFrame) -> None:
    assert list(datavalues.columns) == [
        "dataelement",
        "period",
        "orgunit",
        "categoryoptioncombo",
        "attributeoptioncombo",
        "value",
        "storedby",
        "lastupdated",
        "comment",
        "followup",
    ]
    assert datavalues["period"].str.fullmatch(r"20(1[4-9]|2[0-3])(0[1-9]|1[0-2])").all()
    assert datavalues["value"].str.fullmatch(r"[0-9]+").all()
    assert datavalues["period"].min() == "201401" and datavalues["period"].max() == "202312"


def _key(frame: pd.DataFrame) -> pd.Series:
    return (
        frame["orgunit_uid"]
        + "|"
        + frame["period"]
        + "|"
        + frame["dataelement"]
        + "|"
        + frame["categoryoptioncombo"]
    )


def _dv_key(dv: pd.DataFrame) -> pd.Series:
    return (
        dv["orgunit"]
        + "|"
        + dv["period"]
        + "|"
        + dv["dataelement"]
        + "|"
        + dv["categoryoptioncombo"]
    )


def test_planted_outliers_are_where_truth_says(truth: dict, datavalues: pd.DataFrame) -> None:
    out = pd.DataFrame(truth["faults"]["outliers"])
    assert len(out) > 100
    assert (out["reported_value"] == 10 * out["true_value"]).all()
    assert (out["true_value"] >= 10).all()
    keys = _key(out)
    dv = datavalues.assign(key=_dv_key(datavalues))
    # Only the planted cells are grouped: a set per key of every row takes ~40 s.
    dv = dv[dv["key"].isin(set(keys))]
    got = dv.drop_duplicates().groupby("key")["value"].agg(lambda s: set(s.astype(int)))
    present = keys.isin(got.index)
    # Rows of name-variant facilities carry a name instead of the UID.
    variant_uids = {v["orgunit_uid"] for v in truth["faults"]["name_variants"]}
    assert present[~out["orgunit_uid"].isin(variant_uids)].all()
    for k, val in zip(keys[present], out.loc[present, "reported_value"], strict=True):
        assert val in got[k]


def test_keyed_zeros_sit_in_unreported_months(
    truth: dict, datavalues: pd.DataFrame, registrations: pd.DataFrame
) -> None:
    kz = pd.DataFrame(truth["faults"]["keyed_zeros"])
    assert len(kz) > 100
    reg = set(registrations["orgunit"] + "|" + registrations["period"])
    assert not (kz["orgunit_uid"] + "|" + kz["period"]).isin(reg).any()
    unrep = {(u["orgunit_uid"], u["period"]) for u in truth["faults"]["unreported"]}
    assert all((a, b) in unrep for a, b in zip(kz["orgunit_uid"], kz["period"], strict=True))
    dv = datavalues.assign(key=_dv_key(datavalues))
    sub = dv[dv["key"].isin(set(_key(kz)))]
    assert (sub["value"] == "0").all()


def test_unreported_months_have_no_registration(truth: dict, registrations: pd.DataFrame) -> None:
    un = pd.DataFrame(truth["faults"]["unreported"])
    reg = set(registrations["orgunit"] + "|" + registrations["period"])
    assert not (un["orgunit_uid"] + "|" + un["period"]).isin(reg).any()
    expected = sum(c["expected"] for c in truth["completeness"])
    share = len(un) / expected
    assert 0.05 <= share <= 0.10, share


def test_duplicates(truth: dict, datavalues: pd.DataFrame) -> None:
    dv = datavalues.assign(key=_dv_key(datavalues))
    exact = pd.DataFrame(truth["faults"]["exact_duplicates"])
    counts = dv[dv.duplicated(keep=False)].groupby(["orgunit", "period"]).size()
    for row in exact.itertuples():
        if (row.orgunit_uid, row.period) in counts.index:
            assert counts[(row.orgunit_uid, row.period)] >= 2 * row.n_rows - 0
    conf = pd.DataFrame(truth["faults"]["conflicting_duplicates"])
    assert len(conf) > 50
    by_key = dv.drop_duplicates().groupby("key")
    variant_uids = {v["orgunit_uid"] for v in truth["faults"]["name_variants"]}
    checked = 0
    for row, key in zip(conf.itertuples(), _key(conf), strict=True):
        if row.orgunit_uid in variant_uids:
            continue
        g = by_key.get_group(key)
        assert len(g) == 2
        stale = g[g["value"] == str(row.stale_value)]
        right = g[g["value"] == str(row.correct_value)]
        assert len(stale) == 1 and len(right) == 1 and row.stale_value != row.correct_value
        assert stale["lastupdated"].iat[0] < right["lastupdated"].iat[0]
        checked += 1
    assert checked > 50


def test_name_variants(truth: dict, datavalues: pd.DataFrame, facilities: pd.DataFrame) -> None:
    nv = truth["faults"]["name_variants"]
    assert {v["method"] for v in nv} == {"name", "mapping"}
    uids = set(facilities["orgunit_uid"])
    counts = datavalues["orgunit"].value_counts()
    for v in nv:
        assert v["variant"] not in uids
        assert counts[v["variant"]] == v["n_rows"]
    assert set(datavalues["orgunit"]) - uids == {v["variant"] for v in nv}
    mapping = pd.read_csv(RAW / "orgunit_mapping.csv", dtype=str)
    assert set(mapping["name_in_export"]) == {v["variant"] for v in nv if v["method"] == "mapping"}


def test_completeness_recomputed_from_files(
    truth: dict, registrations: pd.DataFrame, facilities: pd.DataFrame
) -> None:
    months = pd.period_range("2014-01", "2023-12", freq="M")
    opened = pd.PeriodIndex(pd.to_datetime(facilities["opened"]), freq="M")
    closed = pd.to_datetime(facilities["closed"].replace("", None))
    closed_m = [pd.Period(c, freq="M") if pd.notna(c) else None for c in closed]
    reg = registrations.merge(
        facilities[["orgunit_uid", "district"]], left_on="orgunit", right_on="orgunit_uid"
    )
    n_rep = reg.groupby(["district", "period"]).size()
    for row in truth["completeness"][::37]:
        m = pd.Period(row["period"], freq="M")
        d = (facilities["district"] == row["district"]).to_numpy()
        exp = sum(
            1
            for i in np.flatnonzero(d)
            if opened[i] <= m and (closed_m[i] is None or m < closed_m[i])
        )
        assert exp == row["expected"]
        assert n_rep.get((row["district"], row["period"]), 0) == row["reported"]
    assert len(months) * 14 == len(truth["completeness"])


def test_programmes_and_events(truth: dict, facilities: pd.DataFrame) -> None:
    prog = pd.read_csv(RAW / "programmes.csv", dtype=str)
    i3s = prog[prog["programme"] == "I3S"]
    assert i3s["start"].nunique() >= 2  # at least two waves
    fac_district = facilities.set_index("orgunit_uid")["district"]
    assert set(fac_district[i3s["unit_id"]]) == {"Bandiagara", "Mopti"}
    dj = prog[prog["programme"] == "Djantoli"].iloc[0]
    assert (dj["unit_id"], dj["start"], dj["end"]) == ("Commune III", "2017-11-01", "2019-10-31")
    ev = pd.read_csv(RAW / "events.csv")
    assert {"Koulogon-Peul", "Ogossagou", "Sobane Da"} <= set(ev["location"])
    shocks = {s["shock_id"]: s for s in truth["shocks"]}
    # Koulogon (1 Jan 2019) and Ogossagou (23 Mar 2019, 81 days later) chain into one shock.
    assert shocks["local-Bankass-201901"]["onset"] == "201901"
    assert "local-Bankass-201903" not in shocks
    assert shocks["covid19"]["onset"] == "202003"


def test_every_resilience_class_is_planted(truth: dict) -> None:
    classes = {r["class"] for r in truth["resilience"]}
    assert classes == {"not_assessable", "interrupted", "resilient", "recovered", "not_recovered"}
    assert {r["shock_id"] for r in truth["resilience"]} == {s["shock_id"] for s in truth["shocks"]}
    gainers = [
        r for r in truth["resilience"] if r["planted"] == "gainer" and r["substitution"] is not None
    ]
    assert gainers and all(r["substitution"] > 0 for r in gainers)
    for r in truth["resilience"]:
        assert (r["tau"] is None) == r["censored"]
        if r["class"] == "resilient":
            assert r["tau"] == 0


def test_effects_and_persistence(truth: dict) -> None:
    eff = truth["effects"]
    assert set(eff) == {"I3S", "Djantoli"}
    cal = eff["Djantoli"]["consultations_all"]["calendar"]
    assert min(cal) == "201711"  # no effect before the start
    ev = eff["I3S"]["consultations_all"]["event_time"]
    assert ev["-1"] == 0 and ev["5"] > ev["0"] > 0  # ramp-up
    for p in truth["persistence"]:
        assert 0 < p["ratio"] < 1  # partial persistence after the end
        assert p["ratio"] == pytest.approx(p["att_after"] / p["att_during"], rel=1e-6)


def _read_survey(path: Path) -> tuple[pd.DataFrame, object]:
    reader = pyreadstat.read_dta if path.suffix == ".dta" else pyreadstat.read_sav
    return reader(str(path))


def test_survey_files_labels_and_codes(truth: dict) -> None:
    files = truth["surveys"]["files"]
    assert {f["round"] for f in files} == {2015, 2018, 2021}
    assert {f["format"] for f in files} == {"dta", "sav"}
    dk = truth["surveys"]["dont_know_codes"]
    valid = truth["surveys"]["valid_values_that_look_like_codes"]
    seen_valid = {v: False for v in valid}
    for f in files:
        df, meta = _read_survey(RAW / f["path"])
        assert len(df) == f["rows"] > 0
        labels = meta.variable_value_labels
        for var, codes in dk.items():
            if var not in df.columns:
                continue
            for c in codes:
                # a don't-know code is labelled as such …
                assert labels[var][c].lower() in {"ne sait pas", "manquant", "incohérent"}
            # … and no valid value of the variable is one of its codes
            valid_vals = set(labels[var]) - set(codes)
            assert not valid_vals & set(codes)
        for var, vals in valid.items():
            if var in df.columns:
                assert not set(vals) & set(labels.get(var, {}))
                seen_valid[var] |= bool(df[var].isin(vals).any())
        if "m15" in df.columns:
            assert labels["m15"][23] == "CSCOM"
        if "shcomm" in df.columns:
            assert "Ténenkou" in set(df["shcomm"])  # accents survive (latin-1 in 2015)
    assert all(seen_valid.values()), seen_valid


def test_survey_truth_has_every_cell(truth: dict) -> None:
    prev = pd.DataFrame(truth["surveys"]["prevalence"])
    # The same outcomes in every round × area × arm cell: the survey module's and the
    # scheme / quality / forgone-care items (survey_items), once each.
    outcomes = set(prev["outcome"])
    assert set(surveys.OUTCOMES) < outcomes
    cells = prev.groupby(["round", "area", "arm"])["outcome"]
    assert cells.apply(lambda o: o.is_unique and set(o) == outcomes).all()
    assert (prev["n"] > 0).all() and prev["prevalence"].between(0, 1).all()
    eff = pd.DataFrame(truth["surveys"]["effects"])
    mm = eff[(eff["outcome"] == "mutual_membership") & (eff["programme"] == "I3S")]
    assert (mm["att_pp"] > 5).all()


def test_identifiers_are_present_in_raw_files(truth: dict) -> None:
    ids = truth["privacy"]["identifier_columns"]
    df, _ = _read_survey(RAW / "survey" / "MLHR2021.dta")
    for col in ids["HR"]:
        assert df[col].notna().all()
    assert df["shtel"].str.startswith("+223").all()
    with gzip.open(RAW / "dhis2_datavalues.csv.gz", "rt", encoding="utf-8") as fh:
        assert "storedby" in fh.readline()


def test_mutual_kpis_equal_the_registers(truth: dict) -> None:
    frames = [
        pd.read_csv(RAW / "mutuals" / "mutuelle_agriculteurs.csv"),
        pd.read_excel(RAW / "mutuals" / "mutuelle_artisans_commercants.xlsx"),
        pd.read_excel(RAW / "mutuals" / "mutuelle_commune3.xlsx"),
    ]

    def key(r: dict) -> tuple:
        return r["mutual"], r["scheme"], r["year"]

    households = {
        2015: pd.read_stata(RAW / "survey" / "MLHR2015.dta", convert_categoricals=False),
        2018: pd.read_spss(RAW / "survey" / "MLHR2018.sav", convert_categoricals=False),
        2021: pd.read_stata(RAW / "survey" / "MLHR2021.dta", convert_categoricals=False),
    }
    consumption = consumption_per_person(households)
    got = sorted((r for f in frames for r in kpis(f, consumption)), key=key)
    want = sorted(truth["mutuals"], key=key)
    # Two I3S mutuals and Commune III's AMV+ and RAMED+ members, 9 years each.
    assert len(got) == len(want) == 36
    for g, w in zip(got, want, strict=True):
        for k, v in w.items():
            assert g[k] == pytest.approx(v) if v is not None else g[k] is None
    # A mutual not yet launched in 2015 has no renewals due: the ratio is undefined.
    assert any(w["renewal"] is None for w in want)


def test_displacement_sites_and_adjusted_populations(truth: dict) -> None:
    sites = pd.read_csv(RAW / "displacement_sites.csv", dtype={"month": str})
    senou = sites[sites["site"] == "Site de Senou"]
    # The seeds: Senou (Bamako), 1,254 people since 2019.
    assert senou["month"].min() == "2019-01" and set(senou["persons"]) == {1_254}
    assert set(senou["district"]) == {"Commune VI"}
    fac = pd.read_csv(RAW / "facilities.csv")
    pop = pd.read_csv(RAW / "population.csv").set_index(["orgunit_uid", "year"])["population"]
    aires = zip(fac["district"], fac["aire_de_sante"], strict=True)
    uid = dict(zip(aires, fac["orgunit_uid"], strict=True))
    sites["year"] = sites["month"].str[:4].astype(int)
    moved = sites.groupby(
        ["district", "aire_de_sante", "origin_district", "origin_aire_de_sante", "year"]
    )
    want: dict[tuple[str, int], float] = {}
    for (d, a, od, oa, year), g in moved:
        mean = g["persons"].sum() / 12
        want[(uid[(d, a)], year)] = want.get((uid[(d, a)], year), 0.0) + mean
        want[(uid[(od, oa)], year)] = want.get((uid[(od, oa)], year), 0.0) - mean
    got = {(r["orgunit_uid"], r["year"]): r for r in truth["population"]["adjusted"]}
    assert set(got) == set(want)
    for key, delta in want.items():
        r = got[key]
        assert r["population"] == pop[key]
        assert r["adjusted_population"] == pytest.approx(pop[key] + delta, abs=1e-3)
    projections = pd.read_csv(RAW / "district_population.csv")
    assert len(projections) == 14 * 10 and (projections["population"] > 0).all()


def test_planted_projection_gaps(truth: dict, facilities: pd.DataFrame) -> None:
    # Catchment sum ÷ projection, recomputed from the files: far outside [0.67, 1.33]
    # exactly where truth plants a gap, within the district factor's range elsewhere.
    pop = pd.read_csv(RAW / "population.csv")
    district = pop["orgunit_uid"].map(facilities.set_index("orgunit_uid")["district"])
    catchment = pop.groupby([district.rename("district"), "year"])["population"].sum()
    proj = pd.read_csv(RAW / "district_population.csv").set_index(["district", "year"])
    ratio = (catchment / proj["population"]).dropna()
    planted = {(g["district"], g["year"]): g["catchment_ratio"] for g in truth["dq_population"]}
    assert planted and {d for d, _ in planted} == {"Youwarou", "Commune V"}
    for key, value in ratio.items():
        if key in planted:
            assert value == pytest.approx(planted[key], abs=1e-4)
            assert not 0.5 <= value <= 1.9
        else:
            assert 0.85 <= value <= 1.1
    assert {(e["district"], e["year"]) for e in truth["dq_external"]} == {
        k for k in planted if k[1] in truth["surveys"]["rounds"]
    }


def test_config_for_raw_reroots_inputs_and_truth_file(tmp_path: Path) -> None:
    # A national run reads everything, the planted effects included, from its own folder.
    repo = Path(__file__).resolve().parents[2]
    cfg = config_for_raw(load_config(repo / "config" / "config.yaml"), tmp_path)
    assert cfg["did"]["truth_file"] == str(tmp_path / "truth.json")
    assert cfg["inputs"]["facilities"].startswith(str(tmp_path))
