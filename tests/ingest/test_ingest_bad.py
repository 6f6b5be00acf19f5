"""Bad input: one InputError naming file, column and rule; no identifier; no output."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pyreadstat
import pytest

from sahel_eval import ingest
from sahel_eval.errors import InputError
from sahel_eval.io.parquet import atomic_paths, write_parquet

# Values of the fixtures in conftest.py (importlib mode cannot import it; builders come
# through the `fx` fixture).
FAC = ["Abcdefghij1", "Bcdefghijk2", "Cdefghijkl3"]
DE_CPN1, COC_DEFAULT = "DeCpn100001", "HllvX50cXC0"


def run_kind(config: dict, kind: str, out_dir: Path) -> None:
    """Run one ingest with outputs under ``out_dir``."""
    if kind == "survey_hr":
        ingest.ingest_survey(
            config,
            year=2015,
            unit="households",
            out=out_dir / "hr.parquet",
            labels_out=out_dir / "hr.json",
        )
    elif kind == "survey_ir":
        ingest.ingest_survey(
            config,
            year=2018,
            unit="women",
            out=out_dir / "ir.parquet",
            labels_out=out_dir / "ir.json",
        )
    elif kind == "survey_kr":
        ingest.ingest_survey(
            config,
            year=2021,
            unit="children",
            out=out_dir / "kr.parquet",
            labels_out=out_dir / "kr.json",
        )
    elif kind == "mutuals":
        ingest.ingest_mutuals(config, out=out_dir / "mutuals.parquet")
    elif kind == "population":
        ingest.ingest_population(config, out=out_dir / "x.parquet", facility_ids=FAC)
    elif kind == "programmes":
        ingest.ingest_programmes(config, out=out_dir / "x.parquet", facility_ids=FAC)
    else:
        getattr(ingest, f"ingest_{kind}")(config, out=out_dir / "x.parquet")


def csv_edit(key: str, old: str, new: str) -> Callable[[dict], None]:
    def edit(raw: dict, fx: ModuleType) -> None:
        path = Path(raw[key])
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def dv_edit(old: str, new: str) -> Callable[[dict], None]:
    def edit(raw: dict, fx: ModuleType) -> None:
        assert old in fx.DATAVALUES, old
        fx.write_gz(Path(raw["dhis2_datavalues"]), fx.DATAVALUES.replace(old, new, 1))

    return edit


def delete(key: str) -> Callable[[dict], None]:
    return lambda raw, fx: Path(raw[key]).unlink()


def garbage(key: str, data: bytes) -> Callable[[dict], None]:
    return lambda raw, fx: Path(raw[key]).write_bytes(data)


def truncated_gzip(raw: dict, fx: ModuleType) -> None:
    path = Path(raw["dhis2_datavalues"])
    path.write_bytes(path.read_bytes()[:40])


def household(**changes: Any) -> Callable[[dict], None]:
    def edit(raw: dict, fx: ModuleType) -> None:
        frame = fx.household_frame()
        for col, value in changes.items():
            if value is None:
                frame = frame.drop(columns=[col])
            else:
                frame[col] = value
        Path(raw["hr2015"]).unlink()
        fx.write_dta(frame, Path(raw["hr2015"]), 114, {})

    return edit


def women(**changes: Any) -> Callable[[dict], None]:
    def edit(raw: dict, fx: ModuleType) -> None:
        frame = fx.women_frame()
        for col, value in changes.items():
            frame[col] = value
        pyreadstat.write_sav(frame, str(raw["ir2018"]))

    return edit


def children_without(col: str) -> Callable[[dict], None]:
    def edit(raw: dict, fx: ModuleType) -> None:
        Path(raw["kr2021"]).unlink()
        fx.write_dta(fx.children_frame().drop(columns=[col]), Path(raw["kr2021"]), 118, {})

    return edit


def mutual_xlsx_negative(raw: dict, fx: ModuleType) -> None:
    frame = pd.read_csv(io.StringIO(fx.MUTUAL_CSV)).assign(mutuelle="Mutuelle de Mopti")
    frame.loc[1, "cotisations_percues"] = -5
    frame.to_excel(raw["mutual_xlsx"], index=False, engine="openpyxl")


# (case id, kind, edit, file key, column or None, rule)
CASES = [
    ("missing_file", "facilities", delete("facilities"), "facilities", None, "file_exists"),
    ("missing_survey_file", "survey_ir", delete("ir2018"), "ir2018", None, "file_exists"),
    ("truncated_gzip", "dhis2_datavalues", truncated_gzip, "dhis2_datavalues", None, "readable"),
    (
        "garbage_gzip",
        "dhis2_datavalues",
        garbage("dhis2_datavalues", b"\x1f\x8b\x08garbage"),
        "dhis2_datavalues",
        None,
        "readable",
    ),
    (
        "garbage_dta",
        "survey_kr",
        garbage("kr2021", b"<stata_dta><header>garbage\x00\xff"),
        "kr2021",
        None,
        "readable",
    ),
    (
        "garbage_xlsx",
        "mutuals",
        garbage("mutual_xlsx", b"PK\x03\x04 not a workbook"),
        "mutual_xlsx",
        None,
        "readable",
    ),
    (
        "missing_column",
        "population",
        csv_edit("population", "orgunit_uid,year,population", "orgunit_uid,year"),
        "population",
        "population",
        "required_column",
    ),
    (
        "misspelled_column",
        "facilities",
        csv_edit("facilities", ",district,", ",distrcit,"),
        "facilities",
        "district",
        "required_column",
    ),
    (
        "non_numeric_value",
        "dhis2_datavalues",
        dv_edit(",15,awa.sangare", ",l5,awa.sangare"),
        "dhis2_datavalues",
        "value",
        "numeric",
    ),
    (
        "non_numeric_population",
        "population",
        csv_edit("population", ",12000", ",douze mille"),
        "population",
        "population",
        "integer",
    ),
    (
        "bad_date",
        "facilities",
        csv_edit("facilities", "2005-01-01", "2005-13-01"),
        "facilities",
        "opened",
        "date_format",
    ),
    (
        "unknown_data_element",
        "dhis2_datavalues",
        dv_edit(f"{DE_CPN1},202002", "Xunknown001,202002"),
        "dhis2_datavalues",
        "dataelement",
        "known_data_element",
    ),
    (
        "unknown_category_combo",
        "dhis2_datavalues",
        dv_edit(
            f"{DE_CPN1},202001,{FAC[0]},{COC_DEFAULT}", f"{DE_CPN1},202001,{FAC[0]},Xcoc0000001"
        ),
        "dhis2_datavalues",
        "categoryoptioncombo",
        "known_category_option_combo",
    ),
    (
        "unknown_district",
        "facilities",
        csv_edit("facilities", "Mopti,Bandiagara,", "Mopti,Bandiagra,"),
        "facilities",
        "district",
        "known_district",
    ),
    (
        "district_in_wrong_region",
        "facilities",
        csv_edit("facilities", "Mopti,Bandiagara,", "Bamako,Bandiagara,"),
        "facilities",
        "district",
        "district_in_region",
    ),
    (
        "period_not_a_month",
        "dhis2_datavalues",
        dv_edit(",202002,", ",2020-W06,"),
        "dhis2_datavalues",
        "period",
        "period_format",
    ),
    (
        "period_month_13",
        "dhis2_completeness",
        csv_edit("dhis2_completeness", ",202002,", ",202013,"),
        "dhis2_completeness",
        "period",
        "period_format",
    ),
    (
        "duplicate_master_key",
        "facilities",
        csv_edit("facilities", FAC[1], FAC[0]),
        "facilities",
        "orgunit_uid",
        "unique_key",
    ),
    (
        "duplicate_population_key",
        "population",
        csv_edit("population", f"{FAC[0]},2021", f"{FAC[0]},2020"),
        "population",
        "orgunit_uid",
        "unique_key",
    ),
    (
        "negative_population",
        "population",
        csv_edit("population", ",9000", ",-9000"),
        "population",
        "population",
        "non_negative",
    ),
    (
        "negative_count",
        "dhis2_datavalues",
        dv_edit(",80,moussa.keita", ",-80,moussa.keita"),
        "dhis2_datavalues",
        "value",
        "non_negative",
    ),
    (
        "unknown_facility_in_population",
        "population",
        csv_edit("population", f"{FAC[2]},2020", "Zzzzzzzzzz9,2020"),
        "population",
        "orgunit_uid",
        "known_facility",
    ),
    (
        "unknown_programme",
        "programmes",
        csv_edit("programmes", "Djantoli,", "Djantolli,"),
        "programmes",
        "programme",
        "known_programme",
    ),
    (
        "end_before_start",
        "programmes",
        csv_edit("programmes", "2020-02-01,2021-10-31", "2021-11-01,2021-10-31"),
        "programmes",
        "end",
        "end_after_start",
    ),
    (
        "unknown_commune_unit",
        "programmes",
        csv_edit("programmes", ",Commune III,", ",Commune 3,"),
        "programmes",
        "unit_id",
        "known_district",
    ),
    (
        "weight_zero",
        "survey_hr",
        household(hv005=[1_200_000, 0, 1_000_000]),
        "hr2015",
        "hv005",
        "weight_positive",
    ),
    (
        "weight_negative_sav",
        "survey_ir",
        women(v005=[-1.0, 900_000.0, 1_000_000.0]),
        "ir2018",
        "v005",
        "weight_positive",
    ),
    ("round_without_psu", "survey_hr", household(hv021=None), "hr2015", "hv021", "psu_present"),
    (
        "psu_missing_values",
        "survey_ir",
        women(v021=[1.0, float("nan"), 2.0]),
        "ir2018",
        "v021",
        "psu_present",
    ),
    ("missing_outcome", "survey_kr", children_without("h22"), "kr2021", "h22", "required_column"),
    (
        "negative_mutual_amount",
        "mutuals",
        mutual_xlsx_negative,
        "mutual_xlsx",
        "cotisations_percues",
        "non_negative",
    ),
    (
        "misspelled_mutual_header",
        "mutuals",
        csv_edit("mutual_csv", "cotisations_percues", "cotisations_percus"),
        "mutual_csv",
        "cotisations_percues",
        "required_column",
    ),
]


@pytest.mark.parametrize(
    ("case", "kind", "edit", "key", "column", "rule"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input(
    raw: dict,
    config: dict,
    fx: ModuleType,
    tmp_path: Path,
    identifiers: list[str],
    case: str,
    kind: str,
    edit: Callable,
    key: str,
    column: str | None,
    rule: str,
) -> None:
    edit(raw, fx)
    out_dir = tmp_path / "interim"
    with pytest.raises(InputError) as info:
        run_kind(config, kind, out_dir)
    error = info.value
    message = str(error)
    assert Path(raw[key]).name in message
    assert f"'{rule}'" in message
    assert any(p.rule == rule for p in error.problems)
    if column is not None:
        assert f"column '{column}'" in message
        assert any(p.column == column and p.rule == rule for p in error.problems)
    for value in identifiers:
        assert value not in message
    assert "what to do:" in message
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_misspelled_column_suggests_closest(raw: dict, config: dict, fx: ModuleType) -> None:
    csv_edit("facilities", ",district,", ",distrcit,")(raw, fx)
    with pytest.raises(InputError, match="did you mean 'distrcit'"):
        ingest.ingest_facilities(config)


def test_row_numbers_are_file_lines(raw: dict, config: dict, fx: ModuleType) -> None:
    csv_edit("population", ",9000", ",-9000")(raw, fx)
    with pytest.raises(InputError) as info:
        ingest.ingest_population(config)
    # Header is line 1; the -9000 row is the fourth data row.
    assert "line 4 (-9000)" in str(info.value)


def test_values_of_identifier_columns_are_masked(raw: dict, config: dict, fx: ModuleType) -> None:
    # A non-numeric design variable in a row full of identifiers: the message shows the
    # row and the bad design value, never the name or the phone.
    household(hv022=["strate A", "3", "4"])(raw, fx)
    with pytest.raises(InputError) as info:
        ingest.ingest_survey(config, year=2015, unit="households")
    message = str(info.value)
    assert "observation 1" in message and "hv022" in message
    assert "Aminata" not in message and "+223" not in message


def test_missing_salt_on_real_data(config: dict, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SAHEL_EVAL_SALT", raising=False)
    config["synthetic"] = False
    with pytest.raises(InputError, match="salt_set"):
        ingest.ingest_survey(
            config,
            year=2018,
            unit="women",
            out=tmp_path / "w.parquet",
            labels_out=tmp_path / "w.json",
        )
    assert not any(tmp_path.glob("w.*"))


def test_unmapped_data_element_can_be_dropped(raw: dict, config: dict, fx: ModuleType) -> None:
    dv_edit(f"{DE_CPN1},202002", "Xunknown001,202002")(raw, fx)
    config["dhis2"]["unmapped_data_elements"] = "drop"
    frame = ingest.ingest_dhis2_datavalues(config)
    assert "Xunknown001" not in set(frame["dataelement"])


def test_placeholder_uid_in_config_is_caught(config: dict) -> None:
    config["dhis2"]["indicators"]["anc4"] = [
        {"data_element": "PHLDRcpn004", "category_option_combo": COC_DEFAULT}
    ]
    with pytest.raises(InputError, match="mapped_data_element_present.*PHLDRcpn004"):
        ingest.ingest_dhis2_datavalues(config)


def test_duplicate_mutual_year_across_files(raw: dict, config: dict, fx: ModuleType) -> None:
    frame = pd.read_csv(io.StringIO(fx.MUTUAL_CSV))
    frame.to_excel(raw["mutual_xlsx"], index=False, engine="openpyxl")
    with pytest.raises(InputError, match="unique_key"):
        ingest.ingest_mutuals(config)


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target, sidecar = tmp_path / "out" / "a.parquet", tmp_path / "out" / "a.json"
    with pytest.raises(RuntimeError), atomic_paths(target, sidecar) as (tmp_a, _tmp_b):
        tmp_a.write_bytes(b"partial")
        raise RuntimeError("disk full")
    assert not any((tmp_path / "out").iterdir())


def test_rerun_removes_what_a_killed_writer_left(tmp_path: Path) -> None:
    """A writer killed by SIGKILL leaves its temp file; the job that redoes it deletes it."""
    target = tmp_path / "out" / "a.parquet"
    target.parent.mkdir()
    stale = target.parent / ".a.parquet.2jjt1qbv.tmp"
    stale.write_bytes(b"partial")
    # Not this target's temp files: another output's, and a user's file.
    other = target.parent / ".a.parquet.x.k3mzq0ab.tmp"
    other.write_bytes(b"other output")
    mine = target.parent / ".a.parquet.notes.tmp"
    mine.write_bytes(b"kept")
    write_parquet(pd.DataFrame({"x": [1, 2]}), target)
    assert sorted(p.name for p in target.parent.iterdir()) == sorted(
        ["a.parquet", other.name, mine.name]
    )
    assert pd.read_parquet(target)["x"].tolist() == [1, 2]


def test_check_inputs_lists_every_failing_file(raw: dict, config: dict, fx: ModuleType) -> None:
    csv_edit("population", ",9000", ",-9000")(raw, fx)
    truncated_gzip(raw, fx)
    errors = ingest.check_inputs(config)
    files = sorted(Path(e.file).name for e in errors)
    assert files == ["dhis2_datavalues.csv.gz", "population.csv"]


def test_gzip_fixture_is_deterministic(tmp_path: Path, fx: ModuleType) -> None:
    a = fx.write_gz(tmp_path / "a.gz", "x")
    b = fx.write_gz(tmp_path / "b.gz", "x")
    assert a.read_bytes() == b.read_bytes()
    assert gzip.decompress(a.read_bytes()) == b"x"
