"""Snakemake adapter: render reports/data_quality_{area}_{lang}.html in every language."""

from pathlib import Path

import pandas as pd

from sahel_eval.report.data_quality import (
    DQReportSettings,
    data_quality_context,
    read_dq_tables,
    render_data_quality,
)
from sahel_eval.report.dq_displacement import displacement_context, read_displacement_table
from sahel_eval.report.provenance import collect_provenance
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    config, area = smk.params.config, smk.wildcards.area
    tables = read_dq_tables({Path(p).stem: p for p in smk.input.dq})
    facilities = pd.read_parquet(smk.input.facilities)
    prov = collect_provenance(config, list(smk.input.raw), root=".")
    displacement = displacement_context(
        read_displacement_table(smk.input.denominators), facilities, config
    )
    for lang, path in smk.output.items():
        # Figures of this language, by name (dq_{area}_{name}.svg).
        figures = {
            Path(f).stem.rsplit("_", 1)[-1]: f
            for f in smk.input.figures
            if Path(f).parent.name == lang
        }
        context = data_quality_context(
            tables,
            facilities,
            area,
            config["areas"][area]["districts"],
            DQReportSettings.from_config(config),
            figures,
            area_label=config["areas"][area]["label"],
            places=config["areas"][area]["place"],
        ) | {"displacement": displacement}
        render_data_quality(context, prov, lang, path, synthetic=config["synthetic"])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
