"""The Snakemake DAG end to end on the demo data: products, idempotence, determinism,
lint, and a clean failure on bad input."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from tests_support import REPO, make_workdir, snakemake

from sahel_eval.did.analyses import SCHEMA_VERSION, estimates_schema
from sahel_eval.rule_runner import USAGE_MARK

OUTPUT_DIRS = ("results", "reports")
# Meant to differ between runs (DESIGN §10): the run date, and the --report archive.
VARYING = frozenset({"reports/run_metadata.json", "reports/snakemake_report.zip"})


def _digests(root: Path) -> dict[str, str]:
    out = {}
    for top in OUTPUT_DIRS:
        for p in sorted((root / top).rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and rel not in VARYING:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_demo_run_writes_the_products(demo_run: Path) -> None:
    for lang in ("fr", "en"):
        html = (demo_run / "reports" / f"data_inventory_{lang}.html").read_text("utf-8")
        assert f'<html lang="{lang}"' in html
        assert "MLHR2018.sav" in html
    facilities = pd.read_parquet(demo_run / "results" / "interim" / "facilities.parquet")
    assert len(facilities) == 224
    # Every job keeps its log outside results/, ending with its time and memory.
    logs = sorted((demo_run / "logs").glob("*/*.log"))
    assert len(logs) >= 40
    assert all(USAGE_MARK in p.read_text("utf-8") for p in logs), logs
    assert not list((demo_run / "results").rglob("*.log"))


def test_second_run_does_nothing(demo_run: Path) -> None:
    proc = snakemake(demo_run, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_two_runs_are_byte_identical(demo_run: Path, tmp_path: Path) -> None:
    other = make_workdir(tmp_path / "second")
    proc = snakemake(other)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, second = _digests(demo_run), _digests(other)
    assert first.keys() == second.keys()
    differ = [k for k in first if first[k] != second[k]]
    assert not differ, differ
    # Reports, brief PDFs and the manifest are among the files compared.
    assert {"reports/manifest.sha256", "reports/brief_mopti_fr.pdf"} <= first.keys()
    assert (other / "reports" / "run_metadata.json").is_file()


def test_lint_is_clean() -> None:
    proc = snakemake(REPO, "--lint")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Congratulations" in proc.stdout + proc.stderr


def test_snakefmt_is_clean() -> None:
    exe = Path(sys.executable).with_name("snakefmt")
    proc = subprocess.run(
        [str(exe), "--check", "Snakefile", "workflow/rules"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("target", "edit", "column"),
    [
        ("facilities.csv", lambda t: t.replace("orgunit_name", "orgunit_nom"), "orgunit_name"),
        ("population.csv", lambda t: t.replace(",2014,", ",2O14,", 1), "year"),
    ],
)
def test_bad_input_fails_cleanly(tmp_path: Path, target: str, edit, column: str) -> None:
    workdir = make_workdir(tmp_path / "bad")
    raw = workdir / "data" / "raw"
    raw.unlink()
    raw.mkdir()
    for p in (REPO / "data" / "raw").iterdir():
        (raw / p.name).symlink_to(p)
    (raw / target).unlink()
    (raw / target).write_text(edit((REPO / "data" / "raw" / target).read_text("utf-8")), "utf-8")
    proc = snakemake(workdir, "results/interim/population.parquet")
    assert proc.returncode != 0
    err = proc.stderr
    assert f"data/raw/{target}" in err and column in err
    assert "Traceback" not in err
    assert not (workdir / "results" / "interim" / "population.parquet").exists()


def test_every_estimates_output_validates_and_obeys_issue_14(demo_run: Path) -> None:
    """Every results/estimates/*.json validates against the schema it names, and the
    honest-inference rules hold on the pipeline's own outputs (issue 14 "done when")."""
    validator = jsonschema.Draft202012Validator(estimates_schema())
    paths = sorted((demo_run / "results" / "estimates").glob("*.json"))
    assert len(paths) == 4
    for path in paths:
        doc = json.loads(path.read_text("utf-8"))
        assert doc["schema_version"] == SCHEMA_VERSION
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, (path.name, errors[:5])
        for row in doc["estimates"]:
            if row["headline"]:
                assert {"verdict", "p_min", "confidence_attained"} <= row.keys()
                if row["inference"] == "wild":
                    g, g1 = row["clusters"], row["treated_clusters"]
                    assert g1 >= 5 and g - g1 >= 5, (path.name, row["fit"])
            if row["robustness"]:
                assert not row["headline"] and row["verdict"] is None
        for fit in doc["fits"]:
            stat = (fit["pretest"] or {}).get("stat")
            assert stat is None or abs(stat) <= 1e6, (path.name, fit["fit"], stat)
        for rec in doc["persistence"]:
            assert rec["headline"] == (rec["inference"] == "conley_taber")
    bamako = json.loads(
        (demo_run / "results" / "estimates" / "bamako_event_study.json").read_text()
    )
    heads = [r for r in bamako["estimates"] if r["headline"] and r["verdict"]]
    assert heads and {r["verdict"] for r in heads} == {"not_informative"}
    mopti = json.loads((demo_run / "results" / "estimates" / "mopti_staggered.json").read_text())
    ri_pretests = [f["pretest"] for f in mopti["fits"] if f["headline"] and f["pretest"]]
    assert ri_pretests and all(p["level"] == "assignment" for p in ri_pretests)
    assert all(p["test"].startswith("ri_") and p["p"] is not None for p in ri_pretests)
