"""Snakemake adapter: render reports/technical_{area}_{lang}.html from results files."""

from pathlib import Path

import pandas as pd

from sahel_eval.report.data_quality import DQReportSettings, data_quality_context, read_dq_tables
from sahel_eval.report.provenance import collect_provenance
from sahel_eval.report.technical import read_documents, render_technical, technical_context
from sahel_eval.report.technical_tables import area_analyses, read_tables
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    area, lang = smk.wildcards.area, smk.wildcards.lang
    config = smk.config
    districts = config["areas"][area]["districts"]
    dq = data_quality_context(
        read_dq_tables({Path(p).stem: p for p in smk.input.dq}),
        pd.read_parquet(smk.input.facilities_interim),
        area,
        districts,
        DQReportSettings.from_config(config),
        {},
    )
    figures = {
        name: smk.input[name]
        for name in (
            "resilience_facility",
            "resilience_district",
            "resilience_tau",
            "mutual_kpis",
            "dq_attrition",
        )
    }
    did = {Path(p).name: p for p in smk.input.did_figures}
    for spec in area_analyses(config, area):
        for outcome in spec["outcomes"]:
            name = f"did_{spec['name']}_{outcome}.svg"
            if name in did:
                figures[f"{spec['name']}:{outcome}"] = did[name]
    context = technical_context(
        area,
        config,
        read_tables({Path(p).stem: p for p in smk.input.tables if p.endswith(".csv")}),
        documents=read_documents({Path(p).stem: p for p in smk.input.documents}),
        event_time={
            Path(p).name.removesuffix("_event_time.csv"): pd.read_csv(p)
            for p in smk.input.event_time
        },
        dq=dq,
        indicators=pd.read_csv(smk.input.indicators, dtype={"onset": str}),
        facilities=pd.read_parquet(smk.input.facilities),
        figures=figures,
        tables_dir=str(Path(smk.input.tables[0]).parent),
    )
    prov = collect_provenance(config, list(smk.input.raw), root=".")
    render_technical(context, prov, lang, smk.output[0], synthetic=config["synthetic"])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
