"""Snakemake adapter: reports/run_metadata.json, the run date (kept out of the manifest)."""

from sahel_eval.report.manifest import write_run_metadata
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    write_run_metadata(smk.output[0], smk.input[0], root=".")


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
