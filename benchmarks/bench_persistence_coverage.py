"""Coverage of the persistence interval on replicates of the demo design.

Each replicate (:func:`sahel_eval.synth.replicates.persistence_replicate`) redraws the
facility model and the counts with another seed and estimates every planted
persistence ratio as the pipeline does. Printed per programme × outcome × cluster
level: the share of replicates whose 95 % interval holds the planted ratio, the share
of unbounded intervals, the median estimate and planted value; then wall time and peak
memory. Numbers are printed, never asserted. Run with
``OMP_NUM_THREADS=1 python benchmarks/bench_persistence_coverage.py --replicates 200``
(about 2.5 s per replicate on one core).
"""

from __future__ import annotations

import argparse
import resource
import time

import pandas as pd

from sahel_eval.synth.replicates import persistence_replicate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=100)
    args = ap.parse_args()
    t0 = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.replicates)
    runs = pd.concat([persistence_replicate(s) for s in seeds], ignore_index=True)
    wall = time.perf_counter() - t0
    runs["unbounded"] = runs["ci_note"].eq("unbounded")
    table = runs.groupby(["programme", "cluster", "outcome"]).agg(
        coverage=("inside", "mean"),
        unbounded=("unbounded", "mean"),
        median_estimate=("estimate", "median"),
        median_truth=("truth", "median"),
        median_df=("df", "median"),
    )
    with pd.option_context(
        "display.width", 200, "display.max_columns", 10, "display.float_format", "{:.3f}".format
    ):
        print(table)
        print(runs.groupby(["programme", "cluster"])["inside"].mean().rename("pooled coverage"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.replicates} replicates, {len(runs)} intervals: {wall:.1f} s wall "
        f"({wall / args.replicates:.2f} s per replicate), peak RSS {peak:.0f} MiB"
    )


if __name__ == "__main__":
    main()
