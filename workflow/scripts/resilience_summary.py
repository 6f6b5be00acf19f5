"""Snakemake adapter: resilience aggregates and the programme comparison of one area."""

import pandas as pd

from sahel_eval.io.outputs import write_csv, write_json
from sahel_eval.resilience.aggregate import aggregate_resilience, compare_programme
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    ind = pd.read_csv(smk.input.indicators, dtype={"onset": str, "tau": "Int64"})
    write_csv(aggregate_resilience(ind, area=smk.wildcards.area), smk.output.aggregates)
    cfg = smk.params.config
    comparison = compare_programme(
        ind,
        service=cfg["resilience"]["essential_services"][0],
        seed=cfg["seeds"]["bootstrap"],
        level=1 - cfg["reporting"]["test_level"],
    )
    comparison["area"] = smk.wildcards.area
    write_json(comparison, smk.output.comparison)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
