"""Snakemake adapter: draw results/figures/{lang}/dq_{area}_*.svg from results/dq/."""

from pathlib import Path

import pandas as pd

from sahel_eval.figures.dq import write_dq_figures
from sahel_eval.report.data_quality import DQReportSettings, read_dq_tables
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    config = smk.params.config
    tables = read_dq_tables({Path(p).stem: p for p in smk.input.dq})
    facilities = pd.read_parquet(smk.input.facilities)
    settings = DQReportSettings.from_config(config)
    for lang in smk.params.languages:
        write_dq_figures(
            tables,
            config["areas"][smk.wildcards.area]["districts"],
            lang,
            {name: smk.output[f"{lang}_{name}"] for name in ("heatmap", "reporting", "attrition")},
            completeness_target=settings.completeness_target,
            timeliness_target=settings.timeliness_target,
            inactive_months=settings.inactive_months,
            names=dict(zip(facilities["orgunit_uid"], facilities["orgunit_name"], strict=True)),
        )


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
