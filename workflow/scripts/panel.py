"""Snakemake adapter: the analysis panel of one area (DESIGN §4)."""

import pandas as pd

from sahel_eval.clean.panels import panel_for_area
from sahel_eval.io.parquet import write_parquet
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    sites = smk.input.sites if "sites" in smk.input.keys() else None
    panel = panel_for_area(
        pd.read_parquet(smk.input.facility_month),
        pd.read_parquet(smk.input.facilities),
        pd.read_parquet(smk.input.population),
        pd.read_parquet(smk.input.programmes),
        smk.params.config,
        smk.wildcards.area,
        sites=None if sites is None else pd.read_parquet(sites),
    )
    write_parquet(panel, smk.output[0])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
