"""CPU, wall time and peak memory of each estimate job (rule ``estimate``) of a run.

Usage::

    python benchmarks/bench_pipeline.py national --raw /tmp/national --keep  # prints WORK
    python benchmarks/bench_estimates.py WORK                  # every configured analysis
    python benchmarks/bench_estimates.py WORK --only mopti_staggered --profile /tmp/prof
    python benchmarks/bench_estimates.py WORK --cores 2        # the stage as on 2 cores

``WORK`` is a run directory: ``config/config.yaml`` and the canonical tables under
``results/clean/`` (a national run's, kept by ``bench_pipeline.py --keep``). Each
analysis runs in its own process, as the rule does: the inputs are read, then
``run_analysis`` and ``analysis_document`` are timed (CPU = user + system of the
process over that span, without the start-up the job's ``job usage:`` log line
includes). ``--profile DIR`` writes one
cProfile file per analysis, timed in CPU seconds (``DIR/<analysis>.prof``).
``--cores 2`` runs two jobs at a time, in the configured order, and prints the stage's
wall time from the first job's start to the last one's end (each process's start-up
and reads included), as the stage takes on the 2-core machine the DAG runs on.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

# One analysis in one process; prints {"cpu": s, "wall": s, "peak_mb": MB}.
_JOB = """
import cProfile, json, resource, sys, time
from pathlib import Path
import pandas as pd
from sahel_eval.config import load_config
from sahel_eval.did.analyses import AnalysisSettings, analysis_document, run_analysis
from sahel_eval.products import SURVEY_UNITS

work, name, prof_path = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
config = load_config(work / "config" / "config.yaml")
spec = next(a for a in config["analyses"] if a["name"] == name)
clean = work / "results" / "clean"
if spec["data"] == "facility":
    data = pd.read_parquet(clean / f"panel_{spec['area']}.parquet")
else:
    data = {u: pd.read_parquet(clean / f"survey_{u}.parquet") for u in SURVEY_UNITS}
truth_file = config["did"]["truth_file"]
truth = None
if truth_file and spec["data"] == "facility":
    truth = json.loads((work / truth_file).read_text(encoding="utf-8"))
settings = AnalysisSettings.from_config(config)
prof = cProfile.Profile(time.process_time) if prof_path else None
t0, c0 = time.perf_counter(), time.process_time()
if prof:
    prof.enable()
analysis_document(run_analysis(spec, data, settings), truth)
if prof:
    prof.disable()
    prof.dump_stats(prof_path)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"cpu": cpu, "wall": wall, "peak_mb": peak}))
"""


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work", type=Path)
    ap.add_argument("--only", action="append", help="an analysis name (repeatable)")
    ap.add_argument("--profile", type=Path, help="write DIR/<analysis>.prof")
    ap.add_argument("--cores", type=int, default=1, help="jobs at once (2: as the DAG on 2 cores)")
    args = ap.parse_args()
    config = yaml.safe_load((args.work / "config" / "config.yaml").read_text("utf-8"))
    names = [a["name"] for a in config["analyses"] if not args.only or a["name"] in args.only]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    # One BLAS thread, as in the pipeline's jobs (Makefile, Snakemake's job environment):
    # OpenBLAS's own threads spend 5–10× the CPU on the small products of the refits.
    one = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env = {**os.environ, **one}
    jobs = {name: _job(args.work, name, args.profile) for name in names}
    finished = _run(jobs, env, args.cores)
    total_cpu = total_wall = 0.0
    for name in names:
        res = finished[name]
        total_cpu, total_wall = total_cpu + res["cpu"], total_wall + res["wall"]
        print(
            f"{name}: cpu_s={res['cpu']:.1f} wall_s={res['wall']:.1f} "
            f"job_wall_s={res['job_wall']:.1f} peak_mb={res['peak_mb']:.0f}"
        )
    print(f"estimate stage ({len(names)} jobs): cpu_s={total_cpu:.1f} wall_s={total_wall:.1f}")
    if args.cores > 1:
        elapsed = max(r["end"] for r in finished.values()) - min(
            r["start"] for r in finished.values()
        )
        print(
            f"estimate stage on {args.cores} cores: wall_s={elapsed:.1f} (jobs started in the "
            f"order above, {args.cores} at a time; start-up and reads included)"
        )


def _job(work: Path, name: str, profile: Path | None) -> list[str]:
    prof = str(profile / f"{name}.prof") if profile else ""
    return [sys.executable, "-c", _JOB, str(work), name, prof]


def _run(jobs: dict[str, list[str]], env: dict[str, str], cores: int) -> dict[str, dict]:
    """Run the jobs, at most ``cores`` at once, in order; per job its JSON line plus
    ``start``, ``end`` and ``job_wall`` (the whole process: start-up and reads too)."""
    waiting, running, done = list(jobs), {}, {}
    while waiting or running:
        while waiting and len(running) < cores:
            name = waiting.pop(0)
            # stderr to a file: a job's warnings must not fill a pipe nobody reads yet.
            err = tempfile.TemporaryFile("w+")
            proc = subprocess.Popen(
                jobs[name], env=env, stdout=subprocess.PIPE, stderr=err, text=True
            )
            running[name] = (proc, err, time.perf_counter())
        name = next((n for n, (proc, *_) in running.items() if proc.poll() is not None), None)
        if name is None:
            time.sleep(0.01)
            continue
        proc, err, start = running.pop(name)
        out = proc.communicate()[0]
        end = time.perf_counter()
        err.seek(0)
        message = err.read()
        err.close()
        if proc.returncode:
            raise SystemExit(f"{name} failed:\n{message}")
        res = json.loads(out.strip().splitlines()[-1])
        done[name] = {**res, "start": start, "end": end, "job_wall": end - start}
    return done


if __name__ == "__main__":
    main()
