"""clean_facility_data and build_panel end to end on a hand-made export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sahel_eval.clean.dq import DQ_TABLES, dq_tables
from sahel_eval.clean.facility_month import (
    FACILITY_MONTH_COLUMNS,
    CleanSettings,
    clean_facility_data,
)
from sahel_eval.clean.panels import build_panel
from sahel_eval.clean.periods import period_range
from sahel_eval.clean.schemas import facility_month_schema, panel_schema
from sahel_eval.errors import InputError

F1, F2 = "Abcdefghij1", "Bcdefghijk2"
INDICATORS = {
    "anc1": [{"data_element": "DeCpn100001", "category_option_combo": "HllvX50cXC0"}],
    "penta1": [{"data_element": "DePenta0001", "category_option_combo": "HllvX50cXC0"}],
}
SETTINGS = CleanSettings(indicators=INDICATORS, seasonal_indicators=())
FAC = pd.DataFrame(
    {
        "orgunit_uid": pd.Series([F1, F2], dtype="str"),
        "orgunit_name": pd.Series(["CSCOM de Sévaré II", "CSCOM de Boni"], dtype="str"),
        "region": "Mopti",
        "district": pd.Series(["Mopti", "Douentza"], dtype="str"),
        "commune": pd.Series(["Sévaré", "Boni"], dtype="str"),
        "opened": pd.to_datetime(["2000-01-01", "2020-03-05"]),
        "closed": pd.to_datetime([None, None]),
    }
)
PERIODS = period_range("202001", "202012")


def export() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, regs = [], []
    for i, p in enumerate(PERIODS):
        if p == "202006":  # F1 does not report in June but keys zeros
            rows.append((F1, p, "DeCpn100001", 0.0, "2020-07-20"))
            continue
        org = "ASACO SEVARE 2" if p < "202003" else F1
        rows.append((org, p, "DeCpn100001", 20.0 + i % 3, f"{p[:4]}-{p[4:]}-28"))
        rows.append((org, p, "DePenta0001", 18.0, f"{p[:4]}-{p[4:]}-28"))
        regs.append((org, p, pd.Timestamp(f"{p[:4]}-{p[4:]}-28") + pd.Timedelta(days=10)))
    rows.append((F1, "202011", "DeCpn100001", 230.0, "2020-11-28"))  # ×10 correction...
    rows.append((F1, "202011", "DeCpn100001", 230.0, "2020-11-28"))  # ...exported twice
    rows.append((F2, "202001", "DeCpn100001", 5.0, "2020-02-01"))  # before F2 opened
    dv = pd.DataFrame(
        rows, columns=["orgunit", "period", "dataelement", "value", "lastupdated"]
    ).astype({"orgunit": "str", "period": "str", "dataelement": "str"})
    dv.insert(3, "categoryoptioncombo", "HllvX50cXC0")
    dv.insert(4, "attributeoptioncombo", "HllvX50cXC0")
    dv["lastupdated"] = pd.to_datetime(dv["lastupdated"])
    reg = pd.DataFrame(regs, columns=["orgunit", "period", "date"]).astype({"orgunit": "str"})
    reg["completed"] = True
    return dv, reg


def test_facility_month_table() -> None:
    dv, reg = export()
    out = clean_facility_data(dv, reg, FAC, SETTINGS)
    fm = out.facility_month
    assert tuple(fm.columns) == FACILITY_MONTH_COLUMNS
    facility_month_schema(list(INDICATORS)).validate(fm)
    # F1: 12 months, F2: March–December; two indicators each.
    assert len(fm) == 2 * (12 + 10)
    f1 = fm[fm["facility_id"] == F1].set_index(["period", "indicator"])
    assert f1.loc[("202006", "anc1"), "keyed_zero"]
    assert np.isnan(f1.loc[("202006", "anc1"), "value_clean"])
    assert f1.loc[("202006", "anc1"), "value"] == 0
    assert not f1.loc[("202006", "penta1"), "reported"]
    assert f1.loc[("202011", "anc1"), "duplicate_resolved"]
    assert f1.loc[("202011", "anc1"), "value"] == 230
    assert f1.loc[("202011", "anc1"), "outlier"]
    assert f1["outlier"].sum() == 1
    f2 = fm[fm["facility_id"] == F2]
    assert f2["value"].isna().all() and not f2["reported"].any()
    assert out.values_outside_open_period["period"].tolist() == ["202001"]
    names = out.orgunit_matches.set_index(["source", "name_in_export"])
    assert names.loc[("datavalues", "ASACO SEVARE 2"), "method"] == "name"
    assert names.loc[("completeness", "ASACO SEVARE 2"), "orgunit_uid"] == F1

    tables = dq_tables(out, FAC, pd.DataFrame(columns=["programme", "unit_level", "unit_id"]))
    assert tuple(tables) == DQ_TABLES
    comp = tables["completeness_facility"].set_index("facility_id")
    assert comp.loc[F1, "completeness"] == pytest.approx(11 / 12)
    assert comp.loc[F2, "inactive"]


def test_treatment_set_missing() -> None:
    dv, reg = export()
    settings = CleanSettings(indicators=INDICATORS, seasonal_indicators=(), treatment="set_missing")
    fm = clean_facility_data(dv, reg, FAC, settings).facility_month
    row = fm[fm["outlier"]].iloc[0]
    assert row["set_missing"] and np.isnan(row["value_clean"]) and row["value"] == 230


def test_bad_inputs_raise_input_errors(tmp_path) -> None:
    dv, reg = export()
    bad = dv.copy()
    bad.loc[3, "orgunit"] = "CSCOM de Nulle Part"
    with pytest.raises(InputError) as exc:
        clean_facility_data(bad, reg, FAC, SETTINGS, datavalues_source="dv.csv.gz")
    assert exc.value.file == "dv.csv.gz" and "Nulle Part" in exc.value.message
    mapping = tmp_path / "map.csv"
    mapping.write_text(f"name_in_export,orgunit_uid\nCSCOM de Nulle Part,{F2}\n", encoding="utf-8")
    fm = clean_facility_data(bad, reg, FAC, SETTINGS, orgunit_mapping=mapping).facility_month
    assert len(fm) == 44
    bad = dv.copy()
    bad["period"] = bad["period"].astype(object)
    bad.loc[5, "period"] = "2020-03"
    with pytest.raises(InputError) as exc:
        clean_facility_data(bad, reg, FAC, SETTINGS)
    assert exc.value.rule == "period_format" and exc.value.problems[0].rows == ("7",)
    bad = dv.copy()
    bad["value"] = bad["value"].astype(object)
    bad.loc[2, "value"] = "douze"
    with pytest.raises(InputError) as exc:
        clean_facility_data(bad, reg, FAC, SETTINGS)
    assert exc.value.rule == "numeric" and "douze" in exc.value.message


def test_panel() -> None:
    dv, reg = export()
    fm = clean_facility_data(dv, reg, FAC, SETTINGS).facility_month
    pop = pd.DataFrame({"orgunit_uid": [F1, F2], "year": [2020, 2020], "population": [10000, 0]})
    prog = pd.DataFrame(
        {
            "programme": ["I3S"],
            "unit_level": ["facility"],
            "unit_id": [F1],
            "start": pd.to_datetime(["2020-04-15"]),
            "end": pd.to_datetime(["2020-09-30"]),
        }
    )
    panel = build_panel(
        fm,
        FAC,
        pop,
        prog,
        districts=["Mopti", "Douentza"],
        programme="I3S",
        first_period="201901",
    )
    panel_schema(["anc1", "penta1"]).validate(panel)
    p1 = panel[panel["facility_id"] == F1].set_index("month")
    assert p1["t"].iloc[0] == 13  # January 2020, with t = 1 in January 2019
    assert (p1["group"] == 16).all() and (p1["end_t"] == 21).all()
    assert p1.loc["202001", "anc1_per_1000"] == pytest.approx(p1.loc["202001", "anc1"] / 10)
    assert not p1.loc["202006", "reported"] and np.isnan(p1.loc["202006", "anc1"])
    p2 = panel[panel["facility_id"] == F2]
    assert (p2["group"] == 0).all() and (p2["end_t"] == 0).all() and p2["t"].iloc[0] == 15
    assert p2["anc1_per_1000"].isna().all()  # population 0: no rate


def test_dq_tables_are_deterministic() -> None:
    dv, reg = export()
    prog = pd.DataFrame(columns=["programme", "unit_level", "unit_id"])
    first = dq_tables(clean_facility_data(dv, reg, FAC, SETTINGS), FAC, prog)
    # Row order of the export must not change any table (ties aside, none here).
    shuffled = dv.sample(frac=1.0, random_state=3)
    second = dq_tables(clean_facility_data(shuffled, reg, FAC, SETTINGS), FAC, prog)
    for name in first:
        assert first[name].to_csv(index=False) == second[name].to_csv(index=False), name
