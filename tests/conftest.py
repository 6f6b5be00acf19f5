"""Session-wide fixtures: one run of the demo pipeline shared by every test that needs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests_support import make_workdir, snakemake


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole demo pipeline, run once per test session; returns its working directory."""
    workdir = make_workdir(tmp_path_factory.mktemp("demo-run"))
    proc = snakemake(workdir)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return workdir
