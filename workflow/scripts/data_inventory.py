"""Snakemake adapter: render reports/data_inventory_{lang}.html in every language."""

from sahel_eval.report.inventory import interim_descriptors, inventory_rows, render_inventory
from sahel_eval.report.provenance import collect_provenance
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    config = smk.params.config
    interim = {k: v for k, v in smk.input.items() if k != "raw"}
    rows = inventory_rows(interim_descriptors(config, interim), root=".")
    prov = collect_provenance(config, list(smk.input.raw), root=".")
    for lang, path in smk.output.items():
        render_inventory(rows, prov, lang, path, synthetic=config["synthetic"])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
