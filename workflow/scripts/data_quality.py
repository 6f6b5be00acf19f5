"""Snakemake adapter: render reports/data_quality_{area}_{lang}.html from results/dq/."""

from pathlib import Path

import pandas as pd

from sahel_eval.report.data_quality import (
    DQReportSettings,
    data_quality_context,
    read_dq_tables,
    render_data_quality,
)
from sahel_eval.report.provenance import collect_provenance
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    area = smk.wildcards.area
    paths = {Path(p).stem: p for p in smk.input.dq}
    context = data_quality_context(
        read_dq_tables(paths),
        pd.read_parquet(smk.input.facilities),
        area,
        smk.config["areas"][area]["districts"],
        DQReportSettings.from_config(smk.config),
        {name: smk.input[name] for name in ("heatmap", "reporting", "attrition")},
    )
    prov = collect_provenance(smk.config, list(smk.input.raw), root=".")
    render_data_quality(
        context, prov, smk.wildcards.lang, smk.output[0], synthetic=smk.config["synthetic"]
    )


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
