"""Table rows as the report templates take them: plain Python values, no NaN."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plain", "records"]


def plain(value: Any) -> Any:
    """A numpy / pandas scalar as bool, int, float or None (NaN and NA → None)."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts of :func:`plain` values."""
    return [{k: plain(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]
