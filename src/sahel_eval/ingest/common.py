"""What every ingester shares: the salt, membership checks, one error listing every
problem of a file, and the atomic write of the interim table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sahel_eval.errors import InputError, Problem, display_path, rows_problem
from sahel_eval.io.parquet import write_parquet
from sahel_eval.privacy import SaltError, resolve_salt

CONFIG_HINT = "check the mapping in config/config.yaml (see config/README.md)."


def interim_table(frame: pd.DataFrame, out: str | Path | None) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    if out is not None:
        write_parquet(frame, out)
    return frame


def membership_problem(
    frame: pd.DataFrame,
    column: str,
    allowed: Iterable[object],
    rule: str,
    detail: str,
    *,
    row_offset: int = 2,
    masked: bool = False,
    mask_rows: pd.Series | None = None,
) -> Problem | None:
    allowed = set(allowed)
    bad = ~frame[column].isin(allowed) & frame[column].notna()
    if mask_rows is not None:
        bad &= mask_rows
    if not bad.any():
        return None
    return rows_problem(column, rule, detail, frame, bad, masked=masked, row_offset=row_offset)


def raise_problems(
    path: str | Path, problems: Sequence[Problem | None], hint: str, **kw: Any
) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise InputError(display_path(path), found, hint=hint, **kw)


def salt_for(config: Mapping[str, Any]) -> str:
    """The salt for this run (env var, or the demo salt on synthetic data).

    Raises
    ------
    InputError
        If the salt variable is unset on real data.
    """
    privacy = config["privacy"]
    try:
        return resolve_salt(privacy, synthetic=bool(config["synthetic"]))
    except SaltError as exc:
        raise InputError(
            "environment",
            [Problem(privacy["salt_env"], "salt_set", str(exc))],
            hint="set the salt variable before running; `synthetic: true` is only for the "
            "bundled demo data.",
            column_label="variable",
        ) from None
