"""Translation of report strings and warning codes from one catalogue, French first.

The catalogue (``catalogue.yaml`` next to this module) maps keys to ``{fr: ..., en: ...}``.
A missing key or language raises :class:`TranslationError` naming the key: a report
with an English sentence in the middle of a French page, or a raw key, is worse than
a failed rule.

Placeholders use ``str.format`` syntax. A placeholder may name a formatter after the
colon so that numbers follow the language: ``{n:count}``, ``{x:number}``,
``{share:percent}``, ``{day:date}``, ``{period:month}``. A bare ``{group}`` is inserted
as text (a cohort year such as 2019 must not become ``2 019``).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from sahel_eval.io.yaml_text import safe_load
from sahel_eval.text import formatting as fmt

CATALOGUE_FILE = "catalogue.yaml"
WARNING_PREFIX = "warning."

_FIELD_FORMATTERS: dict[str, Callable[[Any, str], str]] = {
    "count": fmt.fmt_count,
    "number": fmt.fmt_number,
    "percent": fmt.fmt_percent,
    "date": fmt.fmt_date,
    "month": fmt.fmt_month,
    "fcfa": fmt.fmt_fcfa,
}


class TranslationError(LookupError):
    """A key, a language or a placeholder parameter is missing from the catalogue."""


Catalogue = Mapping[str, Mapping[str, str]]


@lru_cache(maxsize=1)
def load_catalogue() -> dict[str, dict[str, str]]:
    """The packaged catalogue, read once per process."""
    text = resources.files("sahel_eval.text").joinpath(CATALOGUE_FILE).read_text("utf-8")
    return parse_catalogue(text, source=CATALOGUE_FILE)


def parse_catalogue(text: str, *, source: str = "<string>") -> dict[str, dict[str, str]]:
    """Parse catalogue YAML, checking only its shape (languages are checked on use).

    Raises ``ValueError`` naming the source and key when an entry is not a mapping of
    language to string.
    """
    data = safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{source}: the catalogue must be a mapping of key -> {{fr, en}}")
    out: dict[str, dict[str, str]] = {}
    for key, entry in data.items():
        if not isinstance(entry, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in entry.items()
        ):
            raise ValueError(f"{source}: entry {key!r} must map language codes to strings")
        out[str(key)] = dict(entry)
    return out


class _Formatter(string.Formatter):
    """``str.format`` with language-aware format specs and strict missing-field errors."""

    def __init__(self, lang: str, key: str) -> None:
        self.lang = lang
        self.key = key

    def get_value(self, field: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if isinstance(field, int) or field not in kwargs:
            raise TranslationError(
                f"translation {self.key!r} ({self.lang}) needs parameter {field!r}; "
                f"got {sorted(kwargs)}"
            )
        return kwargs[field]

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec in _FIELD_FORMATTERS:
            return _FIELD_FORMATTERS[format_spec](value, self.lang)
        if format_spec:
            raise TranslationError(
                f"translation {self.key!r} ({self.lang}) uses unknown format {format_spec!r}; "
                f"expected one of {sorted(_FIELD_FORMATTERS)} or none"
            )
        return str(value)


def translate(
    key: str,
    lang: str,
    params: Mapping[str, Any] | None = None,
    *,
    catalogue: Catalogue | None = None,
) -> str:
    """The text of ``key`` in ``lang``, with ``params`` filled in.

    Raises
    ------
    TranslationError
        When the key, its ``lang`` entry or a parameter it uses is missing.
    """
    fmt.check_lang(lang)
    cat = load_catalogue() if catalogue is None else catalogue
    if key not in cat:
        raise TranslationError(f"translation key {key!r} is not in the catalogue")
    entry = cat[key]
    if lang not in entry:
        raise TranslationError(f"translation key {key!r} has no {lang!r} text")
    # Always formatted, so a text that expects parameters fails when given none
    # instead of showing "{g}" to a reader. Literal braces are written "{{" and "}}".
    return _Formatter(lang, key).vformat(entry[lang], (), dict(params or {}))


def translate_plural(
    key: str,
    n: int,
    lang: str,
    params: Mapping[str, Any] | None = None,
    *,
    catalogue: Catalogue | None = None,
) -> str:
    """``key.one`` or ``key.other`` by Babel's plural rule of ``lang`` for ``n``.

    French says "1 CSCOM traité, 0 CSCOM traité" (``one`` covers 0 and 1) where English
    says "0 CSCOMs"; the rule is CLDR's, never a "(s)". ``n`` is passed as ``{n}``.
    """
    form = fmt.plural_form(n, lang)
    cat = load_catalogue() if catalogue is None else catalogue
    # CLDR forms this catalogue does not write (French "many") read as "other".
    name = f"{key}.{form}" if f"{key}.{form}" in cat else f"{key}.other"
    return translate(name, lang, {**dict(params or {}), "n": n}, catalogue=catalogue)


def translate_plural_shown(
    key: str,
    value: float | None,
    digits: int,
    lang: str,
    params: Mapping[str, Any] | None = None,
) -> str:
    """``key.one`` or ``key.other`` for a number as shown with ``digits`` decimals
    (a unit after a decimal value: "1,6 point de pourcentage", "1.6 percentage points")."""
    form = fmt.plural_form_shown(value, lang, digits)
    cat = load_catalogue()
    name = f"{key}.{form}" if f"{key}.{form}" in cat else f"{key}.other"
    return translate(name, lang, params or {})


def translate_warning(
    code: str | Any,
    lang: str,
    params: Mapping[str, Any] | None = None,
    *,
    catalogue: Catalogue | None = None,
) -> str:
    """A warning code as a sentence, e.g. ``few_treated_clusters`` with ``{g, treated}``.

    ``code`` may also be a :class:`sahel_eval.did.results.WarningCode` or its dict form
    (``{"code": ..., "params": ...}``); then its own parameters are used.
    """
    if isinstance(code, Mapping):
        code, params = code["code"], code.get("params", params)
    elif not isinstance(code, str) and hasattr(code, "code"):
        code, params = code.code, getattr(code, "params", params)
    return translate(WARNING_PREFIX + code, lang, params or {}, catalogue=catalogue)


def missing_translations(catalogue: Catalogue | None = None) -> list[tuple[str, str]]:
    """Every ``(key, lang)`` without text, for tests and a pre-flight check."""
    cat = load_catalogue() if catalogue is None else catalogue
    return [
        (key, lang)
        for key, entry in cat.items()
        for lang in fmt.LANGS
        if not str(entry.get(lang, "")).strip()
    ]
