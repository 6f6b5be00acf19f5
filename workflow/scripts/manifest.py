"""Snakemake adapter: reports/manifest.sha256 (the SHA-256 of every result and report),
then reports/run_metadata.json (the run date and the manifest's hash, kept out of it)."""

from sahel_eval.report.manifest import write_manifest, write_run_metadata
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    write_manifest(smk.output.manifest, ".", required=list(smk.input))
    write_run_metadata(smk.output.metadata, smk.output.manifest, root=".")


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
