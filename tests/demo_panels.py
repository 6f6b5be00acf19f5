"""Demo analysis panels built in-process (ingest → clean → panels), for stage tests.

Faster than the whole Snakemake run (≈ 6 s) and independent of which rules the
Snakefile wires; the numbers are the same as the pipeline's.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

from sahel_eval import ingest
from sahel_eval.clean.facility_month import CleanSettings, clean_facility_data
from sahel_eval.clean.panels import build_panels
from sahel_eval.config import load_config

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "data" / "raw"


def demo_config() -> dict:
    """The repository config with absolute input paths and the demo export's UIDs."""
    config = load_config(REPO / "config" / "config.yaml")
    inputs = config["inputs"]
    for name in (
        "facilities",
        "population",
        "dhis2_datavalues",
        "dhis2_completeness",
        "programmes",
        "events",
    ):
        inputs[name] = str(REPO / inputs[name])
    inputs["mutuals"] = [str(REPO / p) for p in inputs["mutuals"]]
    truth = json.loads((RAW / "truth.json").read_text(encoding="utf-8"))
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


@lru_cache(maxsize=1)
def demo_tables() -> dict:
    """Config, truth, panels, outlier cells, events and mutual registers of the demo."""
    config = demo_config()
    facilities = ingest.ingest_facilities(config)
    clean = clean_facility_data(
        ingest.ingest_dhis2_datavalues(config),
        ingest.ingest_dhis2_completeness(config),
        facilities,
        CleanSettings.from_config(config),
        orgunit_mapping=RAW / "orgunit_mapping.csv",
    )
    fm = clean.facility_month
    panels = build_panels(
        fm, facilities, ingest.ingest_population(config), ingest.ingest_programmes(config), config
    )
    outliers = fm.loc[fm["outlier"], ["facility_id", "period", "indicator"]].rename(
        columns={"period": "month"}
    )
    return {
        "config": config,
        "truth": json.loads((RAW / "truth.json").read_text(encoding="utf-8")),
        "panels": panels,
        "outliers": outliers.reset_index(drop=True),
        "events": ingest.ingest_events(config),
        "mutuals": ingest.ingest_mutuals(config),
    }


def truth_frame(truth: dict, key: str) -> pd.DataFrame:
    """A list-valued truth entry as a frame, ``orgunit_uid`` renamed ``facility_id``."""
    return pd.DataFrame(truth[key]).rename(columns={"orgunit_uid": "facility_id"})
