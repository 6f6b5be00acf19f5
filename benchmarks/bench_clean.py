"""Time and peak memory of ingest + facility cleaning at national scale.

Usage::

    python -m sahel_eval.synth --out /tmp/national --scale national   # once, ≈ 50 s
    OMP_NUM_THREADS=1 python benchmarks/bench_clean.py [--raw /tmp/national]

Runs each stage once on the raw files of ``--raw`` (config/config.yaml with its
inputs pointed there and the DHIS2 UIDs taken from that data set's truth.json) and
prints wall time per stage, rows, and the process's peak resident memory (which
includes the interpreter and the imports).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from sahel_eval.clean.dq import dq_tables
from sahel_eval.clean.in_process import clean_in_process
from sahel_eval.config import load_config
from sahel_eval.synth.config import config_for_raw

REPO = Path(__file__).resolve().parents[1]


def raw_config() -> tuple[Path, dict]:
    """``--raw`` of the command line, and the config reading its inputs from there."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", default="/tmp/national", type=Path)
    raw = ap.parse_args().raw
    return raw, config_for_raw(load_config(REPO / "config" / "config.yaml"), raw)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Ingest and clean once; print time per stage and peak memory."""
    raw, config = raw_config()
    run = clean_in_process(config)
    times = dict(run.timings)
    t0 = time.perf_counter()
    tables = dq_tables(run.clean, run.facilities, run.programmes, run.settings)
    times["dq_tables"] = time.perf_counter() - t0
    panels = run.panels

    print(
        f"raw={raw} facilities={len(run.facilities)} "
        f"datavalue_rows={len(run.datavalues)} "
        f"facility_month_rows={len(run.clean.facility_month)} dq_tables={len(tables)} "
        + " ".join(f"panel_{a}_rows={len(p)}" for a, p in panels.items())
    )
    print(
        " ".join(f"{k}_s={v:.1f}" for k, v in times.items()) + f" total_s={sum(times.values()):.1f}"
    )
    print(f"peak_rss_mb={_peak_mb():.0f}")


if __name__ == "__main__":
    main()
