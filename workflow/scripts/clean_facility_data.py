"""Snakemake adapter: facility cleaning (DESIGN §5) → facility_month and the DQ tables."""

from pathlib import Path

import pandas as pd

from sahel_eval.clean.dq import dq_tables
from sahel_eval.clean.facility_month import CleanSettings, clean_facility_data
from sahel_eval.io.outputs import write_csv
from sahel_eval.io.parquet import write_parquet
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    facilities = pd.read_parquet(smk.input.facilities)
    settings = CleanSettings.from_config(smk.params.config)
    clean = clean_facility_data(
        pd.read_parquet(smk.input.datavalues),
        pd.read_parquet(smk.input.completeness),
        facilities,
        settings,
        orgunit_mapping=smk.input.get("mapping"),
        datavalues_source=smk.params.config["inputs"]["dhis2_datavalues"],
        registrations_source=smk.params.config["inputs"]["dhis2_completeness"],
    )
    tables = dq_tables(clean, facilities, pd.read_parquet(smk.input.programmes), settings)
    for path in smk.output.dq:
        write_csv(tables[Path(path).stem], path)
    write_parquet(clean.facility_month, smk.output.facility_month)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
