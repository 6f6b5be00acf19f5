"""One look for every figure, and byte-identical SVG output.

Every figure module draws with :func:`new_figure` and writes with :func:`save_svg`, so
the fonts, colours and the determinism settings (``svg.hashsalt``, no ``Date``
metadata, no absolute paths) are set in one place.

Figures are drawn once per language, so drawing is kept cheap: text stays text
(``svg.fonttype: none``: searchable, and a fraction of the bytes and time of glyph
outlines; the PDF printer maps the family to the pinned DejaVu files, see
:mod:`sahel_eval.fonts`), each figure lays itself out with :func:`layout` so
saving draws once (``bbox_inches="tight"``, or a layout engine left on the figure,
would draw twice), and no pyplot: a bare :class:`~matplotlib.figure.Figure` has no
global state to close and a lighter import.

Numbers on the axes are written like the reports' text (:class:`LocaleFormatter`,
Babel through :mod:`sahel_eval.text.formatting`): ``2,5`` and ``10 000`` (narrow
no-break space) in French. The SVG is compacted with unique ids per figure
(:mod:`sahel_eval.figures.svg_compact`), so figures can sit side by side in a page.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator, ScalarFormatter

from sahel_eval.figures.svg_compact import compact_svg
from sahel_eval.fonts import FONT_FAMILY
from sahel_eval.io.parquet import atomic_paths
from sahel_eval.text import formatting as fmt

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}
# Programme vs comparison, and traffic lights (always shown with a text label too).
ARM_COLOURS = {"treated": PALETTE["blue"], "comparison": PALETTE["orange"]}
STATUS_COLOURS = {
    "good": PALETTE["green"],
    "watch": PALETTE["yellow"],
    "alarm": PALETTE["vermillion"],
}

_RC: dict[str, Any] = {
    "svg.hashsalt": "sahel-eval",
    "svg.fonttype": "none",  # text as text, in the family below (pinned in the PDFs)
    "font.family": FONT_FAMILY,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "figure.dpi": 100,
    "path.simplify": False,
}


@contextmanager
def figure_style() -> Iterator[None]:
    """Matplotlib settings of every sahel-eval figure (restored afterwards)."""
    with mpl.rc_context(_RC):
        yield


def new_figure(width_cm: float = 16.0, height_cm: float = 9.0, **kwargs: Any):
    """A figure and axes in the project style; sizes in centimetres (A4 text width ≈ 16).

    The caller lays the figure out (:func:`layout`) before saving it.
    """
    with figure_style():
        fig = Figure(figsize=(width_cm / 2.54, height_cm / 2.54))
        return fig, fig.subplots(**kwargs)


class LocaleFormatter(Formatter):
    """Tick labels through :func:`sahel_eval.text.formatting.fmt_number` (Babel).

    The ticks of one axis share the fewest decimals that write every one of them
    exactly (``0,0 0,5 1,0``), as matplotlib's own formatter does; no offset, no
    scientific notation (the figures' values never need them).
    """

    def __init__(self, lang: str) -> None:
        self.lang = fmt.check_lang(lang)
        self.digits = 0

    def format_ticks(self, values: Any) -> list[str]:
        """Labels of all ticks of the axis, with the decimals they need together."""
        finite = [float(v) for v in values if math.isfinite(v)]

        def exact(d: int) -> bool:
            return all(abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)) for v in finite)

        self.digits = next((d for d in range(6) if exact(d)), 6)
        return [self(v) for v in values]

    def __call__(self, x: float, pos: int | None = None) -> str:
        return fmt.fmt_number(x, self.lang, self.digits)


def year_axis(axis: Any) -> None:
    """Whole years on ``axis`` (``2018``, never ``2 018``): an integer locator, no grouping."""
    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: str(round(v))))


#: Titles :func:`layout` breaks into lines, by figure (weakly held: a figure dropped
#: before its layout takes its entry with it).
_TO_WRAP: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()


def wrapped_title(ax: Any, text: str, **kwargs: Any) -> Any:
    """Set ``ax``'s title; :func:`layout` breaks it into lines that fit the figure
    around the axes' centre, measured with the figure's own renderer.

    matplotlib's ``wrap=True`` breaks lines only when drawing, after the layout
    measured the title as one line: the extra lines grow above the figure and are
    clipped. Explicit line breaks are measured by the layout. The breaking waits for
    :func:`layout`, which places the axes once for every title of the figure (a layout
    per title was a third of a two-panel figure's cost).
    """
    title = ax.set_title(text, **kwargs)
    _TO_WRAP.setdefault(ax.figure, []).append(title)
    return title


def _break_lines(title: Any, renderer: Any) -> None:
    """Break ``title`` into lines within twice the distance from its axes' centre to
    the nearer figure edge (less 4 %)."""
    box = title.axes.get_position()
    centre = (box.x0 + box.x1) / 2
    room = 2 * min(centre, 1 - centre) * title.figure.bbox.width * 0.96
    text = title.get_text()
    # A sign alone ("(>" of "(> 10 %") stays with the word after it.
    words: list[str] = []
    for word in text.split(" "):
        if words and not any(c.isalnum() for c in words[-1]):
            words[-1] = f"{words[-1]} {word}"
        else:
            words.append(word)
    lines: list[str] = []
    line = ""
    for word in words:
        trial = f"{line} {word}" if line else word
        title.set_text(trial)
        if line and title.get_window_extent(renderer).width > room:
            lines.append(line)
            line = word
        else:
            line = trial
    lines.append(line)
    title.set_text("\n".join(lines))


def layout(fig: Any, lang: str, **tight: Any) -> None:
    """Write the numbers of every axis in ``lang``, break the titles of
    :func:`wrapped_title` into lines, then lay the figure out.

    Axes that still carry matplotlib's default number formatter get a
    :class:`LocaleFormatter`; tick labels a figure set itself (months, names, years
    through :func:`year_axis`) are kept. ``tight`` goes to ``fig.tight_layout``. With
    titles to break, a first layout without them places the axes (their centres
    bound the lines' width), and a second one makes room for the lines.
    """
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(LocaleFormatter(lang))
    titles = _TO_WRAP.pop(fig, [])
    if titles:
        # One line each while the axes are placed: a long single line would widen
        # the layout's bounding boxes and push the axes aside.
        texts = [t.get_text() for t in titles]
        for title, text in zip(titles, texts, strict=True):
            title.set_text(text.split(" ", 1)[0])
        fig.tight_layout(**tight)
        renderer = fig._get_renderer()  # the one tight_layout measures with
        for title, text in zip(titles, texts, strict=True):
            title.set_text(text)
            _break_lines(title, renderer)
    fig.tight_layout(**tight)
    # tight_layout leaves a placeholder engine behind, and savefig draws once more
    # (text measured twice) for any engine: the layout is done, so remove it.
    fig.set_layout_engine(None)


def svg_bytes(fig: Any, *, id_prefix: str) -> bytes:
    """The figure as compact SVG bytes, no date, ids and classes starting ``id_prefix``."""
    buf = io.BytesIO()
    with figure_style():
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "sahel-eval"})
    return compact_svg(buf.getvalue(), id_prefix, FONT_FAMILY)


def figure_prefix(name: str) -> str:
    """A short id prefix from a figure's file name: the same file, the same ids.

    ``f`` then four base-36 digits of the name's SHA-256 (1.7 million values): the
    prefix starts every id and class of the figure, thousands of times per report,
    so each character counts against the technical report's 600 KB.
    """
    n = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    digits = ""
    for _ in range(4):
        n, d = divmod(n, 36)
        digits += "0123456789abcdefghijklmnopqrstuvwxyz"[d]
    return "f" + digits


def save_svg(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write the figure as SVG atomically (temp file in the same folder, then rename).

    Its ids and classes are prefixed from the file name (:func:`figure_prefix`), so
    the figures a report inlines never share an id.
    """
    data = svg_bytes(fig, id_prefix=figure_prefix(Path(path).name))
    with atomic_paths(path) as (tmp,):
        tmp.write_bytes(data)
    return Path(path)
