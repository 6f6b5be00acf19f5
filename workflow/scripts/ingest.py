"""Snakemake adapter: ingest the single-file inputs of one rule with :mod:`sahel_eval.ingest`.

Each named output is one kind of input (facilities, population, district projections,
DHIS2 exports, programmes, events, mutuals, displacement sites), ingested in output
order: the master facility list first, since population and roll-out rows must match its
ids (and the district projections its districts), and the data values
before the roll-out, which must start after their first month. Every table is
validated before any is written, so a bad file leaves no partial output.
"""

import pandas as pd

from sahel_eval import ingest
from sahel_eval.io.parquet import write_parquet
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    config = smk.params.config
    frames = {}
    for kind in smk.output.keys():
        if kind == "mutuals":
            frames[kind] = ingest.ingest_mutuals(config, srcs=list(smk.input.mutuals))
            continue
        if kind == "displacement_sites":
            facilities = pd.read_parquet(smk.input.facilities)
            frames[kind] = ingest.ingest_displacement_sites(
                config, facilities=facilities, src=smk.input[kind]
            )
            continue
        kwargs = {}
        if kind in ("population", "programmes"):
            facilities = frames.get("facilities")
            kwargs["facility_ids"] = (
                None if facilities is None else facilities["orgunit_uid"].tolist()
            )
        if kind == "programmes":
            kwargs["datavalues"] = frames.get("dhis2_datavalues")
        if kind == "district_population":
            kwargs["districts"] = frames["facilities"]["district"].unique().tolist()
        frames[kind] = ingest.SINGLE_FILE_INGESTERS[kind](config, src=smk.input[kind], **kwargs)
    for kind, frame in frames.items():
        write_parquet(frame, smk.output[kind])


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
