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

import argparse
import resource
import time
import tracemalloc
from pathlib import Path

import pandas as pd
from bench_clean import _config

from sahel_eval import ingest
from sahel_eval.clean.facility_month import CleanSettings, clean_facility_data
from sahel_eval.clean.panels import build_panel
from sahel_eval.resilience.aggregate import aggregate_resilience
from sahel_eval.resilience.run import ResilienceSettings, resilience_table, shocks_from_config


def main() -> None:
    """Clean once, then run and time the resilience stage on the national panel."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", default="/tmp/national", type=Path)
    args = ap.parse_args()
    config = _config(args.raw)
    config["inputs"]["events"] = str(args.raw / "events.csv")
    facilities = ingest.ingest_facilities(config)
    clean = clean_facility_data(
        ingest.ingest_dhis2_datavalues(config),
        ingest.ingest_dhis2_completeness(config),
        facilities,
        CleanSettings.from_config(config),
        orgunit_mapping=args.raw / "orgunit_mapping.csv",
    )
    fm = clean.facility_month
    panel = build_panel(
        fm,
        facilities,
        ingest.ingest_population(config),
        ingest.ingest_programmes(config),
        districts=sorted(facilities["district"].astype(str).unique()),
        programme="I3S",
    )
    outliers = fm.loc[fm["outlier"], ["facility_id", "period", "indicator"]].rename(
        columns={"period": "month"}
    )
    events = ingest.ingest_events(config)
    del clean, fm

    settings = ResilienceSettings.from_config(config)
    tracemalloc.start()
    t0 = time.perf_counter()
    shocks = shocks_from_config(config, events)
    res = resilience_table(panel, shocks, settings, exclude=outliers)
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
