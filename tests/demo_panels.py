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
from sahel_eval.clean.in_process import FacilityRun, clean_in_process
from sahel_eval.config import load_config
from sahel_eval.synth.config import config_for_raw

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "data" / "raw"


def demo_config() -> dict:
    """The repository config with absolute input paths and the demo export's UIDs."""
    return config_for_raw(load_config(REPO / "config" / "config.yaml"), RAW)


@lru_cache(maxsize=1)
def demo_run() -> FacilityRun:
    """The demo's interim tables, cleaning result and panels, computed once a session."""
    return clean_in_process(demo_config())


@lru_cache(maxsize=1)
def demo_tables() -> dict:
    """Config, truth, panels, events and mutual registers of the demo."""
    config = demo_config()
    run = demo_run()
    return {
        "config": config,
        "truth": json.loads((RAW / "truth.json").read_text(encoding="utf-8")),
        "panels": run.panels,
        "events": ingest.ingest_events(config),
        "mutuals": ingest.ingest_mutuals(config),
    }


def unadjusted_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel over the catchment population as given (``_unadjusted`` columns).

    truth.json plants effects on rates over that population, and the demo's counts do
    not respond to displacement: a check against a planted effect compares on that scale.
    """
    extra = [c for c in panel.columns if c.endswith("_unadjusted")]
    if not extra:
        return panel
    out = panel.drop(columns=[c.removesuffix("_unadjusted") for c in extra])
    return out.rename(columns={c: c.removesuffix("_unadjusted") for c in extra})[
        [c for c in panel.columns if c not in extra]
    ]


def truth_frame(truth: dict, key: str) -> pd.DataFrame:
    """A list-valued truth entry as a frame, ``orgunit_uid`` renamed ``facility_id``."""
    return pd.DataFrame(truth[key]).rename(columns={"orgunit_uid": "facility_id"})
