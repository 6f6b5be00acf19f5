"""Snakemake adapter: harmonise every round of each survey unit (DESIGN §4)."""

import json

import pandas as pd

from sahel_eval.clean.survey import clean_survey_rounds
from sahel_eval.clean.survey_settings import SurveySettings, programme_districts
from sahel_eval.io.parquet import write_parquet
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    config = smk.params.config
    districts = programme_districts(
        pd.read_parquet(smk.input.programmes), pd.read_parquet(smk.input.facilities)
    )
    settings = SurveySettings.from_config(config, districts)
    # Interim files come in the config's order of rounds, then files within a round.
    units = [e["unit"] for r in config["inputs"]["surveys"] for e in r["files"]]
    files = list(zip(units, smk.input.tables, smk.input.labels, strict=True))
    for unit, out in zip(smk.params.units, smk.output, strict=True):
        parts = []
        for file_unit, table, labels in files:
            if file_unit == unit:
                with open(labels, encoding="utf-8") as fh:
                    parts.append((pd.read_parquet(table), json.load(fh)))
        frame = clean_survey_rounds(
            parts, unit=unit, variables=config["survey"]["variables"][unit], settings=settings
        )
        write_parquet(frame, out)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
