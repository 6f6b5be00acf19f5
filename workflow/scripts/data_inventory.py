"""Snakemake adapter: render reports/data_inventory_{lang}.html."""

from sahel_eval.report.inventory import interim_descriptors, inventory_rows, render_inventory
from sahel_eval.report.provenance import collect_provenance
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    interim = {k: v for k, v in smk.input.items() if k != "raw"}
    rows = inventory_rows(interim_descriptors(smk.config, interim), root=".")
    prov = collect_provenance(smk.config, list(smk.input.raw), root=".")
    render_inventory(
        rows, prov, smk.wildcards.lang, smk.output[0], synthetic=smk.config["synthetic"]
    )


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
