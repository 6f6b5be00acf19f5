"""Reading delimited text and typing its columns, with errors that name rows.

The readers read every column as text first and type it here, so a value that does not
parse is reported with its line number instead of silently becoming missing.
"""

from __future__ import annotations

import difflib
import gzip
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from sahel_eval.errors import InputError, Problem, display_path, problem

PERIOD_PATTERN = re.compile(r"^\d{4}(0[1-9]|1[0-2])$")
TRUE_TEXT = {"true", "1", "yes", "oui", "vrai"}
FALSE_TEXT = {"false", "0", "no", "non", "faux"}


def normalise_header(name: object) -> str:
    """Lower-case, accent-free, underscore-separated header (``"Année"`` -> ``"annee"``)."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def missing_file(path: str | Path, what: str) -> InputError:
    """The error for an input file that does not exist."""
    return InputError(
        display_path(path),
        [Problem(None, "file_exists", f"the {what} file does not exist")],
        hint="check the path under `inputs` in config/config.yaml (paths are relative "
        "to the directory you run from), or regenerate the demo data with "
        "`make demo-data`.",
    )


def unreadable_file(path: str | Path, what: str, exc: BaseException) -> InputError:
    """The error for a file that exists but cannot be parsed in its format."""
    reason = type(exc).__name__
    return InputError(
        display_path(path),
        [Problem(None, "readable", f"the {what} file cannot be read ({reason})")],
        hint="the file is damaged or not in the expected format: export it again from "
        "the source system (a .gz file must be complete gzip; CSV must be UTF-8).",
    )


def read_text_table(path: str | Path, what: str) -> pd.DataFrame:
    """Read a CSV (optionally gzip-compressed) with every column as text.

    Parameters
    ----------
    path
        The file; ``.gz`` is decompressed.
    what
        What the file is, for messages ("facility list").

    Returns
    -------
    pandas.DataFrame
        String columns, empty cells missing, headers normalised
        (:func:`normalise_header`), a default RangeIndex (position 0 = line 2).

    Raises
    ------
    InputError
        If the file is missing or cannot be parsed.
    """
    if not Path(path).is_file():
        raise missing_file(path, what)
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8",
            compression="infer",
        )
    except (
        OSError,
        EOFError,
        UnicodeDecodeError,
        zlib.error,
        gzip.BadGzipFile,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
    ) as exc:
        raise unreadable_file(path, what, exc) from None
    frame.columns = [normalise_header(c) for c in frame.columns]
    return frame


def require_columns(
    frame: pd.DataFrame,
    required: Iterable[str],
    path: str | Path,
    *,
    rule: str = "required_column",
    hint: str = "",
) -> None:
    """Raise if columns are missing, suggesting the closest existing header.

    Parameters
    ----------
    frame
        The data as read.
    required
        Column names that must be present.
    path
        The file, for the message.
    rule
        Rule name in the message.
    hint
        What to do; a default is used when empty.

    Raises
    ------
    InputError
        Listing each missing column, with "did you mean" when a header is close.
    """
    present = [str(c) for c in frame.columns]
    problems = []
    for name in required:
        if name in present:
            continue
        close = difflib.get_close_matches(name, present, n=1, cutoff=0.6)
        detail = "the column is missing"
        if close:
            detail += f"; did you mean '{close[0]}'?"
        problems.append(Problem(name, rule, detail))
    if problems:
        raise InputError(
            display_path(path),
            problems,
            hint=hint
            or "rename the column in the file (or in the export settings) to the expected "
            "name; the expected columns are listed in data/raw/README.md.",
        )


class Coercer:
    """Types text columns and collects every failure before raising once.

    Parameters
    ----------
    frame
        The text frame; typed columns are written back into it.
    path
        The file, for messages.
    row_offset
        Added to a zero-based position to give the user's row number.
    row_label
        What a row is called ("line", "row", "observation").
    masked
        Columns whose values are masked in messages.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        path: str | Path,
        *,
        row_offset: int = 2,
        row_label: str = "line",
        masked: Iterable[str] = (),
    ) -> None:
        self.frame = frame
        self.path = path
        self.row_offset = row_offset
        self.row_label = row_label
        self.masked = set(masked)
        self.problems: list[Problem] = []

    def _fail(self, column: str, rule: str, detail: str, bad: pd.Series) -> None:
        # Index labels, not positions: a filtered frame keeps the file's numbering.
        positions = np.flatnonzero(bad.to_numpy(dtype=bool))
        values = self.frame[column].to_numpy()[positions]
        self.problems.append(
            problem(
                column,
                rule,
                detail,
                self.frame.index[positions].tolist(),
                values.tolist(),
                masked=column in self.masked,
                row_offset=self.row_offset,
            )
        )

    def _present(self, column: str) -> pd.Series:
        return self.frame[column].notna() & (self.frame[column].astype(str).str.strip() != "")

    def text(self, column: str, *, required: bool = False) -> None:
        """Strip surrounding spaces; ``required`` makes an empty cell an error."""
        col = self.frame[column].astype("str").str.strip()
        col = col.where(col != "", None).astype("str")
        self.frame[column] = col
        if required:
            bad = col.isna()
            if bad.any():
                self._fail(column, "not_missing", "the value is empty", bad)

    def number(self, column: str, *, required: bool = False) -> None:
        """Parse as float64 (``,`` accepted as the decimal mark)."""
        raw = self.frame[column]
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            self.frame[column] = raw.astype("float64")
            if required and raw.isna().any():
                self._fail(column, "not_missing", "the value is empty", raw.isna())
            return
        text = raw.astype("str").str.strip().str.replace(",", ".", regex=False)
        parsed = pd.to_numeric(text, errors="coerce")
        present = self._present(column)
        bad = present & parsed.isna()
        if bad.any():
            self._fail(column, "numeric", "the value is not a number", bad)
        if required and (~present).any():
            self._fail(column, "not_missing", "the value is empty", ~present)
        self.frame[column] = parsed.astype("float64")

    def integer(self, column: str, *, required: bool = False) -> None:
        """Parse as nullable Int64; fractional values are an error."""
        raw = self.frame[column]
        text = raw.astype("str").str.strip()
        parsed = pd.to_numeric(text, errors="coerce")
        present = self._present(column)
        bad = present & parsed.isna()
        if bad.any():
            self._fail(column, "integer", "the value is not a whole number", bad)
        frac = parsed.notna() & (parsed != np.floor(parsed.fillna(0)))
        if frac.any():
            self._fail(column, "integer", "the value is not a whole number", frac)
        if required and (~present).any():
            self._fail(column, "not_missing", "the value is empty", ~present)
        clean = parsed.where(~frac)
        self.frame[column] = clean.astype("Int64")

    def date(self, column: str, *, required: bool = False, with_time: bool = False) -> None:
        """Parse ISO dates (``YYYY-MM-DD``; with a time when ``with_time``) as datetime64[ns]."""
        raw = self.frame[column].astype("str").str.strip()
        fmt = "ISO8601" if with_time else "%Y-%m-%d"
        parsed = pd.to_datetime(raw, format=fmt, errors="coerce", utc=with_time)
        if with_time:
            parsed = parsed.dt.tz_convert(None)
        present = self._present(column)
        bad = present & parsed.isna()
        if bad.any():
            expected = "an ISO date-time" if with_time else "a date YYYY-MM-DD"
            self._fail(column, "date_format", f"the value is not {expected}", bad)
        if required and (~present).any():
            self._fail(column, "not_missing", "the value is empty", ~present)
        self.frame[column] = parsed.astype("datetime64[ns]")

    def period(self, column: str) -> None:
        """Check a DHIS2 monthly period ``YYYYMM`` (kept as text)."""
        col = self.frame[column].astype("str").str.strip()
        bad = ~col.fillna("").str.match(PERIOD_PATTERN)
        if bad.any():
            self._fail(column, "period_format", "the period is not a month YYYYMM", bad)
        self.frame[column] = col

    def boolean(self, column: str) -> None:
        """Parse true/false (also 1/0, oui/non) as nullable boolean."""
        col = self.frame[column].astype("str").str.strip().str.lower()
        known = col.isin(TRUE_TEXT | FALSE_TEXT) | col.isna()
        if (~known).any():
            self._fail(column, "boolean", "the value is not true/false", ~known)
        out = pd.Series(pd.NA, index=col.index, dtype="boolean")
        out[col.isin(TRUE_TEXT)] = True
        out[col.isin(FALSE_TEXT)] = False
        self.frame[column] = out

    def raise_if_any(self, hint: str) -> None:
        """Raise one :class:`InputError` with every problem collected so far."""
        if self.problems:
            raise InputError(
                display_path(self.path), list(self.problems), hint=hint, row_label=self.row_label
            )


def rename_columns(frame: pd.DataFrame, mapping: Mapping[str, str]) -> pd.DataFrame:
    """Rename using ``mapping`` matched on normalised headers."""
    lookup = {normalise_header(k): v for k, v in mapping.items()}
    return frame.rename(columns={c: lookup[c] for c in frame.columns if c in lookup})
