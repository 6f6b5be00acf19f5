"""Run one pipeline step under Snakemake: log to the rule's log, clean errors.

A bad input must reach the user as one clear message (file, column, rule, example
rows), not as a traceback; the step's outputs are written atomically by the library,
so a failure leaves none behind.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from .errors import InputError


def run_rule(log_path: str, step: Callable[[], object]) -> None:
    """Run ``step`` with logging (and Python warnings) sent to ``log_path``.

    On :class:`~sahel_eval.errors.InputError` the message goes to the log and to
    stderr and the process exits with status 1, without a traceback.
    """
    logging.basicConfig(
        filename=log_path,
        filemode="w",
        level=logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    try:
        step()
    except InputError as err:
        logging.getLogger("sahel_eval").error("%s", err.message)
        print(err.message, file=sys.stderr)
        sys.exit(1)
