"""Snakemake adapter: ingest one raw input with :mod:`sahel_eval.ingest`."""

import pandas as pd

from sahel_eval import ingest
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    kind = smk.params.kind
    cfg = smk.config
    if kind == "survey":
        ingest.ingest_survey(
            cfg,
            year=int(smk.wildcards.year),
            unit=smk.wildcards.unit,
            src=smk.input[0],
            out=smk.output.table,
            labels_out=smk.output.labels,
        )
    elif kind == "mutuals":
        ingest.ingest_mutuals(cfg, srcs=list(smk.input), out=smk.output[0])
    else:
        kwargs = {}
        if "facilities" in smk.input.keys():
            ids = pd.read_parquet(smk.input.facilities, columns=["orgunit_uid"])
            kwargs["facility_ids"] = ids["orgunit_uid"].tolist()
        ingest.SINGLE_FILE_INGESTERS[kind](cfg, src=smk.input[0], out=smk.output[0], **kwargs)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
