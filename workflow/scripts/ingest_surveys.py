"""Snakemake adapter: ingest every survey recode file (round × unit) of the config."""

from sahel_eval import ingest
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    config = smk.params.config
    files = [(r["year"], e["unit"]) for r in config["inputs"]["surveys"] for e in r["files"]]
    # Inputs and outputs are listed in the config's order of rounds and files.
    for (year, unit), src, table, labels in zip(
        files, smk.input, smk.output.tables, smk.output.labels, strict=True
    ):
        ingest.ingest_survey(config, year=year, unit=unit, src=src, out=table, labels_out=labels)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
