"""The Slurm profile end to end: part of the demo DAG as real Slurm jobs, byte-identical.

A one-node Slurm cluster is started on this machine (``tests/slurm/start_local_cluster.sh``,
as root, Debian's Slurm 22.05 without accounting). Ingest, facility cleaning with its
data-quality tables and the Mopti panel then run through ``--workflow-profile
workflow/profiles/slurm`` with ``.venv-slurm`` (the only environment that has the Slurm
executor plugin), in a scratch working directory, each rule one ``sbatch`` job. Every output
must equal the session's local demo run byte for byte, every job must have gone through
Slurm (job ids, Slurm log files, partition chosen by ``SAHEL_EVAL_SLURM_PARTITION``), and
the jobs must see the environment of the submitting shell (salt, hash seed).

Where Slurm cannot be set up (not root, packages or ``.venv-slurm`` missing: ``make slurm``)
the test is skipped, unless ``SAHEL_EVAL_REQUIRE_SLURM=1`` (set by ``.ci/run``) fails it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from tests_support import REPO, make_workdir

from sahel_eval.privacy import DEMO_SALT

REQUIRE_SLURM = os.environ.get("SAHEL_EVAL_REQUIRE_SLURM") == "1"
SLURM_PYTHON = REPO / ".venv-slurm" / "bin" / "python"
PROFILE = REPO / "workflow" / "profiles" / "slurm"
START = REPO / "tests" / "slurm" / "start_local_cluster.sh"
STOP = REPO / "tests" / "slurm" / "stop_local_cluster.sh"
DAEMONS = ("munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "srun")
# The non-default partition of the test cluster: the profile must send jobs there.
PARTITION = "pipeline"
# ingest -> facility cleaning (facility_month + DQ tables) -> Mopti panel.
TARGETS = ("results/clean/panel_mopti.parquet", "results/clean/facility_month.parquet")
PROBE = "results/slurm_env_probe.json"
# The jobs those targets need (the panel's displacement-adjusted denominators read the
# displacement sites), and the probe: each must be one Slurm job.
RULES = sorted(
    (
        "ingest_facility_data",
        "ingest_displacement",
        "clean_facility_data",
        "panel",
        "slurm_env_probe",
    )
)
TIMEOUT = 480  # seconds; the run takes ~1.5 min on 2 cores

# The repository's Snakefile plus one rule that records what a Slurm job sees.
WRAPPER = """\
include: {snakefile!r}


rule slurm_env_probe:
    output:
        {probe!r},
    run:
        import hashlib, json, os

        env = os.environ
        salt = env.get("SAHEL_EVAL_SALT", "")
        probe = {{
            "slurm_job_id": env.get("SLURM_JOB_ID"),
            "salt_sha256": hashlib.sha256(salt.encode()).hexdigest(),
            "pythonhashseed": env.get("PYTHONHASHSEED"),
            "marker": env.get("SAHEL_EVAL_SLURM_TEST_MARKER"),
        }}
        with open(output[0], "w") as f:
            json.dump(probe, f)
"""


def _unavailable() -> str | None:
    """Why a test cluster cannot be started here, or None."""
    if os.geteuid() != 0:
        return "not root: the test cluster's daemons need root"
    if not SLURM_PYTHON.exists():
        return f"{SLURM_PYTHON} missing (make slurm)"
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    missing = [exe for exe in DAEMONS if shutil.which(exe, path=path) is None]
    if missing:
        return f"{', '.join(missing)} not installed (make slurm installs them with apt)"
    return None


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_SLURM:
        pytest.fail(f"SAHEL_EVAL_REQUIRE_SLURM=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def slurm_available() -> None:
    """Skip (or fail) before the session's demo run is started for nothing."""
    reason = _unavailable()
    if reason:
        _skip_or_fail(reason)


@pytest.fixture(scope="module")
def slurm_cluster(slurm_available):
    """A running one-node cluster; stopped afterwards if this fixture started it."""
    proc = subprocess.run(["bash", str(START)], capture_output=True, text=True, timeout=180)
    if proc.returncode != 0:
        _skip_or_fail(f"the test cluster did not start:\n{proc.stdout}{proc.stderr}")
    started_here = "already running" not in proc.stdout
    yield
    if started_here:
        subprocess.run(["bash", str(STOP)], capture_output=True, text=True, timeout=120)


def _squeue(job_ids: list[str]) -> dict[str, tuple[str, str]]:
    """State and partition of each job (finished jobs stay listed: MinJobAge=600)."""
    out = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--format=%i|%T|%P", "--jobs", ",".join(job_ids)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    rows = (line.split("|") for line in out.split())
    return {job: (state, partition) for job, state, partition in rows}


@pytest.mark.slow
def test_slurm_profile_runs_demo_dag_byte_identical(
    slurm_available, demo_run, slurm_cluster, tmp_path
):
    workdir = make_workdir(tmp_path / "slurm-run")
    wrapper = tmp_path / "Snakefile.slurm-test"
    wrapper.write_text(WRAPPER.format(snakefile=str(REPO / "Snakefile"), probe=PROBE))
    marker = uuid.uuid4().hex
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "SAHEL_EVAL_SLURM_PARTITION": PARTITION,
        "SAHEL_EVAL_SLURM_TEST_MARKER": marker,
    }
    env.pop("SLURM_CONF", None)
    # Same salt and hash seed as the local run (unset salt = the config's demo salt),
    # now set explicitly so the probe can check that they reach the jobs.
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    env.setdefault("SAHEL_EVAL_SALT", config.get("privacy", {}).get("demo_salt", DEMO_SALT))
    env.setdefault("PYTHONHASHSEED", "0")
    cmd = [
        str(SLURM_PYTHON),
        "-m",
        "snakemake",
        "-s",
        str(wrapper),
        "-d",
        str(workdir),
        "--workflow-profile",
        str(PROFILE),
        "--slurm-keep-successful-logs",
        *TARGETS,
        PROBE,
    ]
    proc = subprocess.run(
        cmd, cwd=workdir, capture_output=True, text=True, timeout=TIMEOUT, env=env
    )
    assert proc.returncode == 0, proc.stderr[-5000:]

    # Every job went through sbatch and left its Slurm log.
    submitted = re.findall(
        r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.", proc.stderr
    )
    rules = sorted(
        Path(log).relative_to(workdir / ".snakemake" / "slurm_logs").parts[0]
        for _, log in submitted
    )
    assert rules == [f"rule_{rule}" for rule in RULES], proc.stderr[-5000:]
    job_ids = [job for job, _ in submitted]
    for _, log in submitted:
        assert Path(log).is_file() and Path(log).is_relative_to(workdir / ".snakemake"), log
    states = _squeue(job_ids)
    assert states == {job: ("COMPLETED", PARTITION) for job in job_ids}

    # The jobs saw the submitting shell's environment.
    probe = json.loads((workdir / PROBE).read_text())
    assert probe["slurm_job_id"] in job_ids
    assert probe["marker"] == marker
    assert probe["pythonhashseed"] == env["PYTHONHASHSEED"]
    assert probe["salt_sha256"] == hashlib.sha256(env["SAHEL_EVAL_SALT"].encode()).hexdigest()

    # Byte-identical to the local demo run: interim tables, clean tables, DQ tables.
    produced = sorted(
        p.relative_to(workdir)
        for p in (workdir / "results").rglob("*")
        if p.is_file() and p.name != Path(PROBE).name
    )
    assert len(produced) >= 20, produced
    assert {"interim", "clean", "dq"} <= {p.parts[1] for p in produced}
    differ = [p for p in produced if (workdir / p).read_bytes() != (demo_run / p).read_bytes()]
    assert not differ, f"Slurm outputs differ from the local run: {differ}"
