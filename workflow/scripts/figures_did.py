"""Snakemake adapter: draw results/figures/{lang}/did_{analysis}_{outcome}.svg."""

import pandas as pd

from sahel_eval.figures.did import facility_figure, survey_figure
from sahel_eval.figures.style import save_svg
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    lang, outcome = smk.wildcards.lang, smk.wildcards.outcome
    estimates = pd.read_csv(smk.input.estimates)
    if smk.params.spec["data"] == "survey":
        fig = survey_figure(estimates, outcome, lang=lang)
    else:
        panel = pd.read_parquet(smk.input.panel, columns=["t", "month"]).drop_duplicates("t")
        months = {int(t): str(m) for t, m in zip(panel["t"], panel["month"], strict=True)}
        fig = facility_figure(
            estimates,
            pd.read_csv(smk.input.event_time),
            outcome,
            lang=lang,
            cohort_months=months,
        )
    save_svg(fig, smk.output[0])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
