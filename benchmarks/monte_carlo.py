"""Monte Carlo coverage of the headline intervals (DESIGN §6.1, issue 15 item 3).

For the demo design and its unequal-district-sizes variant, ``--reps`` replicates
(fresh facility noise, district-month shocks and survey samples; same districts,
facilities, roll-out and planted effects), each evaluated by
:func:`sahel_eval.synth.monte_carlo.replicate_records`, i.e. by the functions the did
and sustainability stages call, on the first primary outcome of each analysis. Prints
and writes (``--out``: ``records.csv``, ``summary.csv``, ``summary.md``) per design ×
quantity × interval the coverage (pre-tests: rejection rate) with its Monte Carlo SE,
the Clopper–Pearson 95 % interval, the attained level and whether they agree; then
seconds per replicate and what ``--reps 500`` would take. Numbers are printed, never
asserted. Replicate r of a design has seed ``(first_seed, design index, r)``.
Run with ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/monte_carlo.py --reps 500``;
a stopped run is extended with ``--start N`` (replicates N, N+1, …, the same seeds) and
the parts summarised together with ``--from-records a.csv b.csv``.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from sahel_eval.config import load_config
from sahel_eval.did.analyses import AnalysisSettings
from sahel_eval.synth.monte_carlo import analysis_specs, replicate_records, summarise
from sahel_eval.synth.replicates import Design, design

DESIGNS = ("demo", "unequal")


@cache
def _design(variant: str) -> Design:
    # Built once per worker process: the fixed part of every replicate.
    return design(variant)


def _run(job: tuple[str, int, str]) -> pd.DataFrame:
    variant, seed, config_path = job
    config = load_config(config_path)
    return replicate_records(
        _design(variant), seed, analysis_specs(config), AnalysisSettings.from_config(config)
    )


def replicate_seed(first_seed: int, variant: str, r: int) -> int:
    """One integer seed per (design, replicate), independent streams by SeedSequence."""
    entropy = (first_seed, DESIGNS.index(variant), r)
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint32)[0])


def _markdown(summary: pd.DataFrame) -> str:
    cols = ["design", "quantity", "interval", "headline", "n", "n_interval", "rate", "mcse"]
    cols += ["unbounded", "bias", "rmse"]
    cols += ["ci_low", "ci_high", "nominal", "consistent", "meets_target"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in summary[cols].iterrows():
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500, help="replicates per design")
    ap.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=DESIGNS)
    ap.add_argument("--first-seed", type=int, default=2026)
    ap.add_argument(
        "--start",
        type=int,
        default=0,
        help="first replicate index: a stopped run is extended with --start N, not redone",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--out", default="benchmarks/monte_carlo_results")
    ap.add_argument(
        "--from-records",
        nargs="+",
        help="summarise these records.csv (stopped or extended runs) instead of running",
    )
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.from_records:
        records = pd.concat([pd.read_csv(f) for f in args.from_records], ignore_index=True)
        # The same replicate twice (overlapping runs) counts once.
        records = records.drop_duplicates(["design", "seed", "quantity", "interval"])
        names = ", ".join(Path(f).name for f in args.from_records)
        _report(records, out, f"records of {names}", args.workers)
        return
    jobs = [
        (v, replicate_seed(args.first_seed, v, r), args.config)
        for r in range(args.start, args.start + args.reps)
        for v in args.designs
    ]
    t0 = time.perf_counter()
    parts = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for i, part in enumerate(pool.map(_run, jobs), start=1):
            parts.append(part)
            if i % 10 == 0 or i == len(jobs):
                # Partial results on disk: a stopped run is still usable.
                pd.concat(parts).to_csv(out / "records.csv", index=False)
                print(f"{i}/{len(jobs)} replicates, {time.perf_counter() - t0:.0f} s", flush=True)
    wall = time.perf_counter() - t0
    records = pd.concat(parts, ignore_index=True)
    records.to_csv(out / "records.csv", index=False)
    _report(records, out, f"{wall:.0f} s wall", args.workers)


def _report(records: pd.DataFrame, out: Path, run: str, workers: int) -> None:
    """Summary table (CSV, markdown, printed) and time per replicate."""
    summary = summarise(records)
    summary.to_csv(out / "summary.csv", index=False)
    per_rep = records.drop_duplicates(["design", "seed"]).groupby("design")
    cpu, wall_rep = per_rep["cpu_seconds"].mean(), per_rep["seconds"].mean()
    note = (
        "Replicates per design: "
        + ", ".join(f"{k} {n}" for k, n in per_rep.size().items())
        + f" ({run}). Per replicate, CPU s (wall s in a worker): "
        + ", ".join(f"{k} {cpu[k]:.1f} ({wall_rep[k]:.1f})" for k in cpu.index)
        + f". 500 per design on {workers} free cores: ≈ "
        f"{500 * cpu.sum() / workers / 60:.0f} min."
    )
    (out / "summary.md").write_text(_markdown(summary) + "\n" + note + "\n", encoding="utf-8")
    with pd.option_context("display.width", 220, "display.max_columns", 20):
        print(summary.to_string(index=False))
    print(note)


if __name__ == "__main__":
    main()
