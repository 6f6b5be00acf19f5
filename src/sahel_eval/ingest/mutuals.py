"""Ingest the mutual health insurance registers (headers mapped to canonical names)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sahel_eval import schemas
from sahel_eval.errors import InputError, Problem
from sahel_eval.ingest.common import (
    interim_table,
)
from sahel_eval.io import tables


def ingest_mutuals(
    config: Mapping[str, Any],
    *,
    srcs: Sequence[str | Path] | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """Mutual-insurance registers, headers mapped, all files stacked.

    Returns
    -------
    pandas.DataFrame
        One row per mutual, scheme and year, canonical names (``mutuals.columns``) plus
        ``source_file``; sorted by mutual, scheme and year.
    """
    srcs = list(srcs if srcs is not None else config["inputs"]["mutuals"])
    settings = config["mutuals"]
    columns = settings["columns"]
    inverse = {v: k for k, v in columns.items()}
    frames = []
    for src in srcs:
        frame = tables.read_register(
            src, columns, sheet=settings["sheet"], header_row=settings["header_row"]
        )
        frames.append(
            schemas.check_frame(
                frame,
                schemas.mutuals_schema(),
                src,
                column_names=inverse,
                hint="amounts and counts must be ≥ 0, one row per year.",
            )
        )
    if not frames:
        return interim_table(pd.DataFrame(columns=list(schemas.mutuals_schema().columns)), out)
    stacked = pd.concat(frames, ignore_index=True)
    key = ["mutual", "scheme", "year"]
    if stacked.duplicated(key).any():
        dup = stacked[stacked.duplicated(key, keep=False)]
        files = sorted(set(dup["source_file"]))
        raise InputError(
            ", ".join(files),
            [
                Problem(
                    inverse.get("mutual", "mutual"),
                    "unique_key",
                    "the same mutual, scheme and year appear in more than one register file",
                )
            ],
            hint="keep each mutual's years in one file, or give the mutuals distinct names.",
        )
    stacked = stacked.sort_values(key, kind="mergesort")
    return interim_table(stacked, out)
