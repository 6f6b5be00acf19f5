"""The no-op fast path of ``make run``: taken only when nothing Snakemake looks at changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests_support import REPO

from sahel_eval.uptodate import Stamp


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working directory with a Snakefile, workflow, config, one raw input and outputs."""
    (tmp_path / "Snakefile").write_text("rule all:\n    input: 'results/x.csv'\n")
    (tmp_path / "workflow").mkdir()
    (tmp_path / "workflow" / "rules.smk").write_text("# rules\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(
        "inputs:\n  a: data/a.csv\n  b: [data/b.csv]\n"
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("1\n")
    (tmp_path / "data" / "b.csv").write_text("2\n")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x.csv").write_text("3\n")
    return tmp_path


def _stamp(project: Path, *extra: str) -> Stamp:
    args = ["-s", str(project / "Snakefile"), "-d", str(project), "--cores", "2", *extra]
    stamp = Stamp.for_run(args, project)
    assert stamp is not None
    return stamp


def _record(project: Path) -> None:
    stamp = _stamp(project)
    stamp.record(stamp.inputs_digest())


def _bump(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_unchanged_is_current(project: Path) -> None:
    assert not _stamp(project).current()  # nothing recorded yet
    _record(project)
    assert _stamp(project).current()
    _stamp(project).forget()
    assert not _stamp(project).current()


@pytest.mark.parametrize(
    "change",
    [
        "config/config.yaml",  # an edited value
        "data/a.csv",  # a raw input the config names
        "data/b.csv",  # one named inside a list
        "results/x.csv",  # an output modified by hand
        "workflow/rules.smk",  # a rule
        "Snakefile",
    ],
)
def test_any_change_sends_the_run_to_snakemake(project: Path, change: str) -> None:
    _record(project)
    _bump(project / change)
    assert not _stamp(project).current()


def test_deleted_output_and_other_options(project: Path) -> None:
    _record(project)
    assert not _stamp(project, "-q").current()  # another command line
    (project / "results" / "x.csv").unlink()
    assert not _stamp(project).current()


def test_an_input_edited_during_the_run_is_not_recorded_as_seen(project: Path) -> None:
    # The run starts, the user edits a rule while it runs, the run ends: the next
    # make run must go to Snakemake (its outputs came from the rule before the edit).
    stamp = _stamp(project)
    started_from = stamp.inputs_digest()
    _bump(project / "workflow" / "rules.smk")
    stamp.record(started_from)
    assert not _stamp(project).current()


@pytest.mark.parametrize(
    "args",
    [["-n"], ["--dry-run"], ["results/x.csv"], ["--configfile", "c.yaml"], ["--report", "r.zip"]],
)
def test_only_plain_runs_are_stamped(project: Path, args: list[str]) -> None:
    assert Stamp.for_run(["--cores", "2", *args], project) is None


def test_a_complete_run_is_stamped_and_the_next_one_skips(demo_run: Path) -> None:
    cmd = [sys.executable, "-m", "sahel_eval.resume", "-s", str(REPO / "Snakefile")]
    cmd += ["-d", str(demo_run), "--cores", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Building DAG" in first.stderr  # Snakemake decided, and found nothing to do
    second = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert second.returncode == 0
    assert "as the last complete run left them" in second.stderr
    assert "Building DAG" not in second.stderr
