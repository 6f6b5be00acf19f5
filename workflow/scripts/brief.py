"""Snakemake adapter: render reports/brief_{area}_{lang}.html from the results files."""

import json

import pandas as pd

from sahel_eval.report.brief import brief_context, read_estimates, render_brief
from sahel_eval.report.provenance import collect_provenance
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    area, lang = smk.wildcards.area, smk.wildcards.lang
    with open(smk.input.comparison, encoding="utf-8") as handle:
        comparison = json.load(handle)
    context = brief_context(
        area=area,
        config=smk.config,
        estimates=read_estimates(smk.input.estimates),
        aggregates=pd.read_csv(smk.input.aggregates),
        shocks=pd.read_csv(smk.input.shocks, dtype={"onset": "str"}),
        comparison=comparison,
        kpis=pd.read_csv(smk.input.kpis),
        persistence=pd.read_csv(smk.input.persistence, dtype={"end_month": "str"}),
    )
    prov = collect_provenance(smk.config, list(smk.input.raw), root=".")
    render_brief(context, prov, lang, smk.output[0], synthetic=smk.config["synthetic"])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
