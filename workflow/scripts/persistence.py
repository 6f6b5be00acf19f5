"""Snakemake adapter: persistence of programme effects after the funding ends (DESIGN §8)."""

import pandas as pd

from sahel_eval.io.outputs import write_csv
from sahel_eval.rule_runner import run_rule
from sahel_eval.sustainability import persistence_table


def main(smk) -> None:
    panels = {
        area: pd.read_parquet(path)
        for area, path in zip(smk.params.areas, smk.input.panels, strict=True)
    }
    fm = pd.read_parquet(
        smk.input.facility_month, columns=["facility_id", "period", "indicator", "outlier"]
    )
    exclude = fm.loc[fm["outlier"], ["facility_id", "period", "indicator"]].rename(
        columns={"period": "month"}
    )
    write_csv(persistence_table(panels, smk.config, exclude=exclude), smk.output[0])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
