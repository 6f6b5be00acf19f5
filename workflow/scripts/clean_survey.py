"""Snakemake adapter: harmonise every round of one survey unit (DESIGN §4)."""

import json

import pandas as pd

from sahel_eval.clean.survey import clean_survey_rounds
from sahel_eval.clean.survey_settings import SurveySettings, programme_districts
from sahel_eval.io.parquet import write_parquet
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    districts = programme_districts(
        pd.read_parquet(smk.input.programmes), pd.read_parquet(smk.input.facilities)
    )
    settings = SurveySettings.from_config(smk.config, districts)
    parts = []
    for table, labels in zip(smk.input.tables, smk.input.labels, strict=True):
        with open(labels, encoding="utf-8") as fh:
            parts.append((pd.read_parquet(table), json.load(fh)))
    unit = smk.wildcards.unit
    frame = clean_survey_rounds(
        parts, unit=unit, variables=smk.config["survey"]["variables"][unit], settings=settings
    )
    write_parquet(frame, smk.output[0])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
