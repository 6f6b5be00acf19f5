"""Wall time and peak memory of ``fit_expected`` at national scale.

1,400 facilities × 9 services = 12,600 series of 120 months; the model is fitted on
the 96 months before a shock at t = 97 (~10 % of months unreported) and predicts
H = 12 months with a 1,000-draw bootstrap interval. Numbers are printed, never
asserted (DESIGN §10). Run with ``OMP_NUM_THREADS=1 python benchmarks/bench_resilience_model.py``.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from sahel_eval.resilience.design import design_matrix
from sahel_eval.resilience.expected import fit_expected


def make_series(n: int, n_months: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Over-dispersed seasonal counts with ~10 % of months unreported."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, n_months + 1)
    moy = (t - 1) % 12 + 1
    beta = np.column_stack(
        [rng.uniform(1.0, 6.0, n), rng.normal(0.0, 0.05, n), rng.normal(0.0, 0.3, (n, 4))]
    )
    mu = np.exp(design_matrix(t, moy) @ beta.T).T
    y = rng.negative_binomial(mu / 0.5, 1 / 1.5).astype(float)
    reported = rng.random((n, n_months)) < 0.9
    y[~reported] = np.nan
    return y, reported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=1400)
    parser.add_argument("--services", type=int, default=9)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--family", default="poisson", choices=["poisson", "negbin"])
    args = parser.parse_args()

    n = args.facilities * args.services
    onset, horizon = args.months - 23, 12
    y, reported = make_series(n, args.months, seed=2024)
    t = np.arange(1, args.months + 1)
    moy = (t - 1) % 12 + 1
    usable = reported & (t < onset)[None, :]
    t_h = np.arange(onset, onset + horizon)

    tracemalloc.start()
    start = time.perf_counter()
    fit = fit_expected(
        y,
        usable,
        t,
        moy,
        horizon_t=t_h,
        horizon_month_of_year=(t_h - 1) % 12 + 1,
        family=args.family,
        n_boot=args.n_boot,
        seed=1,
    )
    wall = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"series               {n:,} ({args.facilities} × {args.services}), {args.months} months")
    print(f"family / n_boot      {args.family} / {args.n_boot}")
    print(f"assessable           {int(fit.assessable.sum()):,}")
    print(f"IRLS iterations      max {int(fit.n_iter.max())}, median {np.median(fit.n_iter):.0f}")
    print(f"wall time            {wall:.2f} s")
    print(f"peak traced memory   {peak / 2**20:.0f} MiB (numpy allocations in fit_expected)")
    print(f"peak RSS (process)   {rss:.0f} MiB")


if __name__ == "__main__":
    main()
