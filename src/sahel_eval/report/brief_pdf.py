"""Print a programme brief's HTML to a byte-identical A4 PDF (WeasyPrint).

The PDF is printed by WeasyPrint rather than headless Chromium: WeasyPrint is a plain
PyPI package that ``make run`` installs into the virtual environment without root,
whereas Chromium needs a system package. WeasyPrint 70 writes neither a creation date
nor a document ``/ID`` unless the page asks for one, so two renders of the same HTML
are byte-identical; :func:`write_brief_pdf` checks that no date slipped in.
"""

from __future__ import annotations

import contextlib
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["pdf_page_count", "write_brief_pdf"]

_DATE_KEYS = re.compile(rb"/(CreationDate|ModDate)\b")
#: ``SOURCE_DATE_EPOCH`` of the embedded font subsets (1 January 2000, any fixed value).
_FONT_EPOCH = "946684800"


def write_brief_pdf(
    html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str]
) -> tuple[Path, int]:
    """Print a brief's HTML to an A4 PDF with WeasyPrint; return the path and page count.

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
    with _fixed_font_timestamps():
        doc = weasyprint.HTML(string=text).render(stylesheets=[_pinned_fonts(weasyprint)])
        data = doc.write_pdf()
    if _DATE_KEYS.search(data) or _DATE_KEYS.search(_inflate_all(data)):
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


def _pinned_fonts(weasyprint: Any) -> Any:
    """A stylesheet using matplotlib's DejaVu Sans files (pinned by the lock) for the PDF.

    Without it the PDF embeds whatever "Noto Sans" or "DejaVu Sans" the machine's
    fontconfig finds, so two machines would print different bytes.
    """
    from matplotlib import get_data_path

    fonts = Path(get_data_path()) / "fonts" / "ttf"
    faces = [
        ("Sahel Eval Sans", "normal", "normal", "DejaVuSans.ttf"),
        ("Sahel Eval Sans", "bold", "normal", "DejaVuSans-Bold.ttf"),
        ("Sahel Eval Sans", "normal", "italic", "DejaVuSans-Oblique.ttf"),
        ("Sahel Eval Sans", "bold", "italic", "DejaVuSans-BoldOblique.ttf"),
        ("Sahel Eval Mono", "normal", "normal", "DejaVuSansMono.ttf"),
    ]
    css = "".join(
        f"@font-face {{ font-family: '{family}'; font-weight: {weight}; "
        f"font-style: {style}; src: url('{(fonts / name).as_uri()}'); }}"
        for family, weight, style, name in faces
    )
    css += (
        "html { font-family: 'Sahel Eval Sans'; } .hash, code { font-family: 'Sahel Eval Mono'; }"
    )
    return weasyprint.CSS(string=css)


_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_RELATIVE_LINK = re.compile(r'<a href="(?![a-z][a-z0-9+.-]*:|#)([^"]+)">(.*?)</a>', re.S)


def _inflate_all(data: bytes) -> bytes:
    """Every Flate stream of a PDF, decompressed and joined (object streams included)."""
    parts = []
    for m in _STREAM.finditer(data):
        try:
            parts.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def pdf_page_count(data: bytes) -> int:
    """Number of pages of a PDF written by WeasyPrint (``/Type /Page`` objects).

    WeasyPrint packs objects into compressed object streams, so the streams are
    inflated before counting. Enough for our own PDFs; not a general PDF parser.
    """
    body = data + b"\n" + _inflate_all(data)
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", body))
