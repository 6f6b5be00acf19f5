"""Trends figure (DESIGN §9, ``id="trends"``): observed against expected volume of an
essential service, programme against comparison facilities, the shock windows shaded.

One facility set runs through the whole series, so the curves compare like with like:
the facilities with an expected volume Ê in every window shown. Outside the windows
the figure shows what they reported; inside, the observed and expected volumes of the
same facility-months (:func:`sahel_eval.figures.resilience.summed_expected`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.figures.resilience import summed_expected
from sahel_eval.figures.style import PALETTE, layout, new_figure
from sahel_eval.text.i18n import translate

__all__ = ["BRIEF_SIZE", "arm_series", "trends_figure"]

#: Width and height (cm) of the brief's smaller copy of the figure: one printed A4
#: text width, short enough to leave room on the brief's four pages.
BRIEF_SIZE = (18.0, 6.5)

#: Arms, top panel first; the value of the windows table's ``programme`` column.
ARMS = (("treated", True), ("comparison", False))


def arm_series(
    panel: pd.DataFrame, windows: pd.DataFrame, *, shock_ids: list[str], service: str
) -> pd.DataFrame:
    """Monthly observed and expected volume per arm over the whole panel.

    Returns
    -------
    pandas.DataFrame
        ``programme, t, month, observed, expected, lower, upper, in_window, n`` where
        ``n`` is the arm's number of facilities; expected columns are NaN outside the
        windows and in window months no facility of the arm reported.
    """
    win = windows[
        windows["shock_id"].isin(shock_ids)
        & (windows["service"] == service)
        & windows["expected"].notna()
    ]
    per_facility = win.groupby("facility_id")["shock_id"].nunique()
    facilities = per_facility.index[per_facility == len(shock_ids)]
    # Windows that overlap would count a facility-month twice: the earlier shock keeps it.
    win = (
        win[win["facility_id"].isin(facilities)]
        .sort_values(["shock_id", "facility_id", "t"])
        .drop_duplicates(["facility_id", "t"])
    )
    arm = win.drop_duplicates("facility_id").set_index("facility_id")["programme"].astype(bool)
    p = panel[panel["facility_id"].isin(facilities)]
    observed = (
        pd.DataFrame(
            {
                "programme": p["facility_id"].map(arm).to_numpy(),
                "t": p["t"].to_numpy(),
                "month": p["month"].astype(str).to_numpy(),
                "observed": p[service].where(p["reported"].astype(bool)).to_numpy(),
            }
        )
        .groupby(["programme", "t", "month"], as_index=False)["observed"]
        .sum(min_count=1)
    )
    summed = summed_expected(win[win["reported"].astype(bool)], ["programme", "t"])
    out = observed.merge(summed, on=["programme", "t"], how="left")
    # A window month stays shaded even when none of the arm's facilities reported.
    out["in_window"] = out["t"].isin(win["t"].unique())
    # In the windows, the same facility-months as the expected sum.
    out.loc[out["in_window"], "observed"] = out.loc[out["in_window"], "obs_w"]
    out["n"] = out["programme"].map(arm.value_counts()).astype(int)
    return out.drop(columns="obs_w").sort_values(["programme", "t"]).reset_index(drop=True)


def _spans(t: np.ndarray) -> list[tuple[int, int]]:
    """Runs of consecutive months ``[(first, last), …]`` in sorted ``t``."""
    if not len(t):
        return []
    breaks = np.flatnonzero(np.diff(t) > 1)
    starts = np.r_[t[0], t[breaks + 1]]
    ends = np.r_[t[breaks], t[-1]]
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def trends_figure(
    series: pd.DataFrame, *, lang: str, title: str, size: tuple[float, float] = (16.0, 10.0)
) -> Any:
    """Two panels, programme facilities above, comparison below, one time axis.

    Each panel has its own volume scale (the arms differ in size) and shows the
    reported volume, the expected volume without the shock and its 95 % band in the
    windows (shaded). Years label the x axis (January ticks). ``size`` is width and
    height in cm (the brief draws :data:`BRIEF_SIZE`); a figure wider than the
    technical report's puts its legend on one row, one lower names its axis once.
    """
    fig, axes = new_figure(*size, nrows=2, sharex=True)
    short = size[1] < 9.0
    for ax, (arm, flag) in zip(axes, ARMS, strict=True):
        s = series[series["programme"] == flag]
        x = s["t"].to_numpy()
        win = s["in_window"].to_numpy(dtype=bool)
        for k, (a, b) in enumerate(_spans(x[win])):
            label = translate("fig.trends.windows", lang) if k == 0 else None
            ax.axvspan(a - 0.5, b + 0.5, color=PALETTE["grey"], alpha=0.18, lw=0, label=label)
        expected = s["expected"].to_numpy(dtype=float)
        ax.fill_between(
            x,
            s["lower"].to_numpy(dtype=float),
            s["upper"].to_numpy(dtype=float),
            where=win,
            color=PALETTE["sky"],
            alpha=0.35,
            lw=0,
            label=translate("fig.resilience.band", lang),
        )
        ax.plot(
            x,
            expected,
            color=PALETTE["blue"],
            ls="--",
            lw=1.2,
            label=translate("fig.resilience.expected", lang),
        )
        ax.plot(
            x,
            s["observed"].to_numpy(dtype=float),
            color=PALETTE["black"],
            lw=0.9,
            label=translate("fig.resilience.observed", lang),
        )
        n = int(s["n"].iloc[0]) if len(s) else 0
        key = "fig.resilience.programme" if arm == "treated" else "fig.resilience.comparison"
        ax.set_title(translate(key, lang, {"n": n}), fontsize=9, loc="left")
        if not short:
            ax.set_ylabel(translate("fig.resilience.volume_axis", lang))
        ax.set_ylim(bottom=0)
    if short:  # panels lower than their axis label: one label for both
        fig.supylabel(translate("fig.resilience.volume_axis", lang), fontsize=8)
    months = series.drop_duplicates("t").sort_values("t")
    jan = months[months["month"].str.endswith("01")]
    axes[-1].set_xticks(jan["t"].to_numpy())
    axes[-1].set_xticklabels(jan["month"].str[:4].tolist())
    # One legend under both panels, where it hides no data.
    handles, labels = axes[0].get_legend_handles_labels()
    one_row = size[0] > 16.0
    fig.legend(
        handles, labels, loc="lower center", frameon=False, fontsize=7, ncol=4 if one_row else 2
    )
    fig.suptitle(title, fontsize=10)
    layout(fig, lang, rect=(0, 0.08 if one_row else 0.1, 1, 1))
    return fig
