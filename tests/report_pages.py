"""Reading the demo run's reports in tests: a page, its visible text, one element, the
area's summary file. Shared by the report tests that read what a reader sees."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

AREAS = ("mopti", "bamako")
LANGS = ("fr", "en")


def page(run: Path, kind: str, area: str, lang: str) -> str:
    """``reports/{kind}_{area}_{lang}.html`` of the run, as text."""
    return (run / "reports" / f"{kind}_{area}_{lang}.html").read_text("utf-8")


def text(fragment: str) -> str:
    """Visible text of an HTML fragment, spaces collapsed (no-break spaces kept)."""
    fragment = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", fragment, flags=re.S)
    plain = html.unescape(re.sub(r"<[^>]+>", " ", fragment))
    return re.sub(r"[ \t\n]+", " ", plain)


def element(doc: str, tag: str, ident: str) -> str:
    """The first ``<tag id="ident">…</tag>`` of ``doc`` (no nesting of the same tag)."""
    m = re.search(rf'<{tag}\b[^>]*id="{re.escape(ident)}"[^>]*>.*?</{tag}>', doc, re.S)
    assert m, f"no <{tag} id={ident!r}>"
    return m.group(0)


def area_summary(run: Path, area: str) -> dict:
    """``results/summary/{area}.json`` of the run."""
    return json.loads((run / "results" / "summary" / f"{area}.json").read_text("utf-8"))
