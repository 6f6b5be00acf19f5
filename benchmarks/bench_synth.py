"""Time, peak memory and size of the synthetic data generator at a given scale.

Usage: ``python benchmarks/bench_synth.py [--scale national] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from sahel_eval.synth import generate


def main() -> None:
    """Generate once and print wall time, peak RSS, rows and size on disk."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", default="national")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix=f"synth-{args.scale}-"))
    t0 = time.perf_counter()
    truth = generate(out, scale=args.scale)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    with __import__("gzip").open(out / "dhis2_datavalues.csv.gz", "rt") as fh:
        rows = sum(1 for _ in fh) - 1
    print(f"scale={args.scale} facilities={truth['facilities']['n']} out={out}")
    print(
        f"wall_time_s={wall:.1f} peak_rss_mb={peak_mb:.0f} size_mb={size / 2**20:.1f} "
        f"dhis2_rows={rows} rows_per_s={rows / wall:,.0f}"
    )


if __name__ == "__main__":
    main()
