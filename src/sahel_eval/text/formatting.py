"""Numbers, percentages, dates and intervals written the way each language's readers expect.

Everything goes through Babel (CLDR) with the locale passed explicitly, so the output
never depends on the process locale. French follows CLDR and French typography:
``12 345,6`` with U+202F (narrow no-break space) between digit groups, ``45,2 %`` with
the CLDR no-break space U+00A0 before the percent sign, ``24 mars 2020``; English uses
``12,345.6`` and ``24 March 2020`` (day-month-year, as in West African English-language
publications, not the US month-first form).

Negative numbers carry the real minus sign U+2212, not a hyphen. Missing values
(``None``, NaN) are written as an em dash so that a table never shows ``nan``.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.numbers import format_decimal as _babel_format_decimal
from babel.numbers import format_percent as _babel_format_percent

LANGS: tuple[str, ...] = ("fr", "en")
"""Report languages, French first."""

MINUS = "\u2212"
NNBSP = "\u202f"  # narrow no-break space: French digit groups, before ; in French
NBSP = "\u00a0"  # no-break space: keeps "p = 0,03" and "45 %" on one line
MISSING = "\u2014"  # em dash for a value that is absent

# Babel locale per report language. Mali uses standard French; fr_ML's number and date
# data are the same as fr's, so the plain code is enough.
_BABEL_LOCALE = {"fr": "fr", "en": "en"}

# Explicit patterns instead of CLDR "long": CLDR en long is "March 24, 2020" (US order).
_DATE_PATTERN = {"fr": "d MMMM y", "en": "d MMMM y"}
_MONTH_PATTERN = {"fr": "MMMM y", "en": "MMMM y"}

# CI separators: French uses ";" because the comma is the decimal sign, with the
# typographic narrow no-break space before it; no-break spaces keep the interval on
# one line.
_CI_SEP = {"fr": f"{NNBSP};{NBSP}", "en": f",{NBSP}"}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a report language, else raise ``ValueError``."""
    if lang not in LANGS:
        raise ValueError(f"unknown report language {lang!r}; expected one of {LANGS}")
    return lang


def _locale(lang: str) -> Locale:
    return Locale.parse(_BABEL_LOCALE[check_lang(lang)])


def is_missing(value: object) -> bool:
    """True for ``None``, NaN, ``pd.NA`` and ``pd.NaT``."""
    return value is None or bool(pd.api.types.is_scalar(value) and pd.isna(value))


def _quantize(value: numbers.Real | Decimal, digits: int) -> Decimal:
    """Round half away from zero, as readers and spreadsheets do.

    Babel rounds half-to-even (0.125 → 0.12); a reader checking a number by hand
    expects 0.13. ``repr`` gives the shortest string that round-trips, so 2.675 is
    rounded as written rather than as its binary approximation.
    """
    if isinstance(value, Decimal):
        dec = value
    elif isinstance(value, numbers.Integral):
        dec = Decimal(int(value))
    else:
        fvalue = float(value)
        if math.isinf(fvalue):
            raise ValueError(f"cannot format an infinite number ({fvalue})")
        dec = Decimal(repr(fvalue))
    dec = dec.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    # -0.0 after rounding would print as "−0,0"; a reader would look for a negative effect.
    return dec.copy_abs() if dec == 0 else dec


def _minus(text: str) -> str:
    return MINUS + text[1:] if text.startswith("-") else text


def _decimal_pattern(digits: int) -> str:
    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")
    return "#,##0" + ("." + "0" * digits if digits else "")


def plural_form(n: numbers.Real, lang: str) -> str:
    """CLDR plural category of ``n`` in ``lang`` (``one``, ``other``, …), by Babel."""
    return _locale(lang).plural_form(abs(n))


def plural_form_shown(value: numbers.Real | None, lang: str, digits: int) -> str:
    """CLDR plural category of ``value`` as it is shown with ``digits`` decimals.

    The rule sees the printed number, visible decimals included: French ``1,6 point``
    (one for |x| < 2), English ``1 percentage point`` but ``1.0 percentage points``.
    A missing value reads as ``other``.
    """
    if is_missing(value):
        return "other"
    return _locale(lang).plural_form(abs(_quantize(value, digits)))


def fmt_number(value: numbers.Real | None, lang: str, digits: int = 1) -> str:
    """A number with ``digits`` decimals and digit grouping: fr ``12 345,6``, en ``12,345.6``."""
    if is_missing(value):
        return MISSING
    dec = _quantize(value, digits)
    return _minus(_babel_format_decimal(dec, format=_decimal_pattern(digits), locale=_locale(lang)))


def fmt_count(value: numbers.Real | None, lang: str) -> str:
    """A whole number with digit grouping: fr ``1 234``, en ``1,234``.

    Raises ``ValueError`` for a non-integral value, which would mean a count was
    computed wrongly upstream.
    """
    if is_missing(value):
        return MISSING
    if not isinstance(value, numbers.Integral):
        fvalue = float(value)
        if not fvalue.is_integer():
            raise ValueError(f"a count must be a whole number, got {value!r}")
        value = int(fvalue)
    return fmt_number(value, lang, digits=0)


def fmt_percent(value: numbers.Real | None, lang: str, digits: int = 1) -> str:
    """A proportion (0.452) as a percentage: fr ``45,2 %`` (U+00A0 before %), en ``45.2%``."""
    if is_missing(value):
        return MISSING
    loc = _locale(lang)
    # Keep the locale's own pattern (and so its space before %) and only set decimals.
    pattern = loc.percent_formats[None].pattern.replace("#,##0", _decimal_pattern(digits), 1)
    dec = _quantize(Decimal(repr(float(value))) * 100, digits) / 100
    text = _babel_format_percent(dec, format=pattern, locale=loc, decimal_quantization=True)
    return _minus(text)


def fmt_fcfa(value: numbers.Real | None, lang: str) -> str:
    """An amount in CFA francs, whole francs: fr ``1 234 567 FCFA``, en ``1,234,567 FCFA``.

    Written "FCFA" after the amount in both languages, as Malian documents do, rather
    than CLDR's "F CFA" (whose English form puts the symbol first).
    """
    if is_missing(value):
        return MISSING
    return f"{fmt_number(value, lang, digits=0)}{NBSP}FCFA"


def fmt_ci(
    estimate: numbers.Real | None,
    low: numbers.Real | None,
    high: numbers.Real | None,
    lang: str,
    digits: int = 2,
) -> str:
    """An estimate with its interval: fr ``−0,04 [−0,07 ; −0,01]``, en ``−0.04 [−0.07, −0.01]``."""
    return f"{fmt_number(estimate, lang, digits)} {fmt_interval(low, high, lang, digits)}"


def fmt_interval(
    low: numbers.Real | None, high: numbers.Real | None, lang: str, digits: int = 2
) -> str:
    """An interval alone: fr ``[−0,07 ; −0,01]``, en ``[−0.07, −0.01]``."""
    lo, hi = fmt_number(low, lang, digits), fmt_number(high, lang, digits)
    return f"[{lo}{_CI_SEP[check_lang(lang)]}{hi}]"


def fmt_pvalue(p: numbers.Real | None, lang: str, *, prefix: bool = True) -> str:
    """A p-value: ``p = 0,032`` / ``p < 0,001`` (fr), ``p = 0.032`` / ``p < 0.001`` (en).

    Three decimals; below 0.001 only the bound is given, since smaller p-values carry
    no extra meaning for readers and depend on numerical precision.
    """
    if is_missing(p):
        return MISSING
    fp = float(p)
    if not 0.0 <= fp <= 1.0:
        raise ValueError(f"a p-value must lie in [0, 1], got {p!r}")
    if fp < 0.001:
        text = f"<{NBSP}{fmt_number(0.001, lang, 3)}"
        return f"p{NBSP}{text}" if prefix else text
    text = fmt_number(fp, lang, 3)
    return f"p{NBSP}={NBSP}{text}" if prefix else text


def _as_date(value: _dt.date | str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        return _dt.date.fromisoformat(value)
    # pandas Timestamp and Period expose to_pydatetime / to_timestamp; avoid importing
    # pandas here for one isinstance check.
    if hasattr(value, "to_timestamp"):
        value = value.to_timestamp()
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime().date()
    raise TypeError(f"expected a date, got {type(value).__name__}: {value!r}")


def fmt_date(value: _dt.date | str | None, lang: str) -> str:
    """A full date: fr ``24 mars 2020`` (``1er mars 2020``), en ``24 March 2020``."""
    if is_missing(value):
        return MISSING
    day = _as_date(value)
    text = _babel_format_date(day, format=_DATE_PATTERN[check_lang(lang)], locale=_locale(lang))
    if lang == "fr" and day.day == 1:
        # French writes the first of the month as an ordinal; CLDR has no such pattern.
        text = "1er" + text[1:]
    return text


def fmt_month(value: _dt.date | str | None, lang: str) -> str:
    """A month: fr ``mars 2020``, en ``March 2020``."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str) and len(value) == 7:  # "2020-03"
        value = value + "-01"
    day = _as_date(value)
    return _babel_format_date(day, format=_MONTH_PATTERN[check_lang(lang)], locale=_locale(lang))
