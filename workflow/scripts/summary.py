"""Snakemake adapter: results/summary/{area}.json and the support list (CSV, XLSX, LaTeX),
coded and, per report language, labelled as the reports print it."""

import json
from pathlib import Path

import pandas as pd

from sahel_eval.io.outputs import write_json
from sahel_eval.report.summary import build_summary
from sahel_eval.report.summary_actions import SUPPORT_COLUMNS
from sahel_eval.report.support_annex import support_annex
from sahel_eval.report.tables import write_table
from sahel_eval.rule_runner import run_rule
from sahel_eval.text.i18n import translate


def main(smk) -> None:
    config, area = smk.params.config, smk.wildcards.area
    summary = build_summary(
        area=area,
        config=config,
        estimates=[json.loads(Path(p).read_text("utf-8")) for p in smk.input.estimates],
        aggregates=pd.read_csv(smk.input.aggregates),
        shocks=pd.read_csv(smk.input.shocks, dtype={"onset": "str"}),
        comparison=json.loads(Path(smk.input.comparison).read_text("utf-8")),
        kpis=pd.read_csv(smk.input.kpis),
        persistence=pd.read_csv(smk.input.persistence, dtype={"end_month": "str"}),
        indicators=pd.read_csv(smk.input.indicators, dtype={"onset": str}),
        completeness_district=pd.read_csv(smk.input.completeness),
        reporting_status=pd.read_csv(smk.input.status),
        facilities=pd.read_parquet(smk.input.facilities),
        programmes=pd.read_parquet(smk.input.programmes),
    )
    write_json(summary, smk.output.summary)
    support = pd.DataFrame(summary["support"], columns=list(SUPPORT_COLUMNS))
    support["services"] = support["services"].map(";".join)
    write_table(
        support,
        Path(smk.output.summary).parent,
        f"{area}_support",
        caption=f"CSCOMs that need support, {area}",
    )
    # The same list as the reports print it, per language (the attached annex).
    for lang in config["reporting"]["languages"]:
        write_table(
            support_annex(summary, lang),
            Path(smk.output.summary).parent,
            f"{area}_support_{lang}",
            caption=translate("summary.support.caption", lang),
        )


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
