"""Reading delimited text and typing its columns, with errors that name rows.

The readers read every column as text first and type it here, so a value that does not
parse is reported with its line number instead of silently becoming missing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import gzip
import logging
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from sahel_eval.errors import InputError, Problem, display_path, problem
from sahel_eval.io.values import is_whole, parse_date, parse_numbers, parse_period

LOG = logging.getLogger(__name__)
#: Field separators a CSV may use (French Excel writes ``;``), most common first.
SEPARATORS = (",", ";", "\t")
#: Encodings tried in turn: UTF-8 (a BOM is dropped), then Windows-1252 (Excel in French).
ENCODINGS = ("utf-8-sig", "cp1252")
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
        "the source system (a .gz file must be complete gzip; CSV in UTF-8 or Windows-1252).",
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
    errors = (
        OSError,
        EOFError,
        UnicodeDecodeError,
        zlib.error,
        gzip.BadGzipFile,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
    )
    try:
        head = _head_bytes(path)
    except errors as exc:
        raise unreadable_file(path, what, exc) from None
    if not head.strip():
        raise empty_file(path, what)
    first_line = head.splitlines()[0]
    sep = max(SEPARATORS, key=lambda c: first_line.count(c.encode()))
    frame = None
    for encoding in ENCODINGS:
        try:
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                encoding=encoding,
                sep=sep,
                compression="infer",
            )
            break
        except UnicodeDecodeError as exc:
            last: BaseException = exc
        except errors as exc:
            raise unreadable_file(path, what, exc) from None
    if frame is None:
        raise unreadable_file(path, what, last)
    if sep != "," or encoding != "utf-8-sig":
        LOG.info("%s: read as %s, separator %r", display_path(path), encoding, sep)
    # pandas renames a repeated header `x` to `x.1`: undo it, so the repeat is seen.
    raw = [str(c) for c in frame.columns]
    raw = [_unmangled(c, raw[:i]) for i, c in enumerate(raw)]
    frame.columns = [normalise_header(c) for c in raw]
    require_unique_headers(frame, path)
    return frame


def _unmangled(name: str, before: list[str]) -> str:
    match = re.fullmatch(r"(.*)\.(\d+)", name)
    return match.group(1) if match and match.group(1) in before else name


def require_unique_headers(frame: pd.DataFrame, path: str | Path) -> None:
    """Refuse a header that appears twice (after :func:`normalise_header`).

    Extra columns are ignored (only the columns a reader names are read), but one that
    repeats a header (``District`` beside ``district``, or ``value`` twice) leaves it
    ambiguous which column holds the data.
    """
    names = pd.Index(frame.columns)
    repeated = names[names.duplicated()].unique()
    if len(repeated) == 0:
        return
    problems = [
        Problem(
            str(name),
            "unique_column",
            "the header appears more than once (columns "
            + ", ".join(str(i + 1) for i in np.flatnonzero(names == name))
            + "), spelled alike once case, accents and spaces are ignored",
        )
        for name in repeated
    ]
    raise InputError(
        display_path(path),
        problems,
        hint="delete or rename the repeated column, so that each header names one column.",
    )


def _head_bytes(path: str | Path, size: int = 65536) -> bytes:
    """The first bytes of a file, decompressed if it is gzip (for sniffing)."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as fh:
        return fh.read(size)


def empty_file(path: str | Path, what: str) -> InputError:
    """The error for an input file with no header or no data rows."""
    return InputError(
        display_path(path),
        [Problem(None, "not_empty", f"the {what} file has no data rows")],
        hint="the file is empty or holds only its header: export it again, or point "
        "`inputs` in config/config.yaml at the complete file.",
    )


def require_rows(frame: pd.DataFrame, path: str | Path, what: str) -> None:
    """Raise :func:`empty_file` if ``frame`` has no rows (a header-only file)."""
    if frame.empty:
        raise empty_file(path, what)


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
        """Parse as float64 (``,`` accepted as the decimal mark, ``1 000`` as a thousand)."""
        raw = self.frame[column]
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            self.frame[column] = raw.astype("float64")
            if required and raw.isna().any():
                self._fail(column, "not_missing", "the value is empty", raw.isna())
            return
        parsed = parse_numbers(raw, decimal_comma=True)
        present = self._present(column)
        bad = present & parsed.isna()
        if bad.any():
            self._fail(column, "numeric", "the value is not a number", bad)
        if required and (~present).any():
            self._fail(column, "not_missing", "the value is empty", ~present)
        self.frame[column] = parsed

    def count(self, column: str) -> None:
        """Parse a count as float64: a whole number, ``1 000`` accepted, no comma.

        A comma in a count is refused rather than read: ``12,5`` is neither 12 nor
        125, and ``1,000`` could be either a thousand or one.
        """
        raw = self.frame[column].astype("str").str.strip()
        parsed = parse_numbers(raw, decimal_comma=False)
        present = self._present(column)
        bad = present & parsed.isna()
        comma = present & raw.str.contains(",", regex=False).fillna(False)
        if (bad & ~comma).any():
            self._fail(column, "numeric", "the value is not a number", bad & ~comma)
        frac = comma | (parsed.notna() & ~is_whole(parsed))
        if frac.any():
            self._fail(
                column,
                "whole_number",
                "a count must be a whole number (a decimal comma or fraction is not one)",
                frac,
            )
        self.frame[column] = parsed.where(~frac)

    def integer(self, column: str, *, required: bool = False) -> None:
        """Parse as nullable Int64 (``1 000`` accepted); fractional values are an error."""
        parsed = parse_numbers(self.frame[column], decimal_comma=False)
        present = self._present(column)
        bad = present & parsed.isna()
        if bad.any():
            self._fail(column, "integer", "the value is not a whole number", bad)
        frac = ~is_whole(parsed)
        if frac.any():
            self._fail(column, "integer", "the value is not a whole number", frac)
        if required and (~present).any():
            self._fail(column, "not_missing", "the value is empty", ~present)
        self.frame[column] = parsed.where(~frac).astype("Int64")

    def date(self, column: str, *, required: bool = False, with_time: bool = False) -> None:
        """Parse dates as datetime64[ns].

        With ``with_time``, ISO date-times (machine exports); otherwise calendar dates
        as people write them: ``2019-01-15``, ``15/01/2019``, ``15 janvier 2019``.
        """
        raw = self.frame[column].astype("str").str.strip()
        if with_time:
            parsed = pd.to_datetime(raw, format="ISO8601", errors="coerce", utc=True)
            parsed = parsed.dt.tz_convert(None)
        else:
            # Few distinct dates in a long column: parse each once.
            lookup = {v: parse_date(v) for v in raw.dropna().unique()}
            parsed = pd.to_datetime(raw.map(lookup), errors="coerce")
        present = self._present(column)
        bad = present & parsed.isna()
        if bad.any():
            expected = (
                "an ISO date-time"
                if with_time
                else "a date (YYYY-MM-DD, DD/MM/YYYY or '15 janvier 2019')"
            )
            self._fail(column, "date_format", f"the value is not {expected}", bad)
        if required and (~present).any():
            self._fail(column, "not_missing", "the value is empty", ~present)
        self.frame[column] = parsed.astype("datetime64[ns]")

    def period(self, column: str, *, today: dt.date | None = None, quarters: bool = False) -> None:
        """Canonical period (kept as text) from any accepted form.

        ``201801``, ``2018-01`` and ``Janvier 2018`` are months (``YYYYMM``). A
        quarterly period (``2018Q1``, ``Janvier - Mars 2018``) becomes ``2018Q1`` with
        ``quarters`` (data values: a quarterly data element stays quarterly, DESIGN §4)
        and is refused with its own rule otherwise. A period starting after ``today``'s
        month (the run date) is an error: data cannot be reported for the future.
        """
        col = self.frame[column].astype("str").str.strip()
        # Few distinct periods in a long column: parse and judge each once.
        parsed = {v: parse_period(v) for v in col.dropna().unique()}
        now = today or dt.datetime.now(dt.UTC).date()
        current = f"{now.year:04d}{now.month:02d}"
        bad = col.isna() | col.isin([v for v, p in parsed.items() if p is None])
        if bad.any():
            forms = "YYYYMM, YYYY-MM or 'Janvier 2018'"
            if quarters:
                forms += "; a quarter YYYYQn or 'Janvier - Mars 2018'"
            self._fail(column, "period_format", f"the period is not a month ({forms})", bad)
        quarter = col.isin([v for v, p in parsed.items() if p and p[1] == "quarter"])
        if quarter.any() and not quarters:
            self._fail(
                column,
                "monthly_period",
                "quarterly period: the facility analyses are monthly and a quarter cannot "
                "be split into months",
                quarter,
            )
        future = col.isin([v for v, p in parsed.items() if p and _first_month(p[0]) > current])
        if future.any():
            self._fail(
                column,
                "period_not_future",
                f"the period is after the current month ({now:%Y-%m})",
                future,
            )
        rewrite = {v: p[0] for v, p in parsed.items() if p and p[0] != v}
        self.frame[column] = col.replace(rewrite) if rewrite else col

    def not_future(self, column: str, *, today: dt.date | None = None) -> None:
        """Refuse a date (datetime64) or a year (Int64) after ``today`` (the run date).

        An event cannot have happened, nor a register year be closed, after the day
        the data are read: the date is a typing error (2091 for 2019) or a planned
        value that does not belong in a record of what happened.
        """
        now = today or dt.datetime.now(dt.UTC).date()
        col = self.frame[column]
        if pd.api.types.is_datetime64_any_dtype(col):
            future = col > pd.Timestamp(now)
            shown, after = col.dt.strftime("%Y-%m-%d"), f"the date is after today ({now:%Y-%m-%d})"
        else:
            future = col > now.year
            shown, after = col, f"the year is after the current year ({now.year})"
        future = future.fillna(False).astype(bool)
        if future.any():
            values = self.frame[column]
            self.frame[column] = shown
            self._fail(column, "period_not_future", after, future)
            self.frame[column] = values

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


def _first_month(period: str) -> str:
    """``YYYYMM`` of a canonical period's first month (``2018Q2`` -> ``201804``)."""
    if "Q" in period:
        year, q = period.split("Q")
        return f"{year}{3 * int(q) - 2:02d}"
    return period


def rename_columns(frame: pd.DataFrame, mapping: Mapping[str, str]) -> pd.DataFrame:
    """Rename using ``mapping`` matched on normalised headers."""
    lookup = {normalise_header(k): v for k, v in mapping.items()}
    return frame.rename(columns={c: lookup[c] for c in frame.columns if c in lookup})
