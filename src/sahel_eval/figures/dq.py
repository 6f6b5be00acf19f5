"""Data-quality figures of one area, drawn from the DQ tables of ``results/dq/``.

Three figures per area and language (DESIGN §5, §9), never from raw data:

* ``heatmap`` — reporting status of every facility × month (report received,
  report missing, zeros keyed without a report, not expected because the facility
  was closed or not yet open), facilities grouped by district;
* ``reporting`` — completeness and timeliness per district and quarter against the
  targets (90 % and 75 % by default);
* ``attrition`` — share of expected monthly reports missing, closures and inactive
  facilities per year, by programme arm, with one thin line per district so that
  missingness concentrated in conflict-affected districts is visible.

Every text is taken from the report catalogue, so a French figure carries no English
word. Colours are Okabe–Ito and every colour is named in a legend.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.patches as mpatches
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D

from sahel_eval.clean.attrition import area_attrition
from sahel_eval.figures.style import ARM_COLOURS, PALETTE, layout, new_figure, save_svg, year_axis
from sahel_eval.text.formatting import fmt_percent
from sahel_eval.text.i18n import translate

__all__ = [
    "DQ_FIGURES",
    "HEATMAP_STATUSES",
    "attrition_figure",
    "dq_figure_paths",
    "heatmap_matrix",
    "heatmap_figure",
    "reporting_figure",
    "write_dq_figures",
]

DQ_FIGURES = ("heatmap", "reporting", "attrition")
"""Figure names; files are ``dq_{area}_{name}.svg``."""

# Code in the heat-map matrix -> (catalogue key, colour). Keyed zeros get the bright
# yellow so that they stand apart from both "received" and "missing".
HEATMAP_STATUSES: dict[int, tuple[str, str]] = {
    0: ("dq.fig.status.not_expected", "#E8E8E8"),
    1: ("dq.fig.status.reported", PALETTE["blue"]),
    2: ("dq.fig.status.missing", PALETTE["vermillion"]),
    3: ("dq.fig.status.keyed_zero", PALETTE["yellow"]),
}

# Above this many facilities the rows are too thin for names: label districts only.
MAX_NAMED_ROWS = 30


def _t(key: str, lang: str, **params: Any) -> str:
    return translate(key, lang, params)


def _year_ticks(periods: Sequence[str]) -> tuple[list[int], list[str]]:
    pos = [i for i, p in enumerate(periods) if p.endswith("01")]
    return pos, [periods[i][:4] for i in pos]


def heatmap_matrix(
    status: pd.DataFrame,
    keyed_zeros: pd.DataFrame,
    periods: Sequence[str],
    districts: Sequence[str],
) -> tuple[np.ndarray, pd.DataFrame]:
    """Status codes (see :data:`HEATMAP_STATUSES`) per facility × month.

    Parameters
    ----------
    status
        DQ table ``reporting_status``: one row per expected facility-month with
        ``facility_id, district, period, reported``.
    keyed_zeros
        DQ table ``keyed_zeros`` (``facility_id, period``).
    periods
        Columns of the matrix (``YYYYMM``, in order).
    districts
        Districts of the area, in the order the rows are grouped.

    Returns
    -------
    matrix : numpy.ndarray
        ``int8`` codes, facilities × periods; months absent from ``status`` are "not
        expected".
    rows : pandas.DataFrame
        ``facility_id, district, completeness`` per matrix row: grouped by district in
        the given order, least complete facility first within a district (problem
        facilities sit together at the top of their block).
    """
    st = status[status["district"].isin(list(districts))]
    per_fac = (
        st.groupby(["facility_id", "district"], sort=True)["reported"]
        .mean()
        .rename("completeness")
        .reset_index()
    )
    order = {d: i for i, d in enumerate(districts)}
    per_fac["_d"] = per_fac["district"].map(order)
    rows = per_fac.sort_values(["_d", "completeness", "facility_id"], kind="mergesort")
    rows = rows.drop(columns="_d").reset_index(drop=True)
    r_idx = pd.Series(np.arange(len(rows)), index=rows["facility_id"])
    c_idx = pd.Series(np.arange(len(periods)), index=list(periods))
    matrix = np.zeros((len(rows), len(periods)), dtype=np.int8)
    st = st[st["period"].isin(c_idx.index)]
    ri = r_idx[st["facility_id"]].to_numpy()
    ci = c_idx[st["period"]].to_numpy()
    matrix[ri, ci] = np.where(st["reported"].astype(bool).to_numpy(), 1, 2)
    kz = keyed_zeros[
        keyed_zeros["facility_id"].isin(r_idx.index) & keyed_zeros["period"].isin(c_idx.index)
    ]
    # A keyed zero is by definition an unreported expected month: only recolour those.
    ri, ci = r_idx[kz["facility_id"]].to_numpy(), c_idx[kz["period"]].to_numpy()
    matrix[ri, ci] = np.where(matrix[ri, ci] == 2, 3, matrix[ri, ci])
    return matrix, rows


def heatmap_figure(
    status: pd.DataFrame,
    keyed_zeros: pd.DataFrame,
    periods: Sequence[str],
    districts: Sequence[str],
    lang: str,
    *,
    names: Mapping[str, str] | None = None,
) -> Any:
    """Completeness heat map: one row per facility, one column per month.

    Parameters
    ----------
    status, keyed_zeros, periods, districts
        See :func:`heatmap_matrix`.
    lang
        Language of the texts.
    names
        Facility names by ``facility_id``; used as row labels when the area has at
        most :data:`MAX_NAMED_ROWS` facilities, otherwise rows are labelled by
        district only.

    Returns
    -------
    matplotlib.figure.Figure
    """
    matrix, rows = heatmap_matrix(status, keyed_zeros, periods, districts)
    n = max(len(rows), 1)
    fig, ax = new_figure(16.0, 5.5 + 0.085 * n)
    cmap = ListedColormap([HEATMAP_STATUSES[k][1] for k in sorted(HEATMAP_STATUSES)])
    ax.imshow(
        matrix,
        cmap=cmap,
        vmin=-0.5,
        vmax=len(HEATMAP_STATUSES) - 0.5,
        aspect="auto",
        interpolation="nearest",
    )
    ax.grid(False)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    xpos, xlab = _year_ticks(list(periods))
    ax.set_xticks(xpos, xlab)
    ax.set_xlabel(_t("dq.fig.month", lang))
    # District blocks: a white rule between blocks and the district name at the centre.
    bounds = rows.groupby("district", sort=False).size().cumsum()
    starts = bounds.shift(fill_value=0)
    for end in bounds.to_numpy()[:-1]:
        ax.axhline(end - 0.5, color="white", linewidth=2.0)
    if names is not None and len(rows) <= MAX_NAMED_ROWS:
        labels = [names.get(f, f) for f in rows["facility_id"]]
        ax.set_yticks(np.arange(len(rows)), labels, fontsize=6)
        sec = ax.secondary_yaxis("right")
        sec.set_yticks(((starts + bounds) / 2 - 0.5).to_numpy(), list(bounds.index))
    else:
        ax.set_yticks(((starts + bounds) / 2 - 0.5).to_numpy(), list(bounds.index))
    ax.tick_params(axis="y", length=0)
    ax.set_ylabel(_t("dq.fig.facilities_by_district", lang))
    ax.set_title(_t("dq.fig.heatmap.title", lang), loc="left")
    handles = [
        mpatches.Patch(facecolor=colour, edgecolor="#555555", linewidth=0.5, label=_t(key, lang))
        for _, (key, colour) in sorted(HEATMAP_STATUSES.items(), key=lambda kv: (kv[0] + 3) % 4)
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.9 / (5.5 + 0.085 * n) * 2.5),
        ncol=2,
        frameon=False,
    )
    layout(fig, lang)
    return fig


def _quarterly(district_month: pd.DataFrame) -> pd.DataFrame:
    # Sums of counts, then ratios: a quarter's completeness is reports ÷ expected over
    # its three months, as the DQ Tool computes it for a longer period.
    dm = district_month.assign(
        quarter=district_month["period"].str[:4].astype("int64")
        + (district_month["period"].str[4:6].astype("int64") - 1) // 3 / 4
    )
    q = dm.groupby(["district", "quarter"], sort=True)[["expected", "reported", "timely"]].sum()
    q = q.reset_index()
    exp = q["expected"].where(q["expected"] > 0)
    q["completeness"] = q["reported"] / exp
    q["timeliness"] = q["timely"] / exp
    return q


def reporting_figure(
    district_month: pd.DataFrame,
    districts: Sequence[str],
    lang: str,
    *,
    completeness_target: float,
    timeliness_target: float,
) -> Any:
    """Completeness and timeliness per district and quarter, one small panel each.

    Parameters
    ----------
    district_month
        DQ table ``completeness_district_month``.
    districts
        Districts of the area, in panel order.
    lang
        Language of the texts.
    completeness_target, timeliness_target
        Targets drawn as dashed lines (fractions).

    Returns
    -------
    matplotlib.figure.Figure
    """
    q = _quarterly(district_month[district_month["district"].isin(list(districts))])
    ncol = 2
    nrow = max(1, -(-len(districts) // ncol))
    fig, axes = new_figure(16.0, 3.0 + 4.2 * nrow, nrows=nrow, ncols=ncol, sharex=True, sharey=True)
    axes = np.atleast_1d(axes).ravel()
    comp_c, time_c = PALETTE["blue"], PALETTE["orange"]
    for ax, district in zip(axes, districts, strict=False):
        d = q[q["district"] == district]
        ax.plot(d["quarter"], d["completeness"] * 100, color=comp_c, linewidth=1.6)
        ax.plot(d["quarter"], d["timeliness"] * 100, color=time_c, linewidth=1.6, linestyle="-.")
        ax.axhline(completeness_target * 100, color=comp_c, linewidth=0.9, linestyle=":")
        ax.axhline(timeliness_target * 100, color=time_c, linewidth=0.9, linestyle=":")
        ax.set_title(district, loc="left")
        ax.set_ylim(0, 102)
        ax.set_yticks([0, 25, 50, 75, 100])
    # Quarters are placed at fractional years; the ticks are whole years.
    year_axis(axes[0].xaxis)
    for ax in axes[len(districts) :]:
        ax.set_visible(False)
    for ax in axes[::ncol]:
        ax.set_ylabel("%")
    c_pct = fmt_percent(completeness_target, lang, 0)
    t_pct = fmt_percent(timeliness_target, lang, 0)
    handles = [
        Line2D([], [], color=comp_c, linewidth=1.6, label=_t("dq.fig.completeness", lang)),
        Line2D(
            [],
            [],
            color=comp_c,
            linewidth=0.9,
            linestyle=":",
            label=_t("dq.fig.target", lang, target=c_pct),
        ),
        Line2D(
            [],
            [],
            color=time_c,
            linewidth=1.6,
            linestyle="-.",
            label=_t("dq.fig.timeliness", lang),
        ),
        Line2D(
            [],
            [],
            color=time_c,
            linewidth=0.9,
            linestyle=":",
            label=_t("dq.fig.target", lang, target=t_pct),
        ),
    ]
    fig.suptitle(_t("dq.fig.reporting.title", lang), x=0.02, ha="left", fontsize=10)
    # Legend below the panels, in a band reserved for it so it never covers the axes.
    band = 2.2 / (3.0 + 4.2 * nrow)
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False)
    layout(fig, lang, rect=(0, band, 1, 0.97))
    return fig


def attrition_figure(attrition: pd.DataFrame, lang: str, *, inactive_months: int = 6) -> Any:
    """Missing reports, closures and inactive facilities per year by programme arm.

    Parameters
    ----------
    attrition
        DQ table ``attrition_by_arm``, restricted to the programme(s) of the area.
    lang
        Language of the texts.
    inactive_months
        Run length that makes a facility inactive (named in a panel title).

    Returns
    -------
    matplotlib.figure.Figure
        Three panels sharing the year axis: share of expected reports missing (thick
        line per arm, thin lines per district), closures and inactive facilities
        (bars per arm).
    """
    fig, axes = new_figure(16.0, 17.0, nrows=3, sharex=True)
    total = attrition[attrition["district"] == "all"]
    detail = attrition[attrition["district"] != "all"]
    arms = [a for a in ("treated", "comparison") if a in set(attrition["arm"])]
    width = 0.38
    for i, arm in enumerate(arms):
        colour = ARM_COLOURS[arm]
        label = _t(f"dq.arm.{arm}", lang)
        for _, d in detail[detail["arm"] == arm].groupby("district", sort=True):
            axes[0].plot(
                d["year"], d["unreported_share"] * 100, color=colour, linewidth=0.7, alpha=0.55
            )
        a = total[total["arm"] == arm]
        style = "-" if arm == "treated" else "--"
        axes[0].plot(
            a["year"],
            a["unreported_share"] * 100,
            color=colour,
            linewidth=2.4,
            linestyle=style,
            marker="o" if arm == "treated" else "s",
            markersize=3.5,
            label=label,
        )
        offset = (i - (len(arms) - 1) / 2) * width
        hatch = None if arm == "treated" else "///"
        for ax, col in ((axes[1], "closures"), (axes[2], "facilities_inactive")):
            ax.bar(
                a["year"] + offset,
                a[col],
                width=width,
                color=colour,
                hatch=hatch,
                edgecolor="white" if hatch else colour,
                label=label,
            )
    axes[0].set_ylim(bottom=0)
    axes[0].set_ylabel(_t("dq.fig.attrition.missing_axis", lang))
    axes[0].set_title(_t("dq.fig.attrition.missing_title", lang), loc="left")
    axes[0].legend(
        handles=[
            *axes[0].get_legend_handles_labels()[0],
            mpatches.Patch(color="none", label=_t("dq.fig.attrition.thin_lines", lang)),
        ],
        frameon=False,
        loc="upper left",
    )
    axes[1].set_title(_t("dq.fig.attrition.closures_title", lang), loc="left")
    axes[2].set_title(
        _t("dq.fig.attrition.inactive_title", lang, months=inactive_months), loc="left"
    )
    for ax in axes[1:]:
        ax.set_ylabel(_t("dq.fig.attrition.count_axis", lang))
        ax.yaxis.get_major_locator().set_params(integer=True)
        top = max(1.0, float(ax.get_ylim()[1]))
        ax.set_ylim(0, top)
        ax.legend(frameon=False, loc="upper left")
    years = sorted(attrition["year"].unique())
    axes[2].set_xticks(years, [str(y) for y in years])
    axes[2].set_xlabel(_t("dq.fig.year", lang))
    layout(fig, lang)
    return fig


def dq_figure_paths(out_dir: str | os.PathLike[str], area: str) -> dict[str, Path]:
    """Output path of each figure of :data:`DQ_FIGURES` for ``area``."""
    return {name: Path(out_dir) / f"dq_{area}_{name}.svg" for name in DQ_FIGURES}


def write_dq_figures(
    tables: Mapping[str, pd.DataFrame],
    districts: Sequence[str],
    lang: str,
    paths: Mapping[str, str | os.PathLike[str]],
    *,
    completeness_target: float,
    timeliness_target: float,
    inactive_months: int = 6,
    names: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Draw and write every DQ figure of one area.

    Parameters
    ----------
    tables
        DQ tables by name (``reporting_status``, ``keyed_zeros``,
        ``completeness_month``, ``completeness_district_month``,
        ``attrition_by_arm``), not yet restricted to the area.
    districts
        Districts of the area (config ``areas.<area>.districts``), in display order.
    lang
        Language of the texts.
    paths
        Output SVG path per figure name (see :func:`dq_figure_paths`).
    completeness_target, timeliness_target
        Targets (fractions).
    inactive_months
        Run length that makes a facility inactive.
    names
        Facility names by ``facility_id`` (for small areas' heat-map rows).

    Returns
    -------
    dict
        Figure name -> written path.
    """
    missing = [name for name in DQ_FIGURES if name not in paths]
    if missing:
        raise ValueError(f"write_dq_figures: no output path for figures {missing}")
    periods = sorted(tables["completeness_month"]["period"].astype("str"))
    out = {
        "heatmap": save_svg(
            heatmap_figure(
                tables["reporting_status"],
                tables["keyed_zeros"],
                periods,
                districts,
                lang,
                names=names,
            ),
            paths["heatmap"],
        ),
        "reporting": save_svg(
            reporting_figure(
                tables["completeness_district_month"],
                districts,
                lang,
                completeness_target=completeness_target,
                timeliness_target=timeliness_target,
            ),
            paths["reporting"],
        ),
        "attrition": save_svg(
            attrition_figure(
                area_attrition(tables["attrition_by_arm"], districts),
                lang,
                inactive_months=inactive_months,
            ),
            paths["attrition"],
        ),
    }
    return out
