"""Snakemake adapter: the data-quality table of one area's catchments with displacement."""

import pandas as pd

from sahel_eval.clean.denominators import area_displacement_table
from sahel_eval.io.outputs import write_csv
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    sites = smk.input.sites if "sites" in smk.input.keys() else None
    table = area_displacement_table(
        pd.read_parquet(smk.input.panel),
        pd.read_parquet(smk.input.population),
        None if sites is None else pd.read_parquet(sites),
        smk.params.config,
    )
    write_csv(table, smk.output[0])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
