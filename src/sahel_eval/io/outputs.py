"""Atomic, deterministic writers for result tables (CSV, JSON).

Floats are rounded to :data:`SIGNIFICANT_DIGITS` significant digits before writing:
the last bits of a BLAS-backed computation may differ between machines, and a
reviewer must get the same bytes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .parquet import atomic_paths

SIGNIFICANT_DIGITS = 10


def round_significant(x: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``x`` rounded to ``digits`` significant digits (NaN and 0 unchanged)."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def rounded(frame: pd.DataFrame, digits: int = SIGNIFICANT_DIGITS) -> pd.DataFrame:
    """A copy of ``frame`` with every float column rounded to ``digits`` significant digits."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            v = out[col].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                mag = np.where((v == 0) | ~np.isfinite(v), 0, np.floor(np.log10(np.abs(v))))
            scale = 10.0 ** (digits - 1 - mag)
            out[col] = np.where(np.isfinite(v), np.round(v * scale) / scale, v)
    return out


def _jsonable(obj: Any, digits: int) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v, digits) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if not math.isfinite(f) else round_significant(f, digits)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_csv(frame: pd.DataFrame, path: str | Path, *, digits: int = SIGNIFICANT_DIGITS) -> None:
    """Write a CSV atomically: UTF-8, ``\\n`` line ends, no index, floats rounded."""
    with atomic_paths(path) as (temp,):
        rounded(frame, digits).to_csv(temp, index=False, lineterminator="\n", encoding="utf-8")


def write_json(obj: Any, path: str | Path, *, digits: int = SIGNIFICANT_DIGITS) -> None:
    """Write JSON atomically: sorted keys, floats rounded, NaN as null, final newline."""
    text = json.dumps(_jsonable(obj, digits), sort_keys=True, ensure_ascii=False, indent=1)
    with atomic_paths(path) as (temp,):
        Path(temp).write_text(text + "\n", encoding="utf-8")
