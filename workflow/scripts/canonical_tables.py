"""Snakemake adapter: canonical tables that need no cleaning beyond ingest."""

import pandas as pd

from sahel_eval.clean.canonical import facilities_table, population_table
from sahel_eval.io.parquet import write_parquet
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    write_parquet(facilities_table(pd.read_parquet(smk.input.facilities)), smk.output.facilities)
    write_parquet(population_table(pd.read_parquet(smk.input.population)), smk.output.population)
    for name in ("programmes", "events", "mutuals"):
        write_parquet(pd.read_parquet(smk.input[name]), smk.output[name])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
