"""Wall time and peak memory of the demo pipeline, and of ingest at national scale.

Usage::

    python benchmarks/bench_pipeline.py demo                 # whole DAG on data/raw
    python benchmarks/bench_pipeline.py ingest --raw /tmp/national   # ingest stage only

The national data set is made with
``python -m sahel_eval.synth --out /tmp/national --scale national``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from sahel_eval import ingest
from sahel_eval.config import load_config
from sahel_eval.synth.config import config_for_raw

REPO = Path(__file__).resolve().parents[1]


def bench_demo() -> None:
    """Run the whole DAG in a scratch directory; peak RSS is the largest job's."""
    work = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    shutil.copytree(REPO / "config", work / "config")
    (work / "data").mkdir()
    (work / "data" / "raw").symlink_to(REPO / "data" / "raw")
    exe = Path(sys.executable).with_name("snakemake")
    t0 = time.perf_counter()
    subprocess.run(
        [str(exe), "-s", str(REPO / "Snakefile"), "-d", str(work), "--cores", "2", "-q"],
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"demo pipeline: wall_time_s={wall:.1f} peak_rss_mb_largest_job={peak:.0f}")


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
    ap.add_argument("what", choices=["demo", "ingest"])
    ap.add_argument("--raw", type=Path, default=Path("/tmp/national"))
    args = ap.parse_args()
    if args.what == "demo":
        bench_demo()
    else:
        bench_ingest(args.raw)


if __name__ == "__main__":
    main()
