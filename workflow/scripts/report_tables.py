"""Snakemake adapter: the technical report's tables of one area (CSV, XLSX, LaTeX)."""

import json
from pathlib import Path

import pandas as pd

from sahel_eval.products import REPORT_TABLES
from sahel_eval.report.tables import write_table
from sahel_eval.report.technical_tables import build_tables
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    area = smk.wildcards.area
    by_name = {Path(p).stem: p for p in smk.input.estimates}
    tables = build_tables(
        area,
        smk.params.config,
        estimates={name: pd.read_csv(p) for name, p in by_name.items()},
        documents={
            Path(p).stem: json.loads(Path(p).read_text("utf-8")) for p in smk.input.documents
        },
        panel=pd.read_parquet(smk.input.panel),
        surveys={
            Path(p).stem.removeprefix("survey_"): pd.read_parquet(p) for p in smk.input.surveys
        },
        aggregates=pd.read_csv(smk.input.aggregates),
        shocks=pd.read_csv(smk.input.shocks, dtype={"onset": str}),
        comparison=json.loads(Path(smk.input.comparison).read_text("utf-8")),
        persistence=pd.read_csv(smk.input.persistence),
        mutual_kpis=pd.read_csv(smk.input.mutual_kpis),
        facilities=pd.read_parquet(smk.input.facilities),
    )
    out_dir = Path(smk.output[0]).parent
    for name, caption in REPORT_TABLES.items():
        write_table(tables[name], out_dir, name, caption=caption)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
