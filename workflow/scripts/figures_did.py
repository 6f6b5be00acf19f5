"""Snakemake adapter: draw one analysis's DiD figures, every outcome and language.

Outputs are named ``{lang}_{outcome}`` (results/figures/{lang}/did_{analysis}_{outcome}.svg)
and, with subgroups, ``{lang}_subgroups_{outcome}`` (the forest figures).
"""

import json
from pathlib import Path

import pandas as pd

from sahel_eval.figures.did import facility_figure, survey_figure
from sahel_eval.figures.event_time import event_window
from sahel_eval.figures.style import save_svg
from sahel_eval.figures.subgroups import subgroup_forest
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    spec = smk.params.spec
    estimates = pd.read_csv(smk.input.estimates)
    event_time = pd.read_csv(smk.input.event_time)
    document = json.loads(Path(smk.input.document).read_text("utf-8"))
    months = None
    if spec["data"] == "facility":
        panel = pd.read_parquet(smk.input.panel, columns=["t", "month"]).drop_duplicates("t")
        months = {int(t): str(m) for t, m in zip(panel["t"], panel["month"], strict=True)}
    for lang in smk.params.languages:
        for outcome in spec["outcomes"]:
            if months is None:
                fig = survey_figure(estimates, outcome, lang=lang)
            else:
                fig = facility_figure(
                    estimates,
                    event_time,
                    outcome,
                    lang=lang,
                    cohort_months=months,
                    window=event_window(document),
                    unit=document["units"][outcome],
                )
            save_svg(fig, smk.output[f"{lang}_{outcome}"])
    if "subgroups" in document:
        section = document["subgroups"]
        for lang in smk.params.languages:
            for outcome in section["outcomes"]:
                fig = subgroup_forest(section, outcome, lang=lang)
                save_svg(fig, smk.output[f"{lang}_subgroups_{outcome}"])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
