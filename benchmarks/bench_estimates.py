"""CPU, wall time and peak memory of each estimate job (rule ``estimate``) of a run.

Usage::

    python benchmarks/bench_pipeline.py national --raw /tmp/national --keep  # prints WORK
    python benchmarks/bench_estimates.py WORK                  # every configured analysis
    python benchmarks/bench_estimates.py WORK --only mopti_staggered --profile /tmp/prof

``WORK`` is a run directory: ``config/config.yaml`` and the canonical tables under
``results/clean/`` (a national run's, kept by ``bench_pipeline.py --keep``). Each
analysis runs in its own process, as the rule does: the inputs are read, then
``run_analysis`` and ``analysis_document`` are timed (CPU = user + system of the
process over that span, without the start-up the job's ``job usage:`` log line
includes). ``--profile DIR`` writes one
cProfile file per analysis, timed in CPU seconds (``DIR/<analysis>.prof``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
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
    args = ap.parse_args()
    config = yaml.safe_load((args.work / "config" / "config.yaml").read_text("utf-8"))
    names = [a["name"] for a in config["analyses"] if not args.only or a["name"] in args.only]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    # One BLAS thread, as in the pipeline's jobs (Makefile, Snakemake's job environment):
    # OpenBLAS's own threads spend 5–10× the CPU on the small products of the refits.
    one = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env = {**os.environ, **one}
    total_cpu = total_wall = 0.0
    for name in names:
        prof = str(args.profile / f"{name}.prof") if args.profile else ""
        proc = subprocess.run(
            [sys.executable, "-c", _JOB, str(args.work), name, prof],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        total_cpu, total_wall = total_cpu + res["cpu"], total_wall + res["wall"]
        print(
            f"{name}: cpu_s={res['cpu']:.1f} wall_s={res['wall']:.1f} peak_mb={res['peak_mb']:.0f}"
        )
    print(f"estimate stage ({len(names)} jobs): cpu_s={total_cpu:.1f} wall_s={total_wall:.1f}")


if __name__ == "__main__":
    main()
