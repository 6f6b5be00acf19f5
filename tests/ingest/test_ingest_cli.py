"""CLI: exit codes, messages without traceback, and the demo data end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from sahel_eval.cli import main

REPO = Path(__file__).resolve().parents[2]


def write_config(config: dict, path: Path) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_ingest_ok(config: dict, tmp_path: Path) -> None:
    cfg = write_config(config, tmp_path / "config.yaml")
    out = tmp_path / "interim" / "facilities.parquet"
    assert main(["ingest", "facilities", "--config", str(cfg), "--out", str(out)]) == 0
    assert len(pd.read_parquet(out)) == 3
    out_w = tmp_path / "interim" / "women_2018.parquet"
    code = main(
        [
            "ingest",
            "survey",
            "--config",
            str(cfg),
            "--year",
            "2018",
            "--unit",
            "women",
            "--out",
            str(out_w),
            "--labels-out",
            str(tmp_path / "interim" / "w.json"),
        ]
    )
    assert code == 0 and out_w.exists()
    code = main(
        [
            "ingest",
            "population",
            "--config",
            str(cfg),
            "--out",
            str(tmp_path / "interim" / "pop.parquet"),
            "--facilities",
            str(out),
        ]
    )
    assert code == 0


def test_bad_input_exit_2_without_traceback(
    config: dict, raw: dict, tmp_path: Path, identifiers: list[str]
) -> None:
    path = Path(raw["population"])
    path.write_text(path.read_text(encoding="utf-8").replace(",9000", ",-9000"), encoding="utf-8")
    cfg = write_config(config, tmp_path / "config.yaml")
    out = tmp_path / "interim" / "population.parquet"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sahel_eval",
            "ingest",
            "population",
            "--config",
            str(cfg),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    first = proc.stderr.splitlines()[0]
    assert "population.csv" in first and "'population'" in first and "non_negative" in first
    assert not out.exists()


def test_check_reports_every_file(config: dict, raw: dict, tmp_path: Path, capsys) -> None:
    Path(raw["events"]).unlink()
    Path(raw["mutual_csv"]).write_bytes(b"\xff\xfe\x00garbage")
    cfg = write_config(config, tmp_path / "config.yaml")
    assert main(["check", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "events.csv" in err and "mutuelle_bandiagara.csv" in err
    assert "2 input file(s) failed" in err


def test_bad_config_exit_2(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        (REPO / "config" / "config.yaml")
        .read_text(encoding="utf-8")
        .replace("treatment: set_missing", "treatment: delete"),
        encoding="utf-8",
    )
    assert main(["check", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "dq.treatment" in err and "'enum'" in err


def test_demo_data_pass_and_lose_identifiers(tmp_path: Path, monkeypatch) -> None:
    from sahel_eval import ingest
    from sahel_eval.config import load_config

    monkeypatch.chdir(REPO)
    config = load_config("config/config.yaml")
    assert ingest.check_inputs(config) == []
    truth = json.loads((REPO / "data" / "raw" / "truth.json").read_text(encoding="utf-8"))
    dropped = {c for cols in truth["privacy"]["identifier_columns"].values() for c in cols}
    for rnd in config["inputs"]["surveys"][:1]:
        for entry in rnd["files"]:
            frame, labels = ingest.ingest_survey(config, year=rnd["year"], unit=entry["unit"])
            assert not dropped & set(frame.columns)
    frame = ingest.ingest_dhis2_datavalues(config)
    assert "storedby" not in frame
