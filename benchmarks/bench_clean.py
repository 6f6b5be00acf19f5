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
import json
import resource
import time
from pathlib import Path

from sahel_eval import ingest
from sahel_eval.clean.dq import dq_tables
from sahel_eval.clean.facility_month import CleanSettings, clean_facility_data
from sahel_eval.clean.panels import build_panels
from sahel_eval.config import load_config

REPO = Path(__file__).resolve().parents[1]


def _config(raw: Path) -> dict:
    config = load_config(REPO / "config" / "config.yaml")
    for name, file in (
        ("facilities", "facilities.csv"),
        ("population", "population.csv"),
        ("dhis2_datavalues", "dhis2_datavalues.csv.gz"),
        ("dhis2_completeness", "dhis2_completeness.csv"),
        ("programmes", "programmes.csv"),
    ):
        config["inputs"][name] = str(raw / file)
    truth = json.loads((raw / "truth.json").read_text(encoding="utf-8"))
    mapping: dict[str, list[dict[str, str]]] = {}
    for row in truth["dhis2"]["rows"]:
        for ind in row["indicators"]:
            mapping.setdefault(ind, []).append(
                {
                    "data_element": row["dataelement"],
                    "category_option_combo": row["categoryoptioncombo"],
                }
            )
    config["dhis2"]["indicators"] = mapping
    config["dhis2"]["dataset"] = truth["dhis2"]["dataset"]
    return config


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Ingest and clean once; print time per stage and peak memory."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", default="/tmp/national", type=Path)
    args = ap.parse_args()
    config = _config(args.raw)
    times: dict[str, float] = {}

    t0 = time.perf_counter()
    facilities = ingest.ingest_facilities(config)
    population = ingest.ingest_population(config)
    programmes = ingest.ingest_programmes(config)
    datavalues = ingest.ingest_dhis2_datavalues(config)
    registrations = ingest.ingest_dhis2_completeness(config)
    times["ingest"] = time.perf_counter() - t0
    mem_ingest = _peak_mb()

    t0 = time.perf_counter()
    clean = clean_facility_data(
        datavalues,
        registrations,
        facilities,
        CleanSettings.from_config(config),
        orgunit_mapping=args.raw / "orgunit_mapping.csv",
    )
    times["clean_facility_month"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    tables = dq_tables(clean, facilities, programmes)
    times["dq_tables"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    panels = build_panels(clean.facility_month, facilities, population, programmes, config)
    times["panels"] = time.perf_counter() - t0

    print(
        f"raw={args.raw} facilities={len(facilities)} datavalue_rows={len(datavalues)} "
        f"facility_month_rows={len(clean.facility_month)} dq_tables={len(tables)} "
        + " ".join(f"panel_{a}_rows={len(p)}" for a, p in panels.items())
    )
    print(
        " ".join(f"{k}_s={v:.1f}" for k, v in times.items()) + f" total_s={sum(times.values()):.1f}"
    )
    print(f"peak_rss_mb_after_ingest={mem_ingest:.0f} peak_rss_mb={_peak_mb():.0f}")


if __name__ == "__main__":
    main()
