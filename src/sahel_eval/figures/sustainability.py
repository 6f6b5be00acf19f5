"""Mutual-insurance KPI trends with good / watch / alarm bands (DESIGN §8, §9).

One panel per KPI, one line per mutual (colour *and* marker differ). The bands are
shaded in the traffic-light colours of :data:`STATUS_COLOURS` and named in text at
the right edge, so the figure reads without colour vision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.figures.style import PALETTE, STATUS_COLOURS, layout, new_figure, year_axis
from sahel_eval.sustainability import KPI_DEFINITIONS
from sahel_eval.text.i18n import translate

__all__ = ["kpi_trends_figure"]

_LINE_COLOURS = (PALETTE["black"], PALETTE["blue"], PALETTE["purple"], PALETTE["orange"])
_MARKERS = ("o", "s", "^", "D", "v")


def _bands(
    bounds: Mapping[str, Sequence[float | None]], ymax: float
) -> list[tuple[str, float, float]]:
    """Disjoint (status, low, high) pieces of [0, ymax] from the good/watch intervals."""
    edges = {0.0, ymax}
    for key in ("good", "watch"):
        for b in bounds[key]:
            if b is not None and 0 < b < ymax:
                edges.add(float(b))
    cuts = sorted(edges)
    out = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        mid = (lo + hi) / 2

        def inside(iv: Sequence[float | None], v: float = mid) -> bool:
            return (iv[0] is None or v >= iv[0]) and (iv[1] is None or v <= iv[1])

        status = (
            "good" if inside(bounds["good"]) else "watch" if inside(bounds["watch"]) else "alarm"
        )
        out.append((status, lo, hi))
    return out


def kpi_trends_figure(
    kpis: pd.DataFrame,
    thresholds: Mapping[str, Mapping[str, Sequence[float | None]]],
    *,
    lang: str,
) -> Any:
    """KPI per mutual and year, over the good / watch / alarm bands.

    Parameters
    ----------
    kpis
        :func:`sahel_eval.sustainability.mutual_kpis` output (long).
    thresholds
        Config ``sustainability.kpi_thresholds``.
    lang
        ``fr`` or ``en``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(KPI_DEFINITIONS)
    ncol = 2
    nrow = int(np.ceil(len(names) / ncol))
    fig, axes = new_figure(16, 5.2 * nrow, nrows=nrow, ncols=ncol, sharex=True)
    axes = np.atleast_1d(axes).ravel()
    mutuals = sorted(
        {(str(m), str(s)) for m, s in zip(kpis["mutual"], kpis["scheme"], strict=True)}
    )
    years = sorted(kpis["year"].unique())
    for ax, kpi in zip(axes, names, strict=False):
        sub = kpis[kpis["kpi"] == kpi]
        vmax = float(np.nanmax(sub["value"].to_numpy(dtype=float), initial=0.0))
        ymax = max(vmax * 1.15, *(b for k in ("good", "watch") for b in thresholds[kpi][k] if b))
        for status, lo, hi in _bands(thresholds[kpi], ymax):
            ax.axhspan(lo, hi, color=STATUS_COLOURS[status], alpha=0.22, lw=0)
            ax.text(
                1.01,
                (lo + hi) / 2 / ymax,
                translate(f"fig.sustainability.status.{status}", lang),
                transform=ax.transAxes,
                fontsize=6.5,
                va="center",
                ha="left",
            )
        for i, (mutual, scheme) in enumerate(mutuals):
            m = sub[(sub["mutual"] == mutual) & (sub["scheme"] == scheme)].sort_values("year")
            ax.plot(
                m["year"],
                m["value"].to_numpy(dtype=float),
                color=_LINE_COLOURS[i % len(_LINE_COLOURS)],
                marker=_MARKERS[i % len(_MARKERS)],
                ms=3.5,
                lw=1.2,
                label=f"{mutual} — {scheme}",
            )
        ax.set_ylim(0, ymax)
        ax.set_title(translate(f"kpi.{kpi}", lang), fontsize=8.5)
        ax.grid(False)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    for ax in axes[: len(names)]:
        ax.set_xticks(years)
        year_axis(ax.xaxis)
        ax.set_xticks(years)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower right", frameon=False, fontsize=7.5)
    fig.suptitle(translate("fig.sustainability.title", lang))
    layout(fig, lang)
    return fig
