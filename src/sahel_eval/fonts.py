"""The one pinned font of figures and PDFs (DESIGN §10), in one light module.

Figures write their text as SVG text in :data:`FONT_FAMILY`; the PDF printer maps
that family (and the reports' own) to the DejaVu files shipped inside matplotlib,
whose version the lock pins, so every machine embeds the same glyphs. Kept free of
matplotlib itself: the PDF rule needs the files, not the plotting library.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["FONT_FAMILY", "font_dir"]

#: Family of all figure text (matplotlib's bundled DejaVu Sans).
FONT_FAMILY = "DejaVu Sans"


def font_dir() -> Path:
    """Folder of matplotlib's bundled TrueType fonts (``mpl-data/fonts/ttf``).

    Found without importing matplotlib (which costs a second), as
    ``matplotlib.get_data_path()`` would give it.
    """
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("matplotlib is not installed: its DejaVu fonts are needed")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
