"""Deterministic writers: same frame ⇒ same bytes (DESIGN §10)."""

from __future__ import annotations

import gzip
import io
import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyreadstat

# Fixed stamp written where a format insists on a date.
FIXED_TIME = datetime(2024, 1, 1, 0, 0, 0)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV with ``\\n`` line ends and no index."""
    path.write_bytes(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))


def write_csv_gz(frame: pd.DataFrame, path: Path) -> None:
    """Gzipped CSV with mtime 0 and an empty file name in the gzip header."""
    raw = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    with path.open("wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz:
        gz.write(raw)


def write_dta(
    frame: pd.DataFrame,
    path: Path,
    *,
    version: int,
    value_labels: dict,
    variable_labels: dict,
    data_label: str,
) -> None:
    """Stata file through pandas, which lets us fix the time stamp (pyreadstat does not).

    Version 114 is the legacy format, written in latin-1 as old surveys are.
    """
    labels = {k: v for k, v in value_labels.items() if k in frame.columns}
    buf = io.BytesIO()
    frame.to_stata(
        buf,
        write_index=False,
        version=version,
        time_stamp=FIXED_TIME,
        data_label=data_label,
        variable_labels={k: v for k, v in variable_labels.items() if k in frame.columns},
        value_labels=labels,
    )
    path.write_bytes(buf.getvalue())


# SPSS .sav header: "$FL2"(4) + product(60) + layout(4) + case size(4) + compression(4)
# + weight index(4) + ncases(4) + bias(8) = 92 bytes, then date "dd mmm yy" (9) and
# time "hh:mm:ss" (8).
_SAV_DATE_OFFSET = 92


def write_sav(
    frame: pd.DataFrame, path: Path, *, value_labels: dict, variable_labels: dict
) -> None:
    """SPSS file through pyreadstat, with the creation date and time overwritten."""
    labels = {k: v for k, v in value_labels.items() if k in frame.columns}
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels=[variable_labels.get(c, c) for c in frame.columns],
        variable_value_labels=labels,
    )
    raw = bytearray(path.read_bytes())
    stamp = FIXED_TIME.strftime("%d %b %y").encode("ascii") + FIXED_TIME.strftime(
        "%H:%M:%S"
    ).encode("ascii")
    raw[_SAV_DATE_OFFSET : _SAV_DATE_OFFSET + 17] = stamp
    path.write_bytes(bytes(raw))


def write_xlsx(frame: pd.DataFrame, path: Path, *, sheet: str) -> None:
    """XLSX through XlsxWriter with a fixed creation date (openpyxl always stamps now)."""
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        writer.book.set_properties({"created": FIXED_TIME})
        frame.to_excel(writer, sheet_name=sheet, index=False)


def write_json(obj: object, path: Path) -> None:
    """JSON with sorted keys, UTF-8, a trailing newline."""
    path.write_text(
        json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
