"""Report tables written as CSV, XLSX and LaTeX from one function (DESIGN §9, §10).

Programme teams open tables in Excel, researchers paste them into papers, reviewers
diff CSV: :func:`write_table` writes the same frame in the three formats, each
byte-identical across runs (XlsxWriter with a fixed ``created`` date, the LaTeX from
pandas' Styler with a fixed ``uuid``, CSV floats with a fixed number of significant
digits) and atomically (a temp file in the same folder, then ``os.replace``), so a
failed rule leaves no partial table behind.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import pandas as pd

from sahel_eval.io.parquet import atomic_paths
from sahel_eval.products import TABLE_FORMATS

__all__ = ["TABLE_CREATED", "write_table"]

#: File extensions written for every table.

#: Creation date stamped into every XLSX: a constant, so reruns are byte-identical.
TABLE_CREATED = _dt.datetime(2000, 1, 1, 0, 0, 0)

# Ten significant digits as in results/estimates (analyses.SIGNIFICANT_DIGITS): enough
# for every reported number, few enough that BLAS summation order cannot show.
_CSV_FLOAT = "%.10g"
# Excel limits sheet names to 31 characters.
_SHEET_MAX = 31


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(c, c) for c in text)


def _latex(frame: pd.DataFrame, caption: str, label: str, digits: int) -> str:
    # Booleans and missing values as plain words: a LaTeX reader has no "nan" to decode.
    shown = frame.astype(object).where(frame.notna(), "")
    styler = shown.style.format(precision=digits, escape="latex", na_rep="")
    # Column names (treated_clusters) and the caption need escaping too: an unescaped
    # "_" or "&" stops the reader's LaTeX run.
    styler.format_index(escape="latex", axis=1)
    styler.set_uuid("sahel-eval")
    styler.hide(axis="index")
    return styler.to_latex(
        caption=_latex_escape(caption),
        label=f"tab:{label}",
        hrules=True,
        position="htbp",
        position_float="centering",
        column_format="l" * frame.shape[1],
    )


def write_table(
    frame: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    name: str,
    *,
    caption: str,
    digits: int = 3,
) -> dict[str, Path]:
    """Write ``frame`` as ``{out_dir}/{name}.csv``, ``.xlsx`` and ``.tex``.

    Parameters
    ----------
    frame
        The table, one row per line, machine-readable column names (the reports
        translate them; the files keep one stable header for scripts).
    out_dir
        Folder, e.g. ``results/tables/mopti``.
    name
        File stem and XLSX sheet name (cut to 31 characters).
    caption
        LaTeX caption (``\\caption{...}``); escaped.
    digits
        Decimals shown in the LaTeX table (CSV and XLSX keep full precision).

    Returns
    -------
    dict
        Format → path written.
    """
    out = Path(out_dir)
    frame = frame.reset_index(drop=True)

    def csv(tmp: Path) -> None:
        frame.to_csv(tmp, index=False, float_format=_CSV_FLOAT, lineterminator="\n")

    def xlsx(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="xlsxwriter") as writer:
            writer.book.set_properties({"created": TABLE_CREATED})
            frame.to_excel(writer, sheet_name=name[:_SHEET_MAX], index=False)

    def tex(tmp: Path) -> None:
        tmp.write_text(_latex(frame, caption, name, digits), encoding="utf-8")

    writers = {"csv": csv, "xlsx": xlsx, "tex": tex}
    paths = {ext: out / f"{name}.{ext}" for ext in TABLE_FORMATS}
    with atomic_paths(*paths.values()) as temps:
        for ext, tmp in zip(TABLE_FORMATS, temps, strict=True):
            writers[ext](tmp)
    return paths
