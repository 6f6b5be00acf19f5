"""Page layout applied to every rendered report: wide tables scroll in their own box.

A table wider than a 390 px phone would make the whole page scroll sideways. Every
``<table>`` of a page is therefore wrapped, once, after rendering (so a table a
template adds later is wrapped too) in::

    <div class="table-scroll" role="region" tabindex="0" aria-label="caption">

``report.css`` lets that box scroll horizontally on screen and lays it out as usual
in print. The box is a named, keyboard-focusable region, as WCAG asks of a scrolling
area (axe-core's ``scrollable-region-focusable``); its name is the table's caption,
or its first header cell when it has none.
"""

from __future__ import annotations

import html
import re

__all__ = ["wrap_tables"]

_TABLE = re.compile(r"<table\b.*?</table>", re.S)
_CAPTION = re.compile(r"<caption\b[^>]*>(.*?)</caption>", re.S)
_FIRST_HEADER = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _name(table: str) -> str:
    match = _CAPTION.search(table) or _FIRST_HEADER.search(table)
    if match is None:
        return ""
    return " ".join(html.unescape(_TAG.sub(" ", match.group(1))).split())


def wrap_tables(page: str) -> str:
    """``page`` with each table inside a scrolling, focusable, named region.

    Raises ``ValueError`` when a table has neither caption nor header cell: the
    region would have no name to announce.
    """

    def wrap(match: re.Match[str]) -> str:
        table = match.group(0)
        name = _name(table)
        if not name:
            raise ValueError(f"a table has no <caption> and no <th> to name it: {table[:120]!r}")
        label = html.escape(name, quote=True)
        return (
            f'<div class="table-scroll" role="region" tabindex="0" aria-label="{label}">'
            f"{table}</div>"
        )

    return _TABLE.sub(wrap, page)
