"""Snakemake adapter: WHO DQR domains 3-4 (DESIGN §5) → results/dq/external_*.csv."""

from pathlib import Path

import pandas as pd

from sahel_eval.clean import dq_external as dx
from sahel_eval.io.outputs import write_csv
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    settings = dx.ExternalSettings.from_config(smk.params.config)
    facilities = pd.read_parquet(smk.input.facilities)
    catchment = dx.catchment_by_district(pd.read_parquet(smk.input.population), facilities)
    path = smk.input.get("district_population")
    projections = pd.read_parquet(path) if path else None
    births = pd.read_parquet(smk.input.births)
    routine = dx.routine_counts(pd.read_parquet(smk.input.facility_month), facilities)
    tables = {
        "external_consistency": dx.external_consistency(
            routine, catchment, projections, dx.survey_coverage(births, settings), settings
        ),
        "external_fertility": dx.fertility_consistency(
            pd.read_parquet(smk.input.households), births, settings
        ),
        "external_population": dx.population_consistency(
            catchment, projections, settings.population_bounds
        ),
    }
    for out in smk.output:
        write_csv(tables[Path(out).stem], out)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
