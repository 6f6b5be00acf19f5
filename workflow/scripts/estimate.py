"""Snakemake adapter: run one configured DiD analysis with :mod:`sahel_eval.did.analyses`."""

import json
from pathlib import Path

import pandas as pd

from sahel_eval.did.analyses import (
    AnalysisSettings,
    analysis_document,
    round_frame,
    run_analysis,
)
from sahel_eval.io.parquet import atomic_paths, write_json_to
from sahel_eval.rule_runner import run_rule


def _write_csv(frame: pd.DataFrame, path) -> None:
    # Rounded floats and "\n" line ends: the same estimates give the same bytes.
    round_frame(frame).to_csv(path, index=False, lineterminator="\n")


def main(smk) -> None:
    spec = dict(smk.params.spec)
    settings = AnalysisSettings.from_config(smk.params.config)
    if spec["data"] == "facility":
        data = pd.read_parquet(smk.input.panel)
        if "sites" in smk.input.keys():
            settings = settings.with_displacement_sites(pd.read_parquet(smk.input.sites))
    else:
        data = {name: pd.read_parquet(smk.input[name]) for name in smk.input.keys()}
    out = run_analysis(spec, data, settings)
    truth = None
    if "truth" in smk.input.keys():
        truth = json.loads(Path(smk.input.truth).read_text(encoding="utf-8"))
    doc = analysis_document(out, truth)
    with atomic_paths(smk.output.csv, smk.output.json, smk.output.event_time) as (c, j, e):
        _write_csv(out.estimates, c)
        write_json_to(doc, j)
        _write_csv(out.event_time, e)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
