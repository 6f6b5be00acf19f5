"""Snakemake adapter: persistence of programme effects after the funding ends (DESIGN §8).

The ratios come from the DiD analyses' documents (one implementation,
``sahel_eval.did.persistence``); this rule lays them out as a table.
"""

import json

from sahel_eval.io.outputs import write_csv
from sahel_eval.rule_runner import run_rule
from sahel_eval.sustainability import persistence_table


def main(smk) -> None:
    docs = [json.loads(open(path, encoding="utf-8").read()) for path in smk.input.documents]
    write_csv(persistence_table(docs), smk.output[0])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
