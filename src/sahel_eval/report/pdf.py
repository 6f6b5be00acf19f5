"""Print a page to an A4 PDF, byte-identical across processes, times and machines.

WeasyPrint, not Chromium: it comes from PyPI, so `make run` installs it without root.
The fonts come from files the lock pins (matplotlib's DejaVu Sans), font-subset
timestamps are fixed inside the writer, and a page that would carry a date is refused.
Pages are numbered ("2 / 4") by the ``@page`` margin boxes of ``report.css``;
:func:`page_text_outside` and :func:`page_labels` read WeasyPrint's own layout, so a
test sees what the PDF holds: no character outside its page, every page numbered.
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

__all__ = [
    "inflate_all",
    "page_labels",
    "page_text_outside",
    "pdf_page_count",
    "render_document",
    "write_pdf",
]

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
    ``<meta name="dcterms.created">``), which would break byte-identical reruns, or if
    text would fall outside a page (clipped on paper).
    """
    pdf_path = Path(pdf_path)
    with _fixed_font_timestamps():
        doc = render_document(html_path)
        _check_layout(doc, pdf_path.name)
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


def render_document(html_path: str | os.PathLike[str]) -> Any:
    """A page's HTML laid out on A4 by WeasyPrint (its ``Document``), as :func:`write_pdf`
    prints it: pinned fonts, links to sibling files written as their names."""
    # Imported here: WeasyPrint loads Pango at import, which only the PDF rule needs.
    import weasyprint

    html_path = Path(html_path)
    # A link to a sibling HTML file would be written as an absolute file:// URL of this
    # machine (the PDF would then differ between folders and leak a path); on paper the
    # file name serves the reader better. The page is self-contained, so no base URL.
    text = _RELATIVE_LINK.sub(r"\2 (\1)", html_path.read_text(encoding="utf-8"))
    # Figures' SVG text names matplotlib's family; print it with the pinned files too.
    text = _FIGURE_FONT.sub(f"font-family: '{_SANS}'", text)
    # @font-face rules are ignored unless the stylesheet and the render share one
    # FontConfiguration.
    fonts = weasyprint.text.fonts.FontConfiguration()
    return weasyprint.HTML(string=text).render(
        stylesheets=[_pinned_fonts(weasyprint, fonts)], font_config=fonts
    )


def _text_boxes(page: Any) -> Iterator[Any]:
    for box in page._page_box.descendants():
        if getattr(box, "text", "").strip():
            yield box


def page_text_outside(doc: Any, tolerance: float = 0.5) -> list[tuple[int, str]]:
    """Text of ``doc`` (from :func:`render_document`) lying partly outside its page.

    Returns ``(page number, text)`` for every laid-out run of text whose box crosses
    an edge of the page by more than ``tolerance`` CSS px: text the PDF would clip.
    """
    out = []
    for number, page in enumerate(doc.pages, start=1):
        for box in _text_boxes(page):
            x, y = box.position_x, box.position_y
            if (
                x < -tolerance
                or y < -tolerance
                or x + box.width > page.width + tolerance
                or y + box.height > page.height + tolerance
            ):
                out.append((number, box.text))
    return out


def _check_layout(doc: Any, name: str) -> None:
    """Refuse a PDF whose text would be clipped at a page edge."""
    outside = page_text_outside(doc)
    if outside:
        shown = "; ".join(f"page {page}: {text!r}" for page, text in outside[:5])
        raise ValueError(
            f"{name}: {len(outside)} runs of text fall outside the A4 page ({shown}); "
            "make the element wrap or narrower in report.css"
        )


def page_labels(doc: Any) -> list[str]:
    """The text of each page's margin boxes (the page numbers "1 / 2"), page by page."""
    labels = []
    for page in doc.pages:
        margins = [box for box in page._page_box.children if type(box).__name__ == "MarginBox"]
        labels.append(
            " ".join(b.text for m in margins for b in m.descendants() if getattr(b, "text", ""))
        )
    return labels


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
