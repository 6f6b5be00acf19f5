"""Snakemake adapter: mutual-insurance KPIs per mutual and year (DESIGN §8)."""

import pandas as pd

from sahel_eval.io.outputs import write_csv
from sahel_eval.rule_runner import run_rule
from sahel_eval.sustainability import mutual_kpis


def main(smk) -> None:
    thresholds = smk.params.config["sustainability"]["kpi_thresholds"]
    write_csv(mutual_kpis(pd.read_parquet(smk.input[0]), thresholds), smk.output[0])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
