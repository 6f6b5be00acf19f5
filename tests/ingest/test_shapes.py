"""Must-read shapes: each real-world shape of a demo input, made from the demo data by
tests/demo_variants.py, gives the same canonical table as the demo's own shape."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import demo_variants as dv
import pandas as pd
import pandas.testing as pdt
import pytest

from sahel_eval import cli, ingest
from sahel_eval.clean.facility_month import CleanSettings, clean_facility_data
from sahel_eval.clean.panels import build_panel
from sahel_eval.clean.schemas import facility_month_schema
from sahel_eval.config import validate_config
from sahel_eval.errors import InputError
from sahel_eval.ingest.period_types import check_monthly_uses, monthly_uses
from sahel_eval.io.columns import normalise_header
from sahel_eval.io.dhis2_shapes import detect_shape, to_datavalues
from sahel_eval.io.values import parse_period


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("mini")
    return validate_config(dv.build_mini_demo(root))


@pytest.fixture
def shapes(tmp_path: Path) -> Path:
    return tmp_path


def facility_values(config: dict) -> pd.DataFrame:
    """The canonical ``facility_month`` values the config's DHIS2 export gives."""
    clean = clean_facility_data(
        ingest.ingest_dhis2_datavalues(config),
        ingest.ingest_dhis2_completeness(config),
        ingest.ingest_facilities(config),
        CleanSettings.from_config(config),
        orgunit_mapping=config["inputs"]["orgunit_mapping"],
    )
    cols = ["facility_id", "period", "indicator", "value", "reported"]
    fm = clean.facility_month[cols]
    return fm.sort_values(cols[:3], kind="mergesort").reset_index(drop=True)


@pytest.fixture(scope="module")
def demo_values(mini: dict) -> pd.DataFrame:
    return facility_values(mini)


@pytest.mark.parametrize(
    ("shape", "build"),
    [
        ("analytics", dv.analytics_uids),
        ("analytics", dv.analytics_names),
        ("pivot", dv.pivot_table),
    ],
    ids=["analytics_uids", "analytics_names", "pivot_periods_as_columns"],
)
def test_dhis2_shapes_give_the_demo_facility_month(
    mini: dict, demo_values: pd.DataFrame, shapes: Path, shape: str, build, caplog
) -> None:
    config = validate_config(build(copy.deepcopy(mini), shapes / f"{shape}.csv"))
    with caplog.at_level(logging.INFO):
        got = facility_values(config)
    if config["dhis2"]["format"] == "auto":
        assert f"detected DHIS2 {shape} export" in caplog.text
    assert len(got) == len(demo_values) > 1000
    pdt.assert_frame_equal(got, demo_values)


def test_analytics_with_data_element_totals_needs_the_default_combo(
    mini: dict, shapes: Path
) -> None:
    config = validate_config(dv.analytics_uids(copy.deepcopy(mini), shapes / "a.csv"))
    frame = pd.read_csv(shapes / "a.csv", dtype=str)
    frame["dx"] = frame["dx"].str.split(".").str[0]
    frame.drop_duplicates(["dx", "pe", "ou"]).to_csv(shapes / "a.csv", index=False)
    with pytest.raises(InputError) as info:
        ingest.ingest_dhis2_datavalues(config)
    assert "categoryoptioncombo" in str(info.value)
    assert "known_category_option_combo" in str(info.value)


@pytest.mark.parametrize("form", ["2014-01", "Janvier 2014", "janv. 2014", "January 2014"])
def test_period_forms_read_as_yyyymm(mini: dict, shapes: Path, form: str) -> None:
    frame = dv.resolved_datavalues(mini["inputs"]["dhis2_datavalues"])
    frame["period"] = frame["period"].where(frame["period"] != "201401", form)
    out = dv.write_gz(shapes / "dv.csv.gz", frame.to_csv(index=False))
    config = copy.deepcopy(mini)
    config["inputs"]["dhis2_datavalues"] = str(out)
    got = ingest.ingest_dhis2_datavalues(config)
    assert (got["period"] == "201401").sum() == (frame["period"] == form).sum() > 0
    assert got["period"].str.fullmatch(r"\d{6}").all()


PENTA1 = "KbDCvLoNVhR"  # Penta1: read monthly only by the Penta1 -> Penta3 drop-out


def quarterly_penta1(mini: dict, path: Path) -> tuple[dict, pd.DataFrame]:
    """The demo export with Penta1 reported by quarter (Q1 named as DHIS2 names it)."""
    frame = dv.resolved_datavalues(mini["inputs"]["dhis2_datavalues"])
    is_q = frame["dataelement"] == PENTA1
    q = frame[is_q].copy()
    month = q["period"].str[4:].astype(int)
    q["period"] = q["period"].str[:4] + "Q" + ((month + 2) // 3).astype(str)
    q["value"] = pd.to_numeric(q["value"])
    keys = ["dataelement", "period", "orgunit", "categoryoptioncombo", "attributeoptioncombo"]
    q = q.groupby(keys, as_index=False).agg({"value": "sum", "lastupdated": "max"})
    q["value"] = q["value"].astype(int).astype(str)
    q["period"] = q["period"].str.replace(r"^(\d{4})Q1$", r"Janvier - Mars \1", regex=True)
    out = dv.write_gz(path, pd.concat([frame[~is_q], q]).to_csv(index=False))
    config = copy.deepcopy(mini)
    config["inputs"]["dhis2_datavalues"] = str(out)
    return config, q


def without_penta_dropout(config: dict) -> dict:
    """The config edits a quarterly Penta1 needs: its one monthly use, the drop-out
    ratio, removed from the ratios, the facility analyses and their effect sizes."""
    new = copy.deepcopy(config)
    del new["quality_of_care"]["ratios"]["penta_dropout"]
    new["did"]["outcomes"].pop("penta_dropout", None)
    for spec in new["analyses"]:
        spec["outcomes"] = [o for o in spec["outcomes"] if o != "penta_dropout"]
    return new


def test_quarterly_element_is_kept_quarterly_beside_the_monthly_ones(
    mini: dict, demo_values: pd.DataFrame, shapes: Path, capsys
) -> None:
    """Config edits only: the quarterly export and Penta1's monthly use removed pass
    ``make check``; cleaning keeps Penta1 quarterly and the panel (with its
    quality-of-care ratios) monthly."""
    config, q = quarterly_penta1(mini, shapes / "dv.csv.gz")
    config = without_penta_dropout(config)
    path = dv.write_config(config, shapes / "config.yaml")
    assert cli.main(["check", "--config", str(path)]) == 0, capsys.readouterr().err
    config = validate_config(config)
    clean = clean_facility_data(
        ingest.ingest_dhis2_datavalues(config),
        ingest.ingest_dhis2_completeness(config),
        ingest.ingest_facilities(config),
        CleanSettings.from_config(config),
        orgunit_mapping=config["inputs"]["orgunit_mapping"],
    )
    fm = clean.facility_month
    facility_month_schema(list(config["dhis2"]["indicators"])).validate(fm)
    penta1 = fm[fm["indicator"] == "penta1"]
    assert (penta1["period_type"] == "quarter").all() and len(penta1) > 0
    assert penta1["period"].str.fullmatch(r"\d{4}Q[1-4]").all()
    # Never split into months: the quarter totals as sent (org units matched).
    assert penta1["value"].sum() == pd.to_numeric(q["value"]).sum()
    assert penta1["value_clean"].equals(penta1["value"])
    # The monthly indicators are exactly the demo's.
    monthly = fm[fm["indicator"] != "penta1"]
    assert (monthly["period_type"] == "month").all()
    cols = ["facility_id", "period", "indicator", "value", "reported"]
    pdt.assert_frame_equal(
        monthly[cols].reset_index(drop=True),
        demo_values[demo_values["indicator"] != "penta1"].reset_index(drop=True),
    )
    panel = build_panel(
        fm,
        ingest.ingest_facilities(config),
        ingest.ingest_population(config),
        ingest.ingest_programmes(config),
        districts=config["areas"]["mopti"]["districts"],
        programme=None,
        indicators=list(config["dhis2"]["indicators"]),
        quality=config["quality_of_care"],
    )
    assert "penta1" not in panel.columns and "penta3" in panel.columns
    assert "penta_dropout" not in panel.columns
    assert {"anc_retention", "delivery_coverage"} <= set(panel.columns)
    assert panel["anc_retention"].notna().any()


def test_quarterly_element_with_its_monthly_use_is_refused_by_check(
    mini: dict, shapes: Path, capsys
) -> None:
    """The quarterly export alone (the drop-out ratio still analysed): ``check`` names
    every monthly use once, the analyses with the outcome that reads Penta1."""
    config, _ = quarterly_penta1(mini, shapes / "dv.csv.gz")
    path = dv.write_config(config, shapes / "config.yaml")
    assert cli.main(["check", "--config", str(path)]) == cli.EXIT_INPUT_ERROR
    err = capsys.readouterr().err
    assert "'monthly_analysis'" in err and "indicator 'penta1'" in err
    assert "the config analyses it by month (step: check)" in err
    uses = err.split("(step: check): ", 1)[1].splitlines()[0].split("; ")
    assert uses == [
        "analyses[0].outcomes (mopti_staggered): penta_dropout",
        "analyses[1].outcomes (bamako_event_study): penta_dropout",
        "quality_of_care.ratios.penta_dropout",
    ]


def test_monthly_analysis_of_a_quarterly_element_is_refused(mini: dict, shapes: Path) -> None:
    config, _ = quarterly_penta1(mini, shapes / "dv.csv.gz")
    config["analyses"][0]["outcomes"].append("penta1")
    config["dq"]["outliers"]["seasonal_indicators"].append("penta1")
    values = ingest.ingest_dhis2_datavalues(config)
    with pytest.raises(InputError) as info:
        check_monthly_uses(config, monthly_uses(config), values, "dv.csv.gz", rule="check")
    message = str(info.value)
    assert "dv.csv.gz" in message and "'monthly_analysis'" in message and "'penta1'" in message
    assert "analyses[0].outcomes (mopti_staggered): penta_dropout, penta1" in message
    assert "dq.outliers.seasonal_indicators" in message
    assert f"{PENTA1} 2014Q1" in message  # an example row: element and quarter shown
    # The cleaning rule refuses its own monthly use (seasonal outliers) the same way.
    with pytest.raises(InputError) as info:
        clean_facility_data(
            values,
            ingest.ingest_dhis2_completeness(config),
            ingest.ingest_facilities(config),
            CleanSettings.from_config(config),
            datavalues_source="dv.csv.gz",
        )
    message = str(info.value)
    assert "'monthly_analysis'" in message
    assert "(step: clean_facility_data): dq.outliers.seasonal_indicators" in message


def test_indicator_with_monthly_and_quarterly_rows_is_refused(mini: dict, shapes: Path) -> None:
    frame = dv.resolved_datavalues(mini["inputs"]["dhis2_datavalues"])
    frame.loc[frame.index[:3], "period"] = "2014Q1"
    out = dv.write_gz(shapes / "dv.csv.gz", frame.to_csv(index=False))
    config = copy.deepcopy(mini)
    config["inputs"]["dhis2_datavalues"] = str(out)
    with pytest.raises(InputError) as info:
        ingest.ingest_dhis2_datavalues(config)
    message = str(info.value)
    assert "'one_period_type'" in message and "2014Q1" in message


@pytest.mark.parametrize(
    ("key", "bom"), [("facilities", False), ("events", False), ("population", True)]
)
def test_french_excel_csv_reads_as_the_demo(mini: dict, shapes: Path, key: str, bom: bool) -> None:
    config = dv.french_excel_csv(copy.deepcopy(mini), key, shapes / f"{key}.csv", bom=bom)
    raw = (shapes / f"{key}.csv").read_bytes()
    assert b";" in raw and b"\r\n" in raw and raw.startswith(b"\xef\xbb\xbf") == bom
    reader = getattr(ingest, f"ingest_{key}")
    pdt.assert_frame_equal(reader(config), reader(mini))


def test_cp1252_keeps_accents(mini: dict, shapes: Path) -> None:
    config = dv.french_excel_csv(copy.deepcopy(mini), "facilities", shapes / "f.csv", bom=False)
    got = ingest.ingest_facilities(config)
    assert (got["district"] == "Djenné").sum() > 0
    with pytest.raises(UnicodeDecodeError):
        (shapes / "f.csv").read_bytes().decode("utf-8")


@pytest.mark.parametrize(("key", "cols"), [("facilities", ["opened"]), ("events", ["event_date"])])
def test_french_dates_read_as_the_demo(mini: dict, shapes: Path, key: str, cols: list) -> None:
    config = dv.french_dates(copy.deepcopy(mini), key, cols, shapes / f"{key}.csv")
    text = (shapes / f"{key}.csv").read_text("utf-8")
    assert "/" in text and any(m.lower() in text for m in dv.FRENCH_MONTHS)
    reader = getattr(ingest, f"ingest_{key}")
    pdt.assert_frame_equal(reader(config), reader(mini))


def test_thousands_separators(mini: dict, shapes: Path) -> None:
    config = dv.thousands(copy.deepcopy(mini), shapes / "population.csv")
    assert "\u00a0" in (shapes / "population.csv").read_text("utf-8")
    pdt.assert_frame_equal(ingest.ingest_population(config), ingest.ingest_population(mini))


def _mutuals(config: dict, registers: slice) -> pd.DataFrame:
    config = {**config, "inputs": {**config["inputs"], "mutuals": config["inputs"]["mutuals"]}}
    config["inputs"]["mutuals"] = config["inputs"]["mutuals"][registers]
    return ingest.ingest_mutuals(config).drop(columns="source_file")


@pytest.mark.parametrize(
    ("header_row", "registers"),
    [(None, slice(None)), (4, slice(1))],
    ids=["detected_mixed_pair", "configured_titled_only"],
)
def test_xlsx_register_with_title_block(
    mini: dict, shapes: Path, header_row, registers: slice, caplog
) -> None:
    """The CSV register as an XLSX with a title block: read as the demo's. Detection
    reads it beside the demo's untitled XLSX register (the mixed pair); a configured
    header row holds for every XLSX register, so that case keeps the titled one."""
    config = validate_config(
        dv.register_with_title(copy.deepcopy(mini), shapes / "reg.xlsx", header_row=header_row)
    )
    assert [Path(p).suffix for p in config["inputs"]["mutuals"]] == [".xlsx", ".xlsx"]
    with caplog.at_level(logging.INFO):
        got = _mutuals(config, registers)
    if header_row is None:
        assert "reg.xlsx: header found on row 4" in caplog.text
        assert got["mutual"].nunique() == 2
    want = _mutuals(mini, registers)
    pdt.assert_frame_equal(got, want, check_like=True)


def test_configured_header_row_that_misses_a_register_names_the_key(
    mini: dict, shapes: Path
) -> None:
    """``mutuals.header_row: 4`` fits the titled register, not the untitled one: the
    error names the key, the file and the row its headers are on, not every column."""
    config = validate_config(
        dv.register_with_title(copy.deepcopy(mini), shapes / "reg.xlsx", header_row=4)
    )
    with pytest.raises(InputError) as info:
        ingest.ingest_mutuals(config)
    error = info.value
    assert error.file.endswith("mutuelle_artisans_commercants.xlsx")
    assert (error.column, error.rule) == ("mutuals.header_row", "header_row")
    message = str(error)
    assert "row 4 of the sheet holds none" in message and "headers are on row 1" in message
    assert "set it to null" in message and "required_column" not in message


def test_upper_case_dhs_names(mini: dict, shapes: Path) -> None:
    config = dv.upper_case_dhs(copy.deepcopy(mini), shapes / "MLIR2015.dta")
    got, _ = ingest.ingest_survey(config, year=2015, unit="women")
    want, _ = ingest.ingest_survey(mini, year=2015, unit="women")
    assert "v481" in got.columns
    pdt.assert_frame_equal(got, want)


def test_absent_configured_survey_variable_is_named(mini: dict) -> None:
    config = copy.deepcopy(mini)
    config["survey"]["variables"]["women"]["outcomes"].append("v999")
    with pytest.raises(InputError) as info:
        ingest.ingest_survey(config, year=2015, unit="women")
    message = str(info.value)
    assert "MLIR2015.dta" in message and "'v999'" in message and "required_column" in message


def test_pivot_with_quarters_as_columns(shapes: Path) -> None:
    """Issue 16: a pivot table whose columns are quarters, as DHIS2 names them
    ("Janvier - Mars 2018") or as codes (2018Q2), is read with those quarters; a range
    of months that is not a calendar quarter is not a period column."""
    raw = pd.DataFrame(
        {
            "Data": ["KbDCvLoNVhR.HllvX50cXC0"],
            "Organisation unit": ["Abcdefghij1"],
            "Janvier - Mars 2018": ["12"],
            "2018Q2": ["7"],
            "Février - Avril 2018": ["3"],
        }
    )
    raw.columns = [normalise_header(c) for c in raw.columns]
    assert detect_shape(raw, shapes / "pivot.csv") == "pivot"
    long = to_datavalues(raw, shapes / "pivot.csv", "pivot", {})
    parsed = sorted(parse_period(p) for p in long["period"])
    assert parsed == [("2018Q1", "quarter"), ("2018Q2", "quarter")]
    assert sorted(long["value"]) == ["12", "7"]
