"""Snakemake adapter: render reports/technical_{area}_{lang}.html from results files."""

import json
from pathlib import Path

import pandas as pd

from sahel_eval.report.data_quality import DQReportSettings, data_quality_context, read_dq_tables
from sahel_eval.report.provenance import collect_provenance
from sahel_eval.report.technical import read_documents, render_technical, technical_context
from sahel_eval.report.technical_tables import area_analyses, read_tables
from sahel_eval.rule_runner import run_rule


def _figures(smk, config, area: str, lang: str) -> dict[str, str]:
    """The figures of one language, by the names the technical report uses."""
    own = [f for f in smk.input.keys() if f.endswith("figures")]
    files = {Path(p).name: p for key in own for p in smk.input[key] if Path(p).parent.name == lang}
    figures = {
        "resilience_facility": files[f"resilience_{area}_facility.svg"],
        "resilience_district": files[f"resilience_{area}_district.svg"],
        "resilience_tau": files[f"resilience_{area}_tau.svg"],
        "mutual_kpis": files["mutual_kpis.svg"],
        "trends": files[f"resilience_{area}_trends.svg"],
        "dq_attrition": files[f"dq_{area}_attrition.svg"],
    }
    for spec in area_analyses(config, area):
        for outcome in spec["outcomes"]:
            name = f"did_{spec['name']}_{outcome}.svg"
            if name in files:
                figures[f"{spec['name']}:{outcome}"] = files[name]
            forest = f"did_{spec['name']}_subgroups_{outcome}.svg"
            if forest in files:
                figures[f"{spec['name']}:{outcome}:subgroups"] = files[forest]
    return figures


def main(smk) -> None:
    config, area = smk.params.config, smk.wildcards.area
    dq = data_quality_context(
        read_dq_tables({Path(p).stem: p for p in smk.input.dq}),
        pd.read_parquet(smk.input.facilities_interim),
        area,
        config["areas"][area]["districts"],
        DQReportSettings.from_config(config),
        {},
        area_label=config["areas"][area]["label"],
        places=config["areas"][area]["place"],
    )
    tables = read_tables({Path(p).stem: p for p in smk.input.tables if p.endswith(".csv")})
    documents = read_documents({Path(p).stem: p for p in smk.input.documents})
    event_time = {
        Path(p).name.removesuffix("_event_time.csv"): pd.read_csv(p) for p in smk.input.event_time
    }
    indicators = pd.read_csv(smk.input.indicators, dtype={"onset": str})
    facilities = pd.read_parquet(smk.input.facilities)
    summary = json.loads(Path(smk.input.summary).read_text("utf-8"))
    prov = collect_provenance(config, list(smk.input.raw), root=".")
    for lang, path in smk.output.items():
        context = technical_context(
            area,
            config,
            tables,
            documents=documents,
            event_time=event_time,
            dq=dq,
            indicators=indicators,
            facilities=facilities,
            figures=_figures(smk, config, area, lang),
            tables_dir=str(Path(smk.input.tables[0]).parent),
            summary=summary,
        )
        render_technical(context, prov, lang, path, synthetic=config["synthetic"])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
