"""Cold and no-op time of the whole DAG, per stage, on the demo or the national data.

Usage::

    python benchmarks/bench_pipeline.py demo                      # data/raw
    python benchmarks/bench_pipeline.py national --raw /tmp/national [--keep]
    python benchmarks/bench_pipeline.py ingest --raw /tmp/national  # ingest steps only

The national data set (1,398 CSCOMs, 1.38 M DHIS2 rows) is made with
``python -m sahel_eval.synth --out /tmp/national --scale national``.

Each run starts from an empty working directory (cold), then runs again with nothing
to do (no-op, the median of three; what ``make run`` costs when everything is up to
date). Per stage it prints the jobs, the sum of their wall and CPU times and the
largest job's peak memory, read from the line each job's log ends with, against the
stage's budget: later issues keep within them.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from sahel_eval import ingest
from sahel_eval.config import load_config
from sahel_eval.rule_runner import USAGE_MARK
from sahel_eval.synth.config import config_for_raw

REPO = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "clean", "did", "resilience", "sustainability", "report")
#: CPU seconds per stage on the demo data (2-core machine), summed over its jobs.
DEMO_BUDGET_CPU_S = {
    "ingest": 12,
    "clean": 15,
    "did": 30,
    "resilience": 20,
    "sustainability": 6,
    "report": 45,
}
#: Targets of the whole DAG (issue 13): cold demo, no-op, cold national.
TARGETS_S = {"demo_cold": 60, "noop": 2, "national_cold": 120}


def _workdir(raw: Path | None) -> Path:
    work = Path(tempfile.mkdtemp(prefix="bench-dag-"))
    if raw is None:
        shutil.copytree(REPO / "config", work / "config")
        (work / "data").mkdir()
        (work / "data" / "raw").symlink_to(REPO / "data" / "raw")
    else:
        cfg = config_for_raw(load_config(REPO / "config" / "config.yaml"), raw)
        (work / "config").mkdir()
        text = yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False)
        (work / "config" / "config.yaml").write_text(text, "utf-8")
    return work


def _snakemake(work: Path) -> float:
    cmd = [sys.executable, "-m", "sahel_eval.resume", "-s", str(REPO / "Snakefile")]
    cmd += ["-d", str(work), "--cores", "2", "-q", "--rerun-incomplete"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def stage_table(work: Path) -> pd.DataFrame:
    """Per stage: jobs, summed wall and CPU seconds, largest peak RSS (MB), from the
    line each job's log ends with (``rule_runner``: the whole process, start-up
    included); the longest job's wall time, and the span from the first job's start to
    the last one's end (a job ends when its log is last written).

    The stage's jobs depend on none of each other, so on 2 cores the stage takes about
    the longest job or half the summed CPU, whichever is more; the span also counts
    the time a job waited for inputs of another stage.
    """
    rows = []
    for log in sorted((work / "logs").glob("*/*.log")):
        usage = [x for x in log.read_text("utf-8").splitlines() if USAGE_MARK in x]
        if not usage:
            continue
        fields = dict(f.split("=") for f in usage[-1].split(USAGE_MARK)[1].split())
        rows.append(
            {
                "stage": log.parent.name,
                "job": log.stem,
                "wall_s": float(fields["wall_s"]),
                "cpu_s": float(fields["cpu_s"]),
                "max_rss_mb": float(fields["peak_mb"]),
                "end": log.stat().st_mtime,
            }
        )
    jobs = pd.DataFrame(rows)
    jobs["start"] = jobs["end"] - jobs["wall_s"]
    out = jobs.groupby("stage").agg(
        jobs=("job", "size"),
        wall_s=("wall_s", "sum"),
        cpu_s=("cpu_s", "sum"),
        longest_s=("wall_s", "max"),
        start=("start", "min"),
        end=("end", "max"),
        peak_rss_mb=("max_rss_mb", "max"),
    )
    out.insert(4, "span_s", out.pop("end") - out.pop("start"))
    return out.reindex([s for s in STAGES if s in out.index])


def bench_dag(raw: Path | None, keep: bool = False) -> None:
    """Cold run, then no-op runs, of the whole DAG; prints totals and the stage table.

    ``keep``: leave the run directory (its path is printed), e.g. for
    ``bench_estimates.py``.
    """
    label = "demo" if raw is None else f"national ({raw})"
    work = _workdir(raw)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cold = _snakemake(work)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = after.ru_maxrss / 1024
    # Exact CPU of the whole cold run (Snakemake and every job); the per-stage sums
    # are the jobs' own (stage_table), so the difference is Snakemake's.
    cpu_all = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    noop = statistics.median(_snakemake(work) for _ in range(3))
    table = stage_table(work)
    if raw is None:
        table["budget_cpu_s"] = pd.Series(DEMO_BUDGET_CPU_S)
        table["within"] = table["cpu_s"] <= table["budget_cpu_s"]
    target = TARGETS_S["demo_cold" if raw is None else "national_cold"]
    print(
        f"{label}: cold wall_s={cold:.1f} (target <= {target}), no-op wall_s={noop:.2f} "
        f"(target <= {TARGETS_S['noop']}), peak_rss_mb_largest_job={peak:.0f}, "
        f"jobs={int(table['jobs'].sum())}, cpu_s_jobs={table['cpu_s'].sum():.1f}, "
        f"cpu_s_whole_run={cpu_all:.1f}"
    )
    print(table.round(2).to_string())
    if keep:
        print(f"run directory kept: {work}")
    else:
        shutil.rmtree(work)


def bench_ingest(raw: Path) -> None:
    """Each ingest step on the national-scale data: time and rows/s; peak RSS overall.

    (tracemalloc would slow pandas several-fold, so memory is the process's peak RSS.)
    """
    cfg = config_for_raw(load_config(REPO / "config" / "config.yaml"), raw)
    out = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    steps = [
        ("facilities", lambda: ingest.ingest_facilities(cfg, out=out / "f.parquet")),
        ("dhis2_datavalues", lambda: ingest.ingest_dhis2_datavalues(cfg, out=out / "dv.parquet")),
        (
            "dhis2_completeness",
            lambda: ingest.ingest_dhis2_completeness(cfg, out=out / "c.parquet"),
        ),
        ("population", lambda: ingest.ingest_population(cfg, out=out / "p.parquet")),
        (
            "survey women 2021",
            lambda: ingest.ingest_survey(
                cfg, year=2021, unit="women", out=out / "w.parquet", labels_out=out / "w.json"
            )[0],
        ),
    ]
    total = 0.0
    for name, step in steps:
        t0 = time.perf_counter()
        frame = step()
        wall = time.perf_counter() - t0
        total += wall
        rows = len(frame) if isinstance(frame, pd.DataFrame) else 0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"ingest {name}: rows={rows} wall_time_s={wall:.2f} rows_per_s={rows / wall:,.0f} "
            f"peak_rss_so_far_mb={rss:.0f}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ingest total: wall_time_s={total:.1f} peak_rss_mb={rss:.0f}")


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["demo", "national", "ingest"])
    ap.add_argument("--raw", type=Path, default=Path("/tmp/national"))
    ap.add_argument("--keep", action="store_true", help="keep the run directory")
    args = ap.parse_args()
    if args.what == "demo":
        bench_dag(None, args.keep)
    elif args.what == "national":
        bench_dag(args.raw, args.keep)
    else:
        bench_ingest(args.raw)


if __name__ == "__main__":
    main()
