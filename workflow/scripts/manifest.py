"""Snakemake adapter: reports/manifest.sha256, the SHA-256 of every result and report."""

from sahel_eval.report.manifest import write_manifest
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    write_manifest(smk.output[0], ".", required=list(smk.input))


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
