"""Monthly periods as DHIS2 writes them (``YYYYMM`` text) and the month index t.

The canonical tables keep periods as ``YYYYMM`` strings — the DHIS2 export's own
form, the truth file's, and one that sorts and joins without dtype surprises; the
panels add the month index t (1 = first month of the data; 0 is reserved for
"never").
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sahel_eval.errors import InputError, problem

__all__ = [
    "PERIOD_PATTERN",
    "check_periods",
    "date_month_number",
    "month_number",
    "period_range",
    "to_period",
]

PERIOD_PATTERN = re.compile(r"^\d{4}(0[1-9]|1[0-2])$")


def check_periods(periods: pd.Series, *, source: str, column: str = "period") -> None:
    """Raise if a period is not a month ``YYYYMM``.

    Parameters
    ----------
    periods
        Period texts (index = position in the file, 0 = line 2).
    source
        File name for the message.
    column
        Column name for the message.

    Raises
    ------
    InputError
        Naming the rows (rule ``period_format``).
    """
    bad = ~periods.astype("str").fillna("").str.match(PERIOD_PATTERN)
    if bad.any():
        raise InputError(
            source,
            [
                problem(
                    column,
                    "period_format",
                    "the period is not a month YYYYMM",
                    periods.index[bad.to_numpy()].tolist(),
                    periods[bad].tolist(),
                    row_offset=2,
                )
            ],
            hint="export monthly periods (YYYYMM) from DHIS2.",
            row_label="line",
        )


def month_number(periods: pd.Series | np.ndarray) -> np.ndarray:
    """Months since year 0 (``year * 12 + month - 1``) of ``YYYYMM`` texts, int64."""
    p = np.asarray(periods, dtype="U6").astype(np.int64)
    return (p // 100) * 12 + (p % 100) - 1


def to_period(month_numbers: np.ndarray) -> np.ndarray:
    """Inverse of :func:`month_number`: ``YYYYMM`` texts (object array)."""
    m = np.asarray(month_numbers, dtype=np.int64)
    return np.char.mod("%06d", (m // 12) * 100 + m % 12 + 1).astype(object)


def period_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (``YYYYMM``, both included)."""
    a, b = month_number(np.array([first, last]))
    return list(to_period(np.arange(a, b + 1)))


def date_month_number(dates: pd.Series) -> np.ndarray:
    """Month numbers of dates (NaT -> -1)."""
    d = pd.to_datetime(dates)
    out = (d.dt.year * 12 + d.dt.month - 1).to_numpy(dtype="float64")
    return np.where(np.isnan(out), -1, out).astype(np.int64)
