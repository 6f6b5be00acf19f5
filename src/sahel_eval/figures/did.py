"""Difference-in-differences figures drawn from the tidy estimate tables (DESIGN §6, §9).

One figure per analysis × outcome × language, read from ``results/estimates/``:

* facility panels: the event study (effect by month relative to the start, reference
  month −1) above the cohort-specific ATT(g,t) curves of Callaway–Sant'Anna, both
  with their 95 % intervals;
* survey rounds: each later round against the baseline, one line per inference
  method, so that the assignment-level interval and the conventional ones are seen
  side by side.

Which interval is drawn follows the tables: the headline (assignment-level) one when
it has an interval, otherwise the facility-clustered one, which the legend then calls
conditional on the absence of district-level shocks. Nothing is estimated here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.figures.event_time import event_rows, has_ci, reading_scale
from sahel_eval.figures.style import PALETTE, layout, new_figure, wrapped_title
from sahel_eval.text import formatting as fmt
from sahel_eval.text.i18n import translate

__all__ = [
    "SURVEY_INFERENCE_ORDER",
    "facility_figure",
    "survey_figure",
]

#: Survey inference methods, assignment level first (DESIGN §6).
SURVEY_INFERENCE_ORDER = ("wild", "randomization", "crv1", "design", "hc1")

#: Columns of the event-time and ATT(g,t) rows in the outcome's unit (scaled to points).
_SCALED = ("estimate", "ci_low", "ci_high", "band_low", "band_high")
_COHORT_COLOURS = (PALETTE["blue"], PALETTE["vermillion"], PALETTE["green"], PALETTE["purple"])
_INFERENCE_COLOURS = {
    "wild": PALETTE["blue"],
    "randomization": PALETTE["sky"],
    "crv1": PALETTE["orange"],
    "design": PALETTE["vermillion"],
    "hc1": PALETTE["grey"],
}


def _att_gt_rows(estimates: pd.DataFrame, outcome: str) -> tuple[pd.DataFrame, bool]:
    sub = estimates[(estimates["outcome"] == outcome) & (estimates["aggregation"] == "att_gt")]
    head = sub[sub["headline"].astype(bool)]
    if has_ci(head):
        return head, False
    return sub[~sub["headline"].astype(bool)], True


def _ci_label(rows: pd.DataFrame, conditional: bool, lang: str) -> str:
    """The legend of the drawn intervals, named after the inference that made them: a
    randomisation interval gives its attained level, never a nominal 95 %."""
    if conditional:
        return translate("tech.fig.ci_facility", lang)
    if (rows["inference"] == "randomization").all():
        attained = rows["confidence_attained"].astype(float).min()
        return translate("tech.fig.ci_randomization", lang, {"attained": attained})
    return translate("tech.fig.ci_assignment", lang)


def facility_figure(
    estimates: pd.DataFrame,
    event_time: pd.DataFrame,
    outcome: str,
    *,
    lang: str,
    cohort_months: Mapping[int, str],
    window: tuple[int, int],
    unit: str = "per_1000_month",
) -> Any:
    """Event study (top) and ATT(g,t) by cohort (bottom) of one facility outcome.

    Parameters
    ----------
    estimates, event_time
        ``results/estimates/{analysis}.csv`` and ``{analysis}_event_time.csv``.
    outcome
        Outcome name as in the config.
    lang
        ``fr`` or ``en``.
    cohort_months
        Month index ``t`` of a cohort's start → calendar month (``YYYYMM`` or
        ``YYYY-MM``, as in the panel), used in the legend.
    window
        Event times drawn (:func:`~sahel_eval.figures.event_time.event_window`): the
        event study's window; later horizons rest on the first cohort alone and stay
        in the tables. It also keeps the technical report under 600 KB.
    unit
        The DiD stage's unit of the outcome: ``proportion`` (a quality-of-care ratio)
        is drawn in percentage points, ``per_1000_month`` as estimated.

    Returns
    -------
    matplotlib.figure.Figure
    """
    label = translate(f"dq.ind.{outcome}", lang)
    scale = reading_scale(unit)
    axis_key = "tech.fig.effect_axis_points" if scale != 1.0 else "tech.fig.effect_axis"
    axis = translate(axis_key, lang)
    fig, (top, bottom) = new_figure(16, 15, nrows=2)
    rows, conditional = event_rows(event_time, outcome, window)
    rows = rows.assign(**{c: rows[c] * scale for c in _SCALED if c in rows})
    e = rows["event_time"].to_numpy(dtype=float)
    est = rows["estimate"].to_numpy(dtype=float)
    ci_label = _ci_label(rows, conditional, lang)
    if rows["band_low"].notna().any():
        top.fill_between(
            e,
            rows["band_low"].to_numpy(dtype=float),
            rows["band_high"].to_numpy(dtype=float),
            color=PALETTE["sky"],
            alpha=0.25,
            lw=0,
            label=translate("tech.fig.uniform_band", lang),
        )
    # The intervals as one path with breaks (NaN), not one element per event time as
    # vlines writes: a fifth of the figure's size (technical report ≤ 600 KB).
    gap = np.full_like(e, np.nan)
    top.plot(
        np.column_stack([e, e, gap]).ravel(),
        np.column_stack(
            [rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float), gap]
        ).ravel(),
        color=PALETTE["blue"],
        lw=0.8,
        label=ci_label,
    )
    pre = e < 0
    top.plot(
        e[pre],
        est[pre],
        "o",
        ms=2.6,
        color=PALETTE["orange"],
        label=translate("tech.fig.before", lang),
    )
    top.plot(
        e[~pre],
        est[~pre],
        "o",
        ms=2.6,
        color=PALETTE["black"],
        label=translate("tech.fig.after", lang),
    )
    top.axhline(0, color=PALETTE["black"], lw=0.7)
    top.axvline(-0.5, color=PALETTE["grey"], lw=0.8, ls="--")
    wrapped_title(top, translate("tech.fig.event_title", lang, {"outcome": label}))
    top.set_xlabel(translate("tech.fig.event_axis", lang))
    top.set_ylabel(axis)
    top.legend(frameon=False, fontsize=7, loc="upper left")

    att, att_conditional = _att_gt_rows(estimates, outcome)
    groups = sorted(int(g) for g in att["group"].dropna().unique())
    for i, g in enumerate(groups):
        c = att[att["group"] == g].sort_values("time", kind="mergesort")
        c = c[(c["time"] - g).between(*window)]
        c = c.assign(**{k: c[k] * scale for k in _SCALED if k in c})
        x = c["time"].to_numpy(dtype=float) - g
        colour = _COHORT_COLOURS[i % len(_COHORT_COLOURS)]
        bottom.fill_between(
            x,
            c["ci_low"].to_numpy(dtype=float),
            c["ci_high"].to_numpy(dtype=float),
            color=colour,
            alpha=0.15,
            lw=0,
        )
        month = str(cohort_months.get(g) or "").replace("-", "")
        name = fmt.fmt_month(f"{month[:4]}-{month[4:6]}", lang) if len(month) >= 6 else str(g)
        bottom.plot(
            x,
            c["estimate"].to_numpy(dtype=float),
            lw=1.0,
            color=colour,
            # Line styles, not markers, tell cohorts apart in grey print: a marker per
            # cohort-month made each figure ~60 KB (issue 20: technical report ≤ 600 KB).
            ls=("-", "--", ":", "-.")[i % 4],
            label=translate("tech.fig.cohort", lang, {"start": name}),
        )
    bottom.axhline(0, color=PALETTE["black"], lw=0.7)
    bottom.axvline(-0.5, color=PALETTE["grey"], lw=0.8, ls="--")
    key = "tech.fig.attgt_title_facility" if att_conditional else "tech.fig.attgt_title"
    wrapped_title(bottom, translate(key, lang, {"outcome": label}))
    bottom.set_xlabel(translate("tech.fig.event_axis", lang))
    bottom.set_ylabel(axis)
    if groups:
        bottom.legend(frameon=False, fontsize=7, loc="upper left")
    layout(fig, lang)
    return fig


def survey_figure(estimates: pd.DataFrame, outcome: str, *, lang: str) -> Any:
    """Each later survey round against the baseline, one row per inference method.

    Effects are drawn in percentage points (proportion × 100). A method without an
    interval (not informative) is drawn as a hollow point and named so in the label.

    Returns
    -------
    matplotlib.figure.Figure
    """
    sub = estimates[estimates["outcome"] == outcome].copy()
    sub["order"] = sub["inference"].map({m: i for i, m in enumerate(SURVEY_INFERENCE_ORDER)})
    sub = sub.sort_values(["round", "order"], kind="mergesort").reset_index(drop=True)
    fig, ax = new_figure(16, 2.2 + 0.55 * len(sub))
    labels = []
    ypos = np.arange(len(sub))[::-1]
    for y, (_, r) in zip(ypos, sub.iterrows(), strict=True):
        colour = _INFERENCE_COLOURS.get(str(r["inference"]), PALETTE["black"])
        has_ci = pd.notna(r["ci_low"]) and pd.notna(r["ci_high"])
        if has_ci:
            ax.hlines(y, 100 * r["ci_low"], 100 * r["ci_high"], color=colour, lw=1.6)
        ax.plot(
            [100 * r["estimate"]],
            [y],
            "o",
            ms=5,
            color=colour,
            mfc=colour if has_ci else "white",
        )
        text = translate(
            "tech.fig.survey_row",
            lang,
            {
                "round": str(int(r["round"])),
                "inference": translate(f"tech.inference.{r['inference']}", lang),
            },
        )
        if not has_ci:
            # Randomisation inference gives a p-value, never an interval: say which case.
            key = "tech.p_only" if bool(r["informative"]) else "tech.not_informative_short"
            text += " — " + translate(key, lang)
        labels.append(text)
    ax.set_yticks(ypos, labels, fontsize=7)
    ax.axvline(0, color=PALETTE["black"], lw=0.7)
    ax.set_xlabel(translate("tech.fig.pp_axis", lang))
    # Long outcome names break into lines inside the figure, never clipped.
    wrapped_title(
        ax,
        translate(
            "tech.fig.survey_title", lang, {"outcome": translate(f"tech.outcome.{outcome}", lang)}
        ),
    )
    ax.grid(axis="y", visible=False)
    layout(fig, lang)
    return fig
