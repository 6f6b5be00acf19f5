"""Render jinja2 templates into self-contained, reproducible HTML reports.

One :class:`jinja2.Environment` per language: the formatting filters are bound to that
language, ``t(key, **params)`` translates, and undefined variables fail (StrictUndefined)
instead of printing nothing. Pages carry their CSS, favicon and figures inline, so a
report opened offline or sent by e-mail to a district health team shows everything and
makes no network request.
"""

from __future__ import annotations

import base64
import functools
import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from sahel_eval.io.parquet import atomic_paths
from sahel_eval.report.layout import wrap_tables
from sahel_eval.report.provenance import UNCOMMITTED, UNKNOWN, Provenance
from sahel_eval.report.shocks import shock_label
from sahel_eval.text import formatting as fmt
from sahel_eval.text.i18n import (
    translate,
    translate_plural,
    translate_plural_shown,
    translate_warning,
)

TEMPLATE_PACKAGE = "sahel_eval.report"
CSS_FILE = "report.css"

# A small mark drawn in the page itself: browsers otherwise request /favicon.ico, a
# failed request in an offline or file:// setting.
_FAVICON_SVG = (
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>"
    "<rect width='16' height='16' rx='3' fill='#1f5f8b'/>"
    "<path d='M7 3h2v4h4v2H9v4H7V9H3V7h4z' fill='#fff'/></svg>"
)
FAVICON_DATA_URI = "data:image/svg+xml," + quote(_FAVICON_SVG, safe="")

# Names the renderer puts in every context; a caller's context must not set them.
_RESERVED = frozenset({"lang", "other_lang", "other_lang_href", "css", "favicon"})

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_XML_PROLOGUE = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*|<!--.*?-->\s*", re.S)
_SVG_METADATA = re.compile(r"<metadata\b.*?</metadata>\s*", re.S)
_SVG_OPEN = re.compile(r"<svg\b[^>]*>", re.S)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_AROUND = re.compile(r"\s*([{};])\s*")
_CSS_AFTER_COLON = re.compile(r":\s+")
_EXTERNAL_REF = re.compile(r"""(?:href|src)\s*=\s*["']\s*(?:https?:)?//""", re.I)


@functools.cache
def report_css() -> str:
    """The stylesheet inlined in every report, without its comments and layout spaces.

    It is inlined in each of the 14 reports, and the technical reports must stay within
    600 KB: the comments (for whoever edits ``report.css``) are a fifth of it. Spaces
    go only around braces and semicolons and after colons, where CSS ignores them (the
    sheet's one string, the page counter's ``" / "``, has none of these).
    """
    css = resources.files(TEMPLATE_PACKAGE).joinpath(CSS_FILE).read_text("utf-8")
    css = _CSS_COMMENT.sub("", css)
    return _CSS_AFTER_COLON.sub(":", _CSS_AROUND.sub(r"\1", css)).strip()


def _require_alt(alt: Any, source: str) -> str:
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(
            f"figure {source} has no alt text; describe what the figure shows for readers "
            "who cannot see it"
        )
    return alt.strip()


def inline_svg(svg: str, alt: str, *, source: str = "<svg>") -> Markup:
    """SVG markup ready to sit in the page, labelled with ``alt`` for screen readers.

    The XML prologue, DOCTYPE, comments and ``<metadata>`` (matplotlib puts URLs and
    dates there) are removed. Raises ``ValueError`` if the SVG refers to an external
    resource, which would break the page offline.
    """
    alt = _require_alt(alt, source)
    body = _SVG_METADATA.sub("", _XML_PROLOGUE.sub("", svg)).strip()
    if _EXTERNAL_REF.search(body):
        raise ValueError(f"figure {source} refers to an external resource (http/https href)")
    match = _SVG_OPEN.search(body)
    if match is None:
        raise ValueError(f"figure {source} is not an SVG document (no <svg> element)")
    label = escape(alt)
    opening = match.group(0)[:-1].rstrip("/").rstrip()
    new_open = f'{opening} role="img" aria-label="{label}"><title>{label}</title>'
    return Markup(body[: match.start()] + new_open + body[match.end() :])


def data_uri(path: str | os.PathLike[str]) -> str:
    """A file (PNG, SVG, JPEG) as a base64 ``data:`` URI."""
    path = Path(path)
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"figure {path.name}: unsupported type {path.suffix!r}; use PNG or SVG")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def embed_figure(path: str | os.PathLike[str], alt: str, *, inline: bool = True) -> Markup:
    """A figure file as HTML: SVG inlined (``inline=True``), otherwise an ``<img>`` with
    a data URI. ``alt`` is required: raises ``ValueError`` when it is blank.
    """
    path = Path(path)
    alt = _require_alt(alt, path.name)
    if inline and path.suffix.lower() == ".svg":
        return inline_svg(path.read_text("utf-8"), alt, source=path.name)
    return Markup(f'<img src="{data_uri(path)}" alt="{escape(alt)}">')


def _make_filters(lang: str) -> dict[str, Any]:
    def ci(estimate: Any, low: Any, high: Any, digits: int = 2) -> str:
        return fmt.fmt_ci(estimate, low, high, lang, digits)

    def interval(low: Any, high: Any, digits: int = 2) -> str:
        return fmt.fmt_interval(low, high, lang, digits)

    def pvalue(p: Any, prefix: bool = True) -> str:
        return fmt.fmt_pvalue(p, lang, prefix=prefix)

    def warning(code: Any, params: Mapping[str, Any] | None = None) -> str:
        return translate_warning(code, lang, params)

    return {
        "number": lambda v, digits=1: fmt.fmt_number(v, lang, digits),
        "count": lambda v: fmt.fmt_count(v, lang),
        "percent": lambda v, digits=1: fmt.fmt_percent(v, lang, digits),
        "date": lambda v: fmt.fmt_date(v, lang),
        "month": lambda v: fmt.fmt_month(v, lang),
        "fcfa": lambda v: fmt.fmt_fcfa(v, lang),
        # A number of results/summary/{area}.json, as the summary stage wrote it.
        "shown": lambda v: fmt.MISSING if v is None else v["text"][lang],
        "ci": ci,
        "interval": interval,
        "pvalue": pvalue,
        "warning": warning,
    }


@functools.cache
def get_environment(lang: str) -> jinja2.Environment:
    """The jinja2 environment for ``lang`` (one per language, built once)."""
    fmt.check_lang(lang)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(TEMPLATE_PACKAGE, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(_make_filters(lang))
    env.globals.update(
        t=lambda key, **params: translate(key, lang, params),
        tn=lambda key, n, **params: translate_plural(key, n, lang, params),
        tq=lambda key, x, digits, **params: translate_plural_shown(key, x, digits, lang, params),
        # "en Commune III", "dans le cercle de Bandiagara": config areas.<area>.place.
        place=lambda name, places: (
            places[name][lang]
            if name in places
            else translate("place.default", lang, {"name": name})
        ),
        # Every page names a shock the way the figures do (report/shocks.py).
        shock_label=lambda shock, kinds=None, dated=True: shock_label(
            shock, lang, kinds=kinds, dated=dated
        ),
        embed_figure=embed_figure,
        UNCOMMITTED=UNCOMMITTED,
        UNKNOWN=UNKNOWN,
    )
    return env


def _other_language_href(out_path: Path, lang: str) -> tuple[str, str] | None:
    """Link to the same report in the other language, when the name follows ``*_{lang}.html``."""
    stem_suffix = f"_{lang}{out_path.suffix}"
    if not out_path.name.endswith(stem_suffix):
        return None
    for other in fmt.LANGS:
        if other != lang:
            return other, out_path.name[: -len(stem_suffix)] + f"_{other}{out_path.suffix}"
    return None


def render_string(
    template_name: str,
    context: Mapping[str, Any],
    lang: str,
    *,
    out_name: str | None = None,
) -> str:
    """Render ``template_name`` in ``lang`` and return the HTML text.

    ``out_name`` (the output file name) lets the page link to its other-language twin.
    Every table is wrapped in a scrolling region (:func:`~sahel_eval.report.layout.wrap_tables`).
    """
    env = get_environment(lang)
    clash = _RESERVED.intersection(context)
    if clash:
        raise ValueError(f"context of {template_name} sets reserved names {sorted(clash)}")
    full = dict(context)
    full.update(lang=lang, css=Markup(report_css()), favicon=FAVICON_DATA_URI)
    other = _other_language_href(Path(out_name), lang) if out_name else None
    full.update(other_lang=other[0] if other else None, other_lang_href=other[1] if other else None)
    # Wide tables scroll in their own box, not the page (phones; report/layout.py).
    return wrap_tables(env.get_template(template_name).render(full))


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) so that ``path`` is either the old file or
    the complete new one, never a partial file: a temp file in the same directory, then
    ``os.replace``.
    """
    with atomic_paths(path) as (tmp,):
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)


def render_report(
    template_name: str,
    context: Mapping[str, Any],
    lang: str,
    out_path: str | os.PathLike[str],
) -> Path:
    """Render a report and write it atomically to ``out_path``.

    The whole page is rendered in memory first, so a template error (undefined
    variable, missing translation, figure without alt text) leaves no file behind and
    an earlier report at ``out_path`` untouched.
    """
    out_path = Path(out_path)
    html = render_string(template_name, context, lang, out_name=out_path.name)
    return write_atomic(out_path, html)


def render_audited_report(
    template_name: str,
    context: Mapping[str, Any],
    provenance: Provenance | Mapping[str, Any],
    lang: str,
    out_path: str | os.PathLike[str],
    *,
    synthetic: bool,
) -> Path:
    """Render a report that carries the full provenance block and the synthetic flag.

    Parameters
    ----------
    template_name
        Template under ``templates/`` (``technical.html.j2``, ``data_quality.html.j2``).
    context
        The report's context; it is copied, not changed.
    provenance
        :class:`~sahel_eval.report.provenance.Provenance` or its ``to_dict()``.
    lang
        ``fr`` or ``en``.
    out_path
        Where the page is written (atomically, as :func:`render_report`).
    synthetic
        Whether the run used synthetic data (the page then says so).

    Returns
    -------
    pathlib.Path
        ``out_path``.
    """
    full = dict(context)
    full["provenance"] = provenance.to_dict() if isinstance(provenance, Provenance) else provenance
    full["synthetic"] = bool(synthetic)
    return render_report(template_name, full, lang, out_path)
