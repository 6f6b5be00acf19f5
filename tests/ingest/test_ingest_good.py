"""Each ingest function on good input: types, identifiers gone, deterministic files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sahel_eval import ingest
from sahel_eval.io import stata_spss


def no_identifier_in(frame: pd.DataFrame, identifiers: list[str]) -> None:
    text = frame.astype(str).to_csv()
    for value in identifiers:
        assert value not in text


def test_facilities(config: dict, tmp_path: Path) -> None:
    out = tmp_path / "interim" / "facilities.parquet"
    ingest.ingest_facilities(config, out=out)
    frame = pd.read_parquet(out)
    assert list(frame["orgunit_uid"])[:1] == ["Abcdefghij1"]
    assert str(frame["opened"].dtype) == "datetime64[ns]"
    assert frame["closed"].isna().sum() == 2
    assert frame.loc[0, "orgunit_name"] == "CSCOM de Sévaré II"


def test_population(config: dict, tmp_path: Path) -> None:
    out = tmp_path / "population.parquet"
    ingest.ingest_population(
        config, out=out, facility_ids=["Abcdefghij1", "Bcdefghijk2", "Cdefghijkl3"]
    )
    frame = pd.read_parquet(out)
    assert str(frame["population"].dtype) == "Int64"
    assert str(frame["year"].dtype) == "Int64"
    assert frame["population"].sum() == 48300


def test_dhis2_datavalues_drop_user_names(config: dict, tmp_path: Path, identifiers: list) -> None:
    out = tmp_path / "dv.parquet"
    ingest.ingest_dhis2_datavalues(config, out=out)
    frame = pd.read_parquet(out)
    assert "storedby" not in frame and "comment" not in frame
    assert frame["value"].dtype == "float64"
    assert str(frame["lastupdated"].dtype) == "datetime64[ns]"
    # Name variants of org units and keyed zeros are the cleaning stage's business.
    assert "ASACO SEVARE 2" in set(frame["orgunit"])
    assert frame["value"].tolist() == [120.0, 80.0, 15.0, 0.0]
    no_identifier_in(frame, identifiers)


def test_dhis2_completeness(config: dict, tmp_path: Path, identifiers: list) -> None:
    out = tmp_path / "c.parquet"
    ingest.ingest_dhis2_completeness(config, out=out)
    frame = pd.read_parquet(out)
    assert "storedby" not in frame
    assert frame["completed"].all()
    assert str(frame["date"].dtype) == "datetime64[ns]"
    no_identifier_in(frame, identifiers)


def test_programmes_and_events(config: dict) -> None:
    programmes = ingest.ingest_programmes(config, facility_ids=["Abcdefghij1", "Bcdefghijk2"])
    assert set(programmes["programme"]) == {"I3S", "Djantoli"}
    events = ingest.ingest_events(config)
    assert str(events["fatalities"].dtype) == "Int64"
    assert events["latitude"].dtype == "float64"


def test_mutuals_csv_and_xlsx(config: dict, tmp_path: Path) -> None:
    out = tmp_path / "mutuals.parquet"
    ingest.ingest_mutuals(config, out=out)
    frame = pd.read_parquet(out)
    assert set(frame["source_file"]) == {"mutuelle_bandiagara.csv", "mutuelle_mopti.xlsx"}
    assert "cotisations_percues" not in frame
    assert frame["contributions_collected"].dtype == "float64"
    assert len(frame) == 4


@pytest.mark.parametrize(
    ("year", "unit", "id_col", "gone"),
    [
        (2015, "households", "hhid", ["shnom", "shtel", "gps_lat", "gps_lon"]),
        (2018, "women", "caseid", ["snom", "stel"]),
        (2021, "children", "caseid", ["sdob", "snom", "stel"]),
    ],
)
def test_survey(
    config: dict,
    tmp_path: Path,
    identifiers: list,
    year: int,
    unit: str,
    id_col: str,
    gone: list[str],
) -> None:
    out, labels_out = tmp_path / f"{unit}.parquet", tmp_path / f"{unit}.labels.json"
    ingest.ingest_survey(config, year=year, unit=unit, out=out, labels_out=labels_out)
    frame = pd.read_parquet(out)
    for col in gone:
        assert col not in frame
    no_identifier_in(frame, identifiers)
    assert frame[id_col].str.fullmatch(r"[0-9a-f]{16}").all()
    variables = config["survey"]["variables"][unit]
    for key in ("cluster", "psu", "strata", "district"):
        assert str(frame[variables[key]].dtype) == "Int64"
    assert frame[variables["weight"]].dtype == "float64"
    assert (frame["round_year"] == year).all()
    labels_text = labels_out.read_text(encoding="utf-8")
    labels = json.loads(labels_text)
    assert labels_text == json.dumps(labels, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
    assert labels["file"] == Path(labels["file"]).name  # no directory in outputs
    for value in identifiers:
        assert value not in labels_text


def test_survey_labels_latin1_stata_114(config: dict) -> None:
    _, labels = ingest.ingest_survey(config, year=2015, unit="households")
    assert labels["stata_release"] == 114
    assert labels["encoding"] == "latin1"
    assert labels["value_labels"]["shdist"]["7"] == "Ténenkou"
    assert labels["value_labels"]["shoop"]["9999998"] == "ne sait pas"
    assert labels["variable_labels"]["shdist"] == "District (cercle) de résidence"


def test_survey_glob_outcomes_and_dont_know_codes_kept(config: dict) -> None:
    frame, labels = ingest.ingest_survey(config, year=2021, unit="children")
    assert {"h32a", "h32t", "h32x"} <= set(frame.columns)
    # 8/9 stay codes here: the cleaning stage reads their meaning from the labels.
    assert 8.0 in set(frame["h11"])
    assert labels["value_labels"]["h11"] == {"8": "ne sait pas", "9": "manquant"}


def test_sav_reader_keeps_labels(raw: dict) -> None:
    survey = stata_spss.read_survey(raw["ir2018"])
    assert survey.file_format == "spss"
    assert survey.value_labels["v481"]["8"] == "ne sait pas"


def test_same_input_gives_byte_identical_files(config: dict, tmp_path: Path) -> None:
    for run in ("a", "b"):
        base = tmp_path / run
        ingest.ingest_dhis2_datavalues(config, out=base / "dv.parquet")
        ingest.ingest_mutuals(config, out=base / "m.parquet")
        ingest.ingest_survey(
            config, year=2018, unit="women", out=base / "w.parquet", labels_out=base / "w.json"
        )
    for name in ("dv.parquet", "m.parquet", "w.parquet", "w.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_ids_link_across_files_and_depend_on_salt(config: dict, monkeypatch) -> None:
    women, _ = ingest.ingest_survey(config, year=2018, unit="women")
    children, _ = ingest.ingest_survey(config, year=2021, unit="children")
    assert women["caseid"].tolist() == children["caseid"].tolist()
    monkeypatch.setenv("SAHEL_EVAL_SALT", "another-secret-salt")
    again, _ = ingest.ingest_survey(config, year=2018, unit="women")
    assert not set(again["caseid"]) & set(women["caseid"])


def test_check_inputs_passes(config: dict, tmp_path: Path) -> None:
    assert ingest.check_inputs(config) == []
