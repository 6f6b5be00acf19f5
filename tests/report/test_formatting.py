"""Exact code points of numbers, percentages, dates and intervals in both languages."""

import datetime as dt
import math

import pandas as pd
import pytest

from sahel_eval.text import formatting as f


def test_french_number_uses_narrow_no_break_space_and_comma():
    assert f.fmt_number(12345.6, "fr") == "12\u202f345,6"
    assert f.fmt_number(1234567.891, "fr", 2) == "1\u202f234\u202f567,89"


def test_english_number():
    assert f.fmt_number(12345.6, "en") == "12,345.6"


def test_rounding_is_half_up_not_banker():
    assert f.fmt_number(0.125, "en", 2) == "0.13"
    assert f.fmt_number(2.5, "en", 0) == "3"


def test_negative_uses_real_minus_and_negative_zero_is_zero():
    assert f.fmt_number(-0.04, "fr", 2) == "\u22120,04"
    assert f.fmt_number(-0.0001, "fr", 2) == "0,00"


def test_percent_with_cldr_space():
    assert f.fmt_percent(0.452, "fr") == "45,2\u00a0%"
    assert f.fmt_percent(0.452, "en") == "45.2%"
    assert f.fmt_percent(0.12345, "fr", 2) == "12,35\u00a0%"


def test_count_and_fcfa():
    assert f.fmt_count(1234, "fr") == "1\u202f234"
    assert f.fmt_count(1234.0, "en") == "1,234"
    with pytest.raises(ValueError, match="whole number"):
        f.fmt_count(3.5, "fr")
    assert f.fmt_fcfa(1234567, "fr") == "1\u202f234\u202f567\u00a0FCFA"
    assert f.fmt_fcfa(1234567, "en") == "1,234,567\u00a0FCFA"


def test_ci_french_and_english():
    assert f.fmt_ci(-0.04, -0.07, -0.01, "fr") == "\u22120,04 [\u22120,07\u202f;\u00a0\u22120,01]"
    assert f.fmt_ci(-0.04, -0.07, -0.01, "en") == "\u22120.04 [\u22120.07,\u00a0\u22120.01]"


def test_pvalue():
    assert f.fmt_pvalue(0.0321, "fr") == "p\u00a0=\u00a00,032"
    assert f.fmt_pvalue(0.00001, "fr") == "p\u00a0<\u00a00,001"
    assert f.fmt_pvalue(0.00001, "en", prefix=False) == "<\u00a00.001"
    assert f.fmt_pvalue(0.5, "en", prefix=False) == "0.500"
    with pytest.raises(ValueError):
        f.fmt_pvalue(1.5, "en")


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (dt.date(2020, 3, 24), "fr", "24 mars 2020"),
        (dt.date(2020, 3, 24), "en", "24 March 2020"),
        (dt.date(2020, 3, 1), "fr", "1er mars 2020"),
        (dt.date(2020, 3, 1), "en", "1 March 2020"),
        ("2020-08-15", "fr", "15 août 2020"),
        (pd.Timestamp("2020-03-24 10:00"), "en", "24 March 2020"),
    ],
)
def test_dates(value, lang, expected):
    assert f.fmt_date(value, lang) == expected


def test_months():
    assert f.fmt_month(dt.date(2020, 3, 24), "fr") == "mars 2020"
    assert f.fmt_month("2020-03", "en") == "March 2020"
    assert f.fmt_month(pd.Period("2021-12", freq="M"), "fr") == "décembre 2021"


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, pd.NaT])
def test_missing_values_are_a_dash(missing):
    assert f.fmt_number(missing, "fr") == f.MISSING
    assert f.fmt_date(missing, "en") == f.MISSING


def test_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="unknown report language"):
        f.fmt_number(1.0, "de")


def test_independent_of_process_locale(monkeypatch):
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert f.fmt_number(12345.6, "fr") == "12\u202f345,6"
