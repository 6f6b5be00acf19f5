"""Values as people and exports write them: periods, dates and numbers in their forms.

Each parser takes text and returns the canonical form (``YYYYMM`` periods,
``datetime64[ns]`` dates, float64 numbers) with missing where the text is not one of
the accepted forms, so the caller (:class:`sahel_eval.io.columns.Coercer`) can report
the rows that failed instead of guessing.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np
import pandas as pd
from babel.dates import get_month_names

#: Month names are read in these locales (French first: the exports are French).
MONTH_LOCALES = ("fr", "en")
_YYYYMM = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")
_YYYY_MM = re.compile(r"^(\d{4})[-/. ](0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})\s*[qQ]([1-4])$")
_WORDS = re.compile(r"^([^\W\d_]+)\.?\s+(\d{4})$")
# DHIS2 names a quarter by its months: "January - March 2018", "Janvier - Mars 2018".
_QUARTER_WORDS = re.compile(r"^([^\W\d_]+)\.?\s*[-–]\s*([^\W\d_]+)\.?\s+(\d{4})$")
_DAY_WORDS = re.compile(r"^(\d{1,2})(?:er)?\s+([^\W\d_]+)\.?\s+(\d{4})$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# Thousands separators: space, no-break space, narrow no-break space, between digits.
_THOUSANDS = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?:\D|$))")


def fold(text: str) -> str:
    """Lower case without accents (``"Février"`` -> ``"fevrier"``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


@cache
def month_numbers() -> dict[str, int]:
    """Month name or abbreviation (folded, no final dot) -> 1..12, French and English."""
    out: dict[str, int] = {}
    for locale in MONTH_LOCALES:
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=locale).items():
                out.setdefault(fold(str(name)).rstrip("."), int(number))
    return out


def parse_period(text: str | None) -> tuple[str, str] | None:
    """A DHIS2 period in any accepted form -> ``(canonical, period_type)``.

    Monthly ``201801``, ``2018-01``, ``Janvier 2018`` / ``janv. 2018`` / ``January
    2018`` give ``("201801", "month")``; quarterly ``2018Q1`` and DHIS2's names
    ``Janvier - Mars 2018`` / ``January - March 2018`` give ``("2018Q1", "quarter")``;
    anything else ``None``.
    """
    if text is None:
        return None
    text = text.strip()
    for pattern in (_YYYYMM, _YYYY_MM):
        hit = pattern.match(text)
        if hit:
            return f"{hit.group(1)}{hit.group(2)}", "month"
    hit = _QUARTER.match(text)
    if hit:
        return f"{hit.group(1)}Q{hit.group(2)}", "quarter"
    hit = _WORDS.match(text)
    if hit:
        month = month_numbers().get(fold(hit.group(1)))
        if month is not None:
            return f"{hit.group(2)}{month:02d}", "month"
    hit = _QUARTER_WORDS.match(text)
    if hit:
        first = month_numbers().get(fold(hit.group(1)))
        last = month_numbers().get(fold(hit.group(2)))
        # Only a calendar quarter: any other range of months is not a DHIS2 period.
        if first in (1, 4, 7, 10) and last == first + 2:
            return f"{hit.group(3)}Q{(first + 2) // 3}", "quarter"
    return None


def parse_date(text: str | None) -> pd.Timestamp | None:
    """A calendar date as written in French or ISO -> Timestamp, else ``None``.

    ``2019-01-15``, ``2019-01-15 00:00:00`` (Excel cells read as text), ``15/01/2019``
    (day first, as in France and Mali) and ``15 janvier 2019`` / ``1er mars 2020``.
    """
    if text is None:
        return None
    text = text.strip()
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    if pd.isna(iso):
        iso = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    if not pd.isna(iso):
        return iso
    hit = _DMY.match(text)
    if hit:
        day, month, year = (int(g) for g in hit.groups())
    else:
        hit = _DAY_WORDS.match(text)
        if not hit:
            return None
        month_or_none = month_numbers().get(fold(hit.group(2)))
        if month_or_none is None:
            return None
        day, month, year = int(hit.group(1)), month_or_none, int(hit.group(3))
    try:
        return pd.Timestamp(year=year, month=month, day=day)
    except ValueError:
        return None


def strip_thousands(text: pd.Series) -> pd.Series:
    """Remove spaces used as thousands separators (``"1 000"`` -> ``"1000"``)."""
    return text.str.replace(_THOUSANDS, "", regex=True)


def parse_numbers(text: pd.Series, *, decimal_comma: bool) -> pd.Series:
    """Text -> float64 (missing where not a number); ``,`` as decimal mark if allowed."""
    clean = strip_thousands(text.astype("str").str.strip())
    if decimal_comma:
        clean = clean.str.replace(",", ".", regex=False)
    return pd.to_numeric(clean, errors="coerce").astype("float64")


def is_whole(values: pd.Series) -> pd.Series:
    """True where a parsed number is whole (missing counts as whole)."""
    return values.isna() | (values == np.floor(values.fillna(0)))
