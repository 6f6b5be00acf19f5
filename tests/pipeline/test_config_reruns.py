"""Editing one config value reruns the rules that read it and their downstream, nothing else.

Each case edits one value of one config section in a copy of the config and asks
Snakemake (dry run, against the finished demo run) which rules would run. The
expected set is the readers named here plus everything downstream of them in the
job graph, plus the report rules, which read the whole config (their provenance
block shows its hash). A rule that reads a value without declaring it would be
missing; a rule that declares more than it reads would be extra.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests_support import REPO, snakemake

#: Rules whose provenance block hashes the whole config (and the raw files they depend
#: on: every one, except the data-quality report's, RAW_EDITS).
WHOLE_CONFIG = {"data_inventory", "data_quality_report", "technical_report", "brief"}

# (section.key path, new value, rules that read it)
CASES: list[tuple[str, Any, set[str]]] = [
    ("did.leads", 6, {"estimate"}),
    ("did.wild_draws", 999, {"estimate"}),
    ("did.synthdid_reps", 50, {"estimate"}),
    ("seeds.randomisation", 7, {"estimate"}),
    ("seeds.expected_volume", 7, {"resilience_indicators"}),
    ("resilience.window_months", 9, {"resilience_indicators", "resilience_figures"}),
    ("resilience.recovery_threshold", 0.8, {"resilience_indicators"}),
    ("shocks.local.min_fatalities", 3, {"resilience_indicators"}),
    ("sustainability.persistence_months", 12, {"estimate", "report_tables"}),
    (
        "sustainability.kpi_thresholds.renewal.good",
        [0.8, None],
        # mutual_kpis writes the table and its figures (one job).
        {"mutual_kpis", "report_tables"},
    ),
    # dq_external blanks small survey cells and sizes the survey intervals; estimate
    # suppresses small subgroup cells (did.subgroups).
    ("reporting.small_cell_k", 10, {"report_tables", "dq_external", "estimate"}),
    # Holm over the primary outcomes is done by the DiD stage (issue 14).
    (
        "reporting.primary_outcomes.mopti_staggered",
        ["consultations_all"],
        {"estimate", "report_tables"},
    ),
    ("did.outcomes.deliveries.smallest_effect", 0.5, {"estimate"}),
    (
        "reporting.test_level",
        0.1,
        {"estimate", "resilience_summary", "report_tables", "dq_external"},
    ),
    ("dq.inactive_months", 4, {"clean_facility_data", "figures_dq"}),
    ("dq_external.population_bounds", [0.9, 1.1], {"dq_external"}),
    ("survey.recent_birth_months", 36, {"clean_surveys"}),
    ("denominators.dq_indicator", "anc1", {"denominators_dq"}),
    # The panels compute the ratios; the estimates sum a ratio's parts (SDID blocks).
    ("quality_of_care.crude_birth_rate", 0.045, {"panel"}),
    ("quality_of_care.ratios.anc_retention.numerator", "deliveries", {"panel", "estimate"}),
    # Snakemake merges --configfile into the config recursively, so an empty mapping
    # would edit nothing: move one mutual to the other area instead.
    # The summary stage picks each area's mutuals (their KPI alarms become actions).
    (
        "mutuals.areas",
        {"Mutuelle interprofessionnelle des artisans et commerçants du secteur informel": "bamako"},
        # mutual_kpis reads it too: affordability uses the area's survey households.
        {"mutual_kpis", "report_tables", "summary"},
    ),
    (
        "privacy.hash_length",
        12,
        {
            "ingest_facility_data",
            "ingest_events",
            "ingest_mutuals",
            "ingest_surveys",
        },
    ),
]


def _set(config: dict[str, Any], path: str, value: Any) -> None:
    *head, last = path.split(".")
    node = config
    for key in head:
        node = node[key]
    assert last in node, f"{path} is not in config/config.yaml"
    assert node[last] != value, f"{path} already is {value!r}: the case edits nothing"
    node[last] = value


def _job_graph(workdir: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Job -> its rule, and job -> the jobs that consume its outputs (``--dag``).

    Jobs, not rules: an estimate job of a survey analysis does not read the facility
    panel, so a facility-data edit reruns no survey figure although both are jobs of
    one rule (``estimate``).
    """
    proc = snakemake(workdir, "--dag", "--nolock")
    assert proc.returncode == 0, proc.stderr[-3000:]
    labels = dict(re.findall(r'^\s*(\d+)\[label = "([^"]+)"', proc.stdout, re.M))
    rule_of = {job: label.split("\\n")[0] for job, label in labels.items()}
    down: dict[str, set[str]] = {job: set() for job in labels}
    for src, dst in re.findall(r"^\s*(\d+) -> (\d+)", proc.stdout, re.M):
        down[src].add(dst)
    return rule_of, down


def _closure(rules: set[str], graph: tuple[dict[str, str], dict[str, set[str]]]) -> set[str]:
    """Rules of every job of ``rules`` and of every job downstream of them."""
    rule_of, down = graph
    out: set[str] = set()
    todo = [job for job, rule in rule_of.items() if rule in rules]
    while todo:
        job = todo.pop()
        if job not in out:
            out.add(job)
            todo.extend(down[job])
    return {rule_of[job] for job in out}


def _would_run(workdir: Path, configfile: Path) -> set[str]:
    proc = snakemake(workdir, "--dry-run", "--nolock", "--configfile", str(configfile))
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = proc.stdout.split("Job stats:", 1)
    if len(stats) == 1:
        assert "Nothing to be done" in proc.stdout + proc.stderr
        return set()
    rows = re.findall(r"^(\w+)\s+\d+\s*$", stats[1], re.M)
    return {r for r in rows if r != "total"}


@pytest.fixture(scope="module")
def rule_graph(demo_run: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    return _job_graph(demo_run)


@pytest.mark.parametrize(("path", "value", "readers"), CASES, ids=[c[0] for c in CASES])
def test_one_edit_reruns_its_readers_and_downstream(
    demo_run: Path,
    rule_graph: tuple[dict[str, str], dict[str, set[str]]],
    tmp_path: Path,
    path: str,
    value: Any,
    readers: set[str],
) -> None:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text("utf-8"))
    edited = copy.deepcopy(config)
    _set(edited, path, value)
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(edited, allow_unicode=True, sort_keys=False), "utf-8")
    expected = _closure(readers | WHOLE_CONFIG, rule_graph)
    # Figure rules of one analysis are named per analysis (figures_did_<name>).
    assert _would_run(demo_run, configfile) == expected


def test_the_unedited_config_reruns_nothing(demo_run: Path, tmp_path: Path) -> None:
    configfile = tmp_path / "config.yaml"
    configfile.write_text((REPO / "config" / "config.yaml").read_text("utf-8"), "utf-8")
    assert _would_run(demo_run, configfile) == set()


def test_every_section_is_edited_by_a_case() -> None:
    """A new config section must come with a case here (areas and analyses change the
    DAG itself, inputs and geography name files and places: covered elsewhere)."""
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text("utf-8"))
    sections = set(schema["properties"]) - {
        "config_version",
        "synthetic",
        "inputs",
        "geography",
        "areas",
        "analyses",
        "programmes",
        "dhis2",
    }
    assert sections <= {c[0].split(".")[0] for c in CASES}


def test_a_third_area_is_config_only(demo_run: Path, tmp_path: Path) -> None:
    """A new area (its districts, names per language) plans its own panel, resilience
    and reports, with no code edit; the existing areas' products are untouched."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text("utf-8"))
    config["areas"]["koro"] = {
        "region": "Mopti",
        "districts": ["Koro"],
        "label": {"fr": "cercle de Koro", "en": "Koro cercle"},
        "district_unit": {"fr": "aires de santé", "en": "health areas"},
    }
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    proc = snakemake(demo_run, "--dry-run", "--nolock", "--configfile", str(configfile))
    assert proc.returncode == 0, proc.stderr[-3000:]
    for product in (
        "results/clean/panel_koro.parquet",
        "results/resilience/koro_indicators.csv",
        "reports/technical_koro_fr.html",
        "reports/brief_koro_en.pdf",
        "reports/data_quality_koro_fr.html",
    ):
        assert product in proc.stdout, product
    # Only the new area's panel and resilience are computed; the others stand.
    counts = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", proc.stdout.split("Job stats:", 1)[1], re.M))
    assert counts["panel"] == counts["resilience_indicators"] == "1"


# (raw file, the ingest rule that reads it, the report rules whose provenance block
# hashes it): one family of inputs per ingest job; the data-quality report hashes only
# the raw files its numbers come from (not the events nor the mutual registers).
ALL_RAW = WHOLE_CONFIG
NOT_DQ = WHOLE_CONFIG - {"data_quality_report"}
RAW_EDITS = [
    ("events.csv", "ingest_events", NOT_DQ),
    ("displacement_sites.csv", "ingest_displacement", ALL_RAW),
    ("mutuals/mutuelle_commune3.xlsx", "ingest_mutuals", NOT_DQ),
    ("survey/MLIR2018.sav", "ingest_surveys", ALL_RAW),
    # The facility family is one ingest job on purpose (docs/architecture.md,
    # "Deliberate deviation"): a population edit re-ingests the DHIS2 export too.
    ("population.csv", "ingest_facility_data", ALL_RAW),
]


@pytest.mark.parametrize(("raw", "reader", "hashed_by"), RAW_EDITS, ids=[r[0] for r in RAW_EDITS])
def test_one_raw_file_edit_reruns_its_ingest_and_downstream(
    demo_run: Path,
    rule_graph: tuple[dict[str, str], dict[str, set[str]]],
    raw: str,
    reader: str,
    hashed_by: set[str],
) -> None:
    """Edited bytes in one raw file rerun the ingest job of its family, what depends
    on it and the reports that hash it, and nothing else (issue 16 item 3). The
    workdir's ``data/raw`` link is swapped for a copy with the repository's times (a
    new link would look new itself), one file edited, and the link put back."""
    link = demo_run / "data" / "raw"
    target = link.resolve()
    link.unlink()
    try:
        shutil.copytree(target, link, copy_function=shutil.copy2)
        edited = link / raw
        # One more byte, and newer than every output (a touch alone is no edit:
        # Snakemake compares the checksums of small inputs). Planned, never run.
        with edited.open("ab") as f:
            f.write(b"\n")
        would_run = _would_run(demo_run, REPO / "config" / "config.yaml")
        assert would_run == _closure({reader} | hashed_by, rule_graph)
        # The events and the registers feed no data-quality number: its reports stand.
        assert ("data_quality_report" in would_run) == ("data_quality_report" in hashed_by)
    finally:
        shutil.rmtree(link, ignore_errors=True)
        link.symlink_to(target)
