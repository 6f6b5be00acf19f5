"""Run one pipeline step under Snakemake: log to the rule's log, clean errors.

A bad input must reach the user as one clear message (file, column, rule, example
rows), not as a traceback; the step's outputs are written atomically by the library,
so a failure leaves none behind.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import InputError, Problem, display_path

#: What reading a truncated or corrupt intermediate file raises.
DAMAGED = (pa.ArrowException, OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError)


def damaged_intermediate(paths: Iterable[str]) -> InputError | None:
    """The error for the first unreadable parquet or JSON file among ``paths``, if any.

    Only the footer of a parquet file is read (cheap), enough to find a truncation.
    """
    for path in map(Path, paths):
        if path.suffix not in {".parquet", ".json"} or not path.is_file():
            continue
        try:
            if path.suffix == ".parquet":
                pq.read_metadata(path)
            else:
                json.loads(path.read_text(encoding="utf-8"))
        except DAMAGED as exc:
            return InputError(
                display_path(path),
                [
                    Problem(
                        None,
                        "intermediate_readable",
                        f"the intermediate file is truncated or corrupt ({type(exc).__name__})",
                    )
                ],
                hint="delete it and run `make run` again: Snakemake rebuilds a missing "
                "intermediate from the files it was made from.",
            )
    return None


def run_rule(
    log_path: str, step: Callable[[], object], *, inputs: Iterable[str] | None = None
) -> None:
    """Run ``step`` with logging (and Python warnings) sent to ``log_path``.

    On :class:`~sahel_eval.errors.InputError` the message goes to the log and to
    stderr and the process exits with status 1, without a traceback. So does a
    read error caused by a damaged intermediate file among ``inputs`` (default: the
    calling script's ``snakemake.input``), named with how to rebuild it.
    """
    logging.basicConfig(
        filename=log_path,
        filemode="w",
        level=logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    if inputs is None:
        # Snakemake puts `snakemake` in the globals of the script that calls us.
        smk = sys._getframe(1).f_globals.get("snakemake")
        inputs = [str(p) for p in smk.input] if smk is not None else []
    try:
        step()
        _log_usage()
    except InputError as err:
        _fail(err)
    except DAMAGED:
        err = damaged_intermediate(inputs)
        if err is None:
            raise
        _fail(err)


def _log_usage() -> None:
    """Log the process's wall and CPU seconds and peak memory, start-up included.

    The rules carry no ``benchmark:`` directive: Snakemake's sampler reads every job's
    memory map every 0.5 s from the scheduler's process (8 s of CPU in a demo run)
    and misses the tail of long jobs. ``bench_pipeline.py`` sums these lines instead.
    """
    use = resource.getrusage(resource.RUSAGE_SELF)
    logging.getLogger("sahel_eval").info(
        "%s wall_s=%.2f cpu_s=%.2f peak_mb=%.0f",
        USAGE_MARK,
        _process_age(),
        use.ru_utime + use.ru_stime,
        use.ru_maxrss / 1024,
    )


def _process_age() -> float:
    """Seconds since this process started (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    start = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22, after pid and comm
    return time.clock_gettime(time.CLOCK_BOOTTIME) - start


#: Starts the line :func:`_log_usage` writes.
USAGE_MARK = "job usage:"


def _fail(err: InputError) -> None:
    logging.getLogger("sahel_eval").error("%s", err.message)
    print(err.message, file=sys.stderr)
    sys.exit(1)
