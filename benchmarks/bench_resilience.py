"""Time and peak memory of the resilience stage at national scale.

Usage::

    python -m sahel_eval.synth --out /tmp/national --scale national   # once, ≈ 50 s
    OMP_NUM_THREADS=1 python benchmarks/bench_resilience.py [--raw /tmp/national]

Ingests and cleans ``--raw`` once (as ``benchmarks/bench_clean.py``, not timed
here), stacks every area's panel into one national panel, then times the resilience
stage (shock table, batched expected-volume fits with the bootstrap interval,
indicators, aggregates) with the config's settings. Prints wall time per step, series
count and peak memory (``tracemalloc`` peak of the stage, and the process's resident
peak, which includes the interpreter, imports and the cleaning).
"""

from __future__ import annotations

import resource
import time
import tracemalloc

import pandas as pd
from bench_clean import raw_config

from sahel_eval import ingest
from sahel_eval.clean.in_process import clean_in_process
from sahel_eval.clean.panels import build_panel
from sahel_eval.resilience.aggregate import aggregate_resilience
from sahel_eval.resilience.settings import ResilienceSettings
from sahel_eval.resilience.shocks import shocks_from_config
from sahel_eval.resilience.table import resilience_table


def main() -> None:
    """Clean once, then run and time the resilience stage on the national panel."""
    _, config = raw_config()
    run = clean_in_process(config)
    panel = build_panel(
        run.clean.facility_month,
        run.facilities,
        run.population,
        run.programmes,
        districts=sorted(run.facilities["district"].astype(str).unique()),
        programme="I3S",
    )
    events = ingest.ingest_events(config)
    del run

    settings = ResilienceSettings.from_config(config)
    tracemalloc.start()
    t0 = time.perf_counter()
    shocks = shocks_from_config(config, events)
    res = resilience_table(panel, shocks, settings)
    t_res = time.perf_counter() - t0
    t1 = time.perf_counter()
    agg = aggregate_resilience(res.indicators, area="national")
    t_agg = time.perf_counter() - t1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    ind = res.indicators
    print(
        f"panel: {panel['facility_id'].nunique()} facilities × {panel['t'].max()} months; "
        f"shocks: {len(shocks)} ({(shocks['kind'] == 'local').sum()} local)"
    )
    print(
        f"series: {len(ind)} (facility × service × shock), assessable "
        f"{ind['assessable'].sum()}; bootstrap draws {settings.bootstrap_draws}"
    )
    print(
        f"resilience_table: {t_res:.1f} s (fit {res.timings['fit']:.1f} s, indicators "
        f"{res.timings['indicators']:.1f} s); aggregates: {t_agg:.1f} s ({len(agg)} rows)"
    )
    print(f"peak traced memory of the stage: {peak / 2**20:.0f} MiB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (incl. cleaning): {rss:.0f} MiB")
    print(pd.Series(ind["class"]).value_counts().to_string())


if __name__ == "__main__":
    main()
