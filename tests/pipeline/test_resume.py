"""A run killed half-way resumes with the same command and equals a clean run (DESIGN §10)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests_support import REPO, make_workdir, snakemake

from sahel_eval import resume

# Ingest, then the cleaning of one area: small, but several jobs long.
TARGET = "results/clean/panel_bamako.parquet"
# The kill comes once the cleaning job has started (its log exists), so the run dies
# with finished ingest outputs, a job in flight and Snakemake's lock held.
MARKER = "logs/clean/facility_data.log"


def _run(workdir: Path, **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "sahel_eval.resume", "-s", str(REPO / "Snakefile")]
    cmd += ["-d", str(workdir), "--cores", "2", "--rerun-incomplete", TARGET]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kw
    )


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "results").rglob("*"))
        if p.is_file()
    }


def test_killed_run_resumes_by_itself(tmp_path: Path) -> None:
    killed = make_workdir(tmp_path / "killed")
    proc = _run(killed, start_new_session=True)
    deadline = time.monotonic() + 600
    while not (killed / MARKER).exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the cleaning job never started"
        time.sleep(0.05)
    # While Snakemake lives its lock is not stale: nothing may unlock it.
    assert resume.live_snakemake_pids(killed)
    assert not resume.stale_lock(killed)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert any((killed / ".snakemake" / "locks").iterdir()), "the kill left no lock"
    assert resume.stale_lock(killed)

    again = _run(killed)
    out, err = again.communicate(timeout=900)
    assert again.returncode == 0, err[-3000:]
    assert "was interrupted" in err
    assert (killed / TARGET).is_file()

    clean = make_workdir(tmp_path / "clean")
    proc = snakemake(clean, TARGET)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _digests(killed) == _digests(clean)


def test_workdir_of_reads_the_directory_option(tmp_path: Path) -> None:
    assert resume.workdir_of(["-d", "x", "--cores", "2"], tmp_path) == tmp_path / "x"
    assert resume.workdir_of(["--directory=y"], tmp_path) == tmp_path / "y"
    assert resume.workdir_of(["--cores", "1"], tmp_path) == tmp_path


def test_no_lock_is_not_stale(tmp_path: Path) -> None:
    assert not resume.stale_lock(tmp_path)
    (tmp_path / ".snakemake" / "locks").mkdir(parents=True)
    assert not resume.stale_lock(tmp_path)
    (tmp_path / ".snakemake" / "locks" / "0.input.lock").write_text("x")
    assert resume.stale_lock(tmp_path)
