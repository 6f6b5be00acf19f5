"""Snakemake adapter: mutual KPI trends, one figure per language (outputs named by language)."""

import pandas as pd

from sahel_eval.figures.style import save_svg
from sahel_eval.figures.sustainability import kpi_trends_figure
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    kpis = pd.read_csv(smk.input[0])
    thresholds = smk.params.config["sustainability"]["kpi_thresholds"]
    for lang, path in smk.output.items():
        save_svg(kpi_trends_figure(kpis, thresholds, lang=lang), path)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
