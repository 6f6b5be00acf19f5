"""Result objects shared by every DiD estimator.

Every estimator returns an :class:`EstimateResult` (or a subclass): a tidy table that
all other accessors derive from, warning *codes* (translated at render time, never
English sentences) and the facts a reviewer needs (n, clusters, treated clusters,
inference method, seed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

TIDY_COLUMNS = ("term", "estimate", "se", "ci_low", "ci_high", "p")


@dataclass(frozen=True)
class WarningCode:
    """A warning as a code plus parameters, e.g. ``few_treated_clusters`` with ``{"g": 2}``."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON outputs."""
        return {"code": self.code, "params": dict(self.params)}


@dataclass
class EstimateResult:
    """Tidy estimates with the facts needed to read them.

    Parameters
    ----------
    table
        One row per term with at least ``term, estimate, se, ci_low, ci_high, p``;
        estimators may add columns (e.g. ``event_time``, ``group``, ``time``,
        ``inference``).
    info
        Facts about the fit: ``estimator``, ``n``, ``n_dropped``, ``clusters``,
        ``treated_clusters``, ``inference``, ``level``, ``seed`` and any
        estimator-specific entries (pre-test, bootstrap draws …).
    warnings
        Warning codes.
    """

    table: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    warnings: list[WarningCode] = field(default_factory=list)

    def __post_init__(self) -> None:
        missing = [c for c in TIDY_COLUMNS if c not in self.table.columns]
        if missing:
            raise ValueError(f"result table lacks columns {missing}")

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    @property
    def params(self) -> pd.Series:
        """Point estimates indexed by term."""
        return self.table.set_index("term")["estimate"]

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors indexed by term."""
        return self.table.set_index("term")["se"]

    def summary(self, fmt: str = "text") -> str:
        """Render the estimates as ``"text"`` or ``"html"``."""
        frame = self.table.loc[:, list(TIDY_COLUMNS)].set_index("term")
        head = ", ".join(
            f"{k}={v}" for k, v in self.info.items() if isinstance(v, (str, int, float))
        )
        codes = ", ".join(w.code for w in self.warnings) or "none"
        if fmt == "html":
            return (
                f"<p>{head}</p>"
                + frame.to_html(float_format=lambda x: f"{x:.5f}")
                + f"<p>warnings: {codes}</p>"
            )
        if fmt != "text":
            raise ValueError(f"fmt must be 'text' or 'html', got {fmt!r}")
        return f"{head}\n{frame.to_string(float_format=lambda x: f'{x:.5f}')}\nwarnings: {codes}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (floats kept as floats; NaN becomes None)."""
        rows = self.table.replace({np.nan: None}).to_dict(orient="records")
        return {
            "info": self.info,
            "estimates": rows,
            "warnings": [w.to_dict() for w in self.warnings],
        }

    def plot(self, ax: Any = None, *, x: str = "term") -> Any:
        """Point estimates with CIs (a convenience; report figures are drawn elsewhere)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        t = self.table
        ax.errorbar(
            t[x],
            t["estimate"],
            yerr=[t["estimate"] - t["ci_low"], t["ci_high"] - t["estimate"]],
            fmt="o",
            capsize=3,
        )
        ax.axhline(0, color="grey", lw=0.8)
        return ax
