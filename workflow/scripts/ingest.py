"""Snakemake adapter: ingest the single-file inputs of one rule with :mod:`sahel_eval.ingest`.

Each named output is one kind of input (facilities, population, DHIS2 exports,
programmes, events, mutuals), ingested in output order: the master facility list
first, since population and roll-out rows must match its ids.
"""

from sahel_eval import ingest
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    config = smk.params.config
    facility_ids = None
    for kind, out in smk.output.items():
        if kind == "mutuals":
            ingest.ingest_mutuals(config, srcs=list(smk.input.mutuals), out=out)
            continue
        kwargs = {}
        if kind in ("population", "programmes"):
            kwargs["facility_ids"] = facility_ids
        frame = ingest.SINGLE_FILE_INGESTERS[kind](config, src=smk.input[kind], out=out, **kwargs)
        if kind == "facilities":
            facility_ids = frame["orgunit_uid"].tolist()


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
