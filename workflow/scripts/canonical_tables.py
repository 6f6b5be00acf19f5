"""Snakemake adapter: canonical tables that need no cleaning beyond ingest.

The master list and the population get their canonical columns; the other tables
(roll-out, events, mutual registers) are the typed ingest tables as they are.
"""

import pandas as pd

from sahel_eval.clean.canonical import facilities_table, population_table
from sahel_eval.io.parquet import write_parquet
from sahel_eval.rule_runner import run_rule

CANONICAL = {"facilities": facilities_table, "population": population_table}


def main(smk) -> None:
    for src, out in zip(smk.input, smk.output, strict=True):
        name = out.rsplit("/", 1)[-1].removesuffix(".parquet")
        frame = pd.read_parquet(src)
        write_parquet(CANONICAL[name](frame) if name in CANONICAL else frame, out)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
