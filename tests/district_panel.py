"""A small staggered panel of districts and facilities, shared by the imputation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def district_panel(effect: float, seed: int = 3) -> pd.DataFrame:
    """8 districts × 3 facilities × 10 periods; districts 0 and 1 treated (starts 5, 7)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(8):
        for f in range(3):
            start = {0: 5, 1: 7}.get(d, 0)
            for t in range(1, 11):
                treated = start and t >= start
                y = f + 0.3 * t + rng.normal() + effect * treated
                rows.append((f"d{d}", f"d{d}f{f}", t, start, y))
    return pd.DataFrame(rows, columns=["district", "fac", "t", "g", "y"])
