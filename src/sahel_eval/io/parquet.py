"""Atomic, deterministic writers for interim outputs (parquet and JSON sidecars).

Every output is written to a temporary file in the target directory and moved into
place with ``os.replace``, so a failed run leaves either the old file or nothing. A
job killed outright (``kill -9``, a power cut) cannot delete its temporary file; the
job that redoes it deletes it before writing.
The same frame always gives the same bytes: no index is stored, the writer and its
options are fixed, and JSON keys are sorted.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
}


@contextlib.contextmanager
def atomic_paths(*targets: str | Path) -> Iterator[list[Path]]:
    """Yield temporary paths; on success move each onto its target, else delete them.

    Parameters
    ----------
    targets
        Final paths; their directories are created.

    Yields
    ------
    list of Path
        Temporary paths in the same directories (so ``os.replace`` is atomic).
    """
    temps: list[Path] = []
    try:
        for target in targets:
            target = Path(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_temps(target)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
            temps.append(Path(name))
        yield temps
        for temp in temps:
            # mkstemp makes 0600 files; outputs are meant to be read by others.
            os.chmod(temp, 0o644)
        for temp, target in zip(temps, targets, strict=True):
            os.replace(temp, target)
    finally:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def _remove_stale_temps(target: Path) -> None:
    """Delete temporary files a killed writer of ``target`` left beside it.

    A SIGKILL skips the ``finally`` of :func:`atomic_paths`. Snakemake gives each output
    to one job and reruns a killed job (``--rerun-incomplete``), so a temporary file of
    this target found now is a dead writer's, never a live one's.
    """
    # mkstemp's name: "." + target name + "." + 8 of [a-z0-9_] + ".tmp".
    random_part = "[a-z0-9_]" * 8
    for path in target.parent.glob(f".{glob.escape(target.name)}.{random_part}.tmp"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def parquet_bytes_table(frame: pd.DataFrame) -> pa.Table:
    """Arrow table of ``frame`` without its index (a RangeIndex is not data)."""
    return pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)


def write_parquet_to(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` to ``path`` (not atomically; use inside :func:`atomic_paths`)."""
    pq.write_table(parquet_bytes_table(frame), path, **PARQUET_OPTIONS)


def write_json_to(obj: Any, path: str | Path) -> None:
    """Write JSON with sorted keys, UTF-8, a final newline."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(obj, fh, sort_keys=True, ensure_ascii=False, indent=1)
        fh.write("\n")


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """Write one parquet file atomically and deterministically."""
    with atomic_paths(path) as (temp,):
        write_parquet_to(frame, temp)
