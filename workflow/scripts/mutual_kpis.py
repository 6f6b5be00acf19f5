"""Snakemake adapter: mutual-insurance KPIs per mutual, scheme and year (DESIGN §8), and their
trend figure in every language (outputs named by language)."""

import pandas as pd

from sahel_eval.figures.style import save_svg
from sahel_eval.figures.sustainability import kpi_trends_figure
from sahel_eval.io.outputs import write_csv
from sahel_eval.rule_runner import run_rule
from sahel_eval.sustainability import consumption_per_person, mutual_kpis


def main(smk) -> None:
    settings = smk.params.config["sustainability"]
    thresholds = settings["kpi_thresholds"]
    registers = pd.read_parquet(smk.input.mutuals)
    households = pd.read_parquet(smk.input.households)
    registers["consumption_per_person"] = consumption_per_person(
        registers, households, smk.params.config["mutuals"]["areas"]
    )
    table = mutual_kpis(registers, thresholds, settings["kpi_not_applicable"])
    write_csv(table, smk.output.kpis)
    # The figure reads the table as written (rounded), as it did from its own job.
    kpis = pd.read_csv(smk.output.kpis)
    for lang in smk.params.languages:
        save_svg(kpi_trends_figure(kpis, thresholds, lang=lang), smk.output[lang])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
