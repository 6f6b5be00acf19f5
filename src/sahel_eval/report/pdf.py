"""Print a page to an A4 PDF, byte-identical across processes, times and machines.

WeasyPrint, not Chromium: it comes from PyPI, so `make run` installs it without root.
The fonts come from files the lock pins (matplotlib's DejaVu Sans), font-subset
timestamps are fixed inside the writer, and a page that would carry a date is refused.
"""

from __future__ import annotations

import contextlib
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sahel_eval.fonts import FONT_FAMILY, font_dir

__all__ = ["inflate_all", "pdf_page_count", "write_pdf"]

_DATE_KEYS = re.compile(rb"/(CreationDate|ModDate)\b")
#: ``SOURCE_DATE_EPOCH`` of the embedded font subsets (1 January 2000, any fixed value).
_FONT_EPOCH = "946684800"
#: The PDF's name for the pinned DejaVu Sans files (see :func:`_pinned_fonts`).
_SANS = "Sahel Eval Sans"


def write_pdf(
    html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str]
) -> tuple[Path, int]:
    """Print a page's HTML to an A4 PDF with WeasyPrint; return the path and page count.

    Written to a temporary name and moved into place, so a failed render leaves no
    partial PDF. Raises ``ValueError`` if the PDF would carry a date (a page that sets
    ``<meta name="dcterms.created">``), which would break byte-identical reruns.
    """
    # Imported here: WeasyPrint loads Pango at import, which only the PDF rule needs.
    import weasyprint

    html_path, pdf_path = Path(html_path), Path(pdf_path)
    # A link to a sibling HTML file would be written as an absolute file:// URL of this
    # machine (the PDF would then differ between folders and leak a path); on paper the
    # file name serves the reader better. The page is self-contained, so no base URL.
    text = _RELATIVE_LINK.sub(r"\2 (\1)", html_path.read_text(encoding="utf-8"))
    # Figures' SVG text names matplotlib's family; print it with the pinned files too.
    text = _FIGURE_FONT.sub(f"font-family: '{_SANS}'", text)
    with _fixed_font_timestamps():
        # @font-face rules are ignored unless the stylesheet and the render share one
        # FontConfiguration.
        fonts = weasyprint.text.fonts.FontConfiguration()
        doc = weasyprint.HTML(string=text).render(
            stylesheets=[_pinned_fonts(weasyprint, fonts)], font_config=fonts
        )
        data = doc.write_pdf()
    if _DATE_KEYS.search(data) or _DATE_KEYS.search(inflate_all(data)):
        raise ValueError(
            f"{pdf_path.name}: WeasyPrint wrote a creation or modification date; remove "
            "the dcterms.created / dcterms.modified meta from the template"
        )
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = pdf_path.with_name(f".{pdf_path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, pdf_path)
    return pdf_path, len(doc.pages)


@contextlib.contextmanager
def _fixed_font_timestamps() -> Iterator[None]:
    """Fix the ``head.modified`` stamp of the font subsets WeasyPrint embeds.

    fontTools stamps each subset with the current time unless ``SOURCE_DATE_EPOCH`` is
    set; it is set here, inside the writer, so ``make run``, a bare ``snakemake`` and
    the Slurm profile all write the same bytes (a value from the caller's environment
    would make the PDF depend on it, so ours wins and the caller's is restored).
    """
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = _FONT_EPOCH
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def _pinned_fonts(weasyprint: Any, font_config: Any) -> Any:
    """A stylesheet using matplotlib's DejaVu Sans files (pinned by the lock) for the PDF.

    Without it the PDF embeds whatever "Noto Sans" or "DejaVu Sans" the machine's
    fontconfig finds, so two machines would print different bytes. (A face declared
    under an installed family's name, such as "DejaVu Sans", loses to the installed
    font: hence a name of our own.)
    """
    fonts = font_dir()
    faces = [
        (_SANS, "normal", "normal", "DejaVuSans.ttf"),
        (_SANS, "bold", "normal", "DejaVuSans-Bold.ttf"),
        (_SANS, "normal", "italic", "DejaVuSans-Oblique.ttf"),
        (_SANS, "bold", "italic", "DejaVuSans-BoldOblique.ttf"),
        ("Sahel Eval Mono", "normal", "normal", "DejaVuSansMono.ttf"),
    ]
    css = "".join(
        f"@font-face {{ font-family: '{family}'; font-weight: {weight}; "
        f"font-style: {style}; src: url('{(fonts / name).as_uri()}'); }}"
        for family, weight, style, name in faces
    )
    css += f"html {{ font-family: '{_SANS}'; }} .hash, code {{ font-family: 'Sahel Eval Mono'; }}"
    return weasyprint.CSS(string=css, font_config=font_config)


# A stream's bytes are exactly its /Length (WeasyPrint writes it directly): cutting at
# "endstream" instead loses a compressed stream whose last byte happens to be "\r".
_STREAM = re.compile(rb"/Length (\d+)(?:(?!>>).)*>>\s*stream\r?\n", re.S)
_FIGURE_FONT = re.compile(rf"font-family:\s*'{re.escape(FONT_FAMILY)}'")
_RELATIVE_LINK = re.compile(r'<a href="(?![a-z][a-z0-9+.-]*:|#)([^"]+)">(.*?)</a>', re.S)


def inflate_all(data: bytes) -> bytes:
    """Every Flate stream of a PDF, decompressed and joined (object streams included)."""
    parts = []
    for m in _STREAM.finditer(data):
        raw = data[m.end() : m.end() + int(m.group(1))]
        try:
            parts.append(zlib.decompress(raw))
        except zlib.error:
            continue
    return b"\n".join(parts)


def pdf_page_count(data: bytes) -> int:
    """Number of pages of a PDF written by WeasyPrint (``/Type /Page`` objects).

    WeasyPrint packs objects into compressed object streams, so the streams are
    inflated before counting. Enough for our own PDFs; not a general PDF parser.
    """
    body = data + b"\n" + inflate_all(data)
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", body))
