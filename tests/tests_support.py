"""Helpers to run the repository's Snakefile on the demo data in a scratch directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / "snakemake"


def make_workdir(root: Path) -> Path:
    """A working directory with the config and the demo data, outside the repository."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "config", root / "config")
    (root / "data").mkdir()
    (root / "data" / "raw").symlink_to(REPO / "data" / "raw")
    return root


def snakemake(workdir: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile in ``workdir``."""
    exe = str(SNAKEMAKE) if SNAKEMAKE.exists() else shutil.which("snakemake")
    cmd = [exe, "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", "2", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
