"""Snakemake adapter: resilience indicators of one area (DESIGN §7)."""

import logging

import pandas as pd

from sahel_eval.io.outputs import rounded, write_csv
from sahel_eval.io.parquet import write_parquet
from sahel_eval.resilience.settings import ResilienceSettings
from sahel_eval.resilience.shocks import shocks_from_config
from sahel_eval.resilience.table import resilience_table
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    panel = pd.read_parquet(smk.input.panel)
    shocks = shocks_from_config(smk.params.config, pd.read_parquet(smk.input.events))
    res = resilience_table(panel, shocks, ResilienceSettings.from_config(smk.params.config))
    logging.getLogger("sahel_eval").info("resilience timings (s): %s", res.timings)
    write_csv(res.indicators, smk.output.indicators)
    write_csv(res.shocks, smk.output.shocks)
    write_parquet(rounded(res.windows), smk.output.windows)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
