"""One look for every figure, and byte-identical SVG output.

Every figure module draws with :func:`new_figure` and writes with :func:`save_svg`, so
the fonts, colours and the determinism settings (``svg.hashsalt``, no ``Date``
metadata, no absolute paths) are set in one place.

Figures are drawn once per language, so drawing is kept cheap: text stays text
(``svg.fonttype: none``: searchable, and a fraction of the bytes and time of glyph
outlines; the PDF printer maps the family to the pinned DejaVu files, see
:mod:`sahel_eval.fonts`), each figure lays itself out with ``tight_layout`` so
saving draws once (``bbox_inches="tight"`` would draw twice), and no pyplot: a bare
:class:`~matplotlib.figure.Figure` has no global state to close and a lighter import.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from sahel_eval.fonts import FONT_FAMILY
from sahel_eval.io.parquet import atomic_paths

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

    The caller lays the figure out (``fig.tight_layout()``) before saving it.
    """
    with figure_style():
        fig = Figure(figsize=(width_cm / 2.54, height_cm / 2.54))
        return fig, fig.subplots(**kwargs)


def svg_bytes(fig: Any) -> bytes:
    """The figure as SVG bytes, with no date and a fixed id salt (byte-identical reruns)."""
    buf = io.BytesIO()
    with figure_style():
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "sahel-eval"})
    return buf.getvalue()


def save_svg(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write the figure as SVG atomically (temp file in the same folder, then rename)."""
    data = svg_bytes(fig)
    with atomic_paths(path) as (tmp,):
        tmp.write_bytes(data)
    return Path(path)
