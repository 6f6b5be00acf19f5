"""Resilience figures (DESIGN §7, §9), drawn from the resilience tables once per language.

- :func:`observed_expected_figure` — observed volume against the expected volume Ê
  with its 95 % prediction band, the shock window shaded; for one facility
  (:func:`facility_series`) or one district (:func:`district_series`).
- :func:`tau_distribution_figure` — share of windows by time to recovery, programme
  vs comparison facilities, "not recovered" as its own bar.

Which facility, district and shock are shown is decided by
:func:`sahel_eval.resilience.example.pick_example` (a documented rule, so the report can
say why this one); it is named here too because the figures rule calls it through this
module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sahel_eval.figures.style import ARM_COLOURS, PALETTE, layout, new_figure, wrapped_title
from sahel_eval.text.formatting import fmt_month
from sahel_eval.text.i18n import translate

__all__ = [
    "district_series",
    "facility_series",
    "observed_expected_figure",
    "summed_expected",
    "tau_distribution_figure",
]

#: Months of history shown before the onset.
MONTHS_BEFORE = 24

_Z = 1.959963984540054


def facility_series(
    panel: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    facility_id: str,
    shock_id: str,
    service: str,
    months_before: int = MONTHS_BEFORE,
) -> pd.DataFrame:
    """Monthly observed and expected volume of one facility around one shock.

    Returns
    -------
    pandas.DataFrame
        ``t, month, observed, expected, lower, upper, in_window`` from
        ``months_before`` months before onset to the window's end.
    """
    win = windows[
        (windows["facility_id"] == facility_id)
        & (windows["shock_id"] == shock_id)
        & (windows["service"] == service)
    ]
    t0, t1 = int(win["t"].min()), int(win["t"].max())
    p = panel[(panel["facility_id"] == facility_id) & panel["t"].between(t0 - months_before, t1)]
    obs = p[service].where(p["reported"].astype(bool))
    out = pd.DataFrame({"t": p["t"].to_numpy(), "month": p["month"].to_numpy(), "observed": obs})
    out = out.merge(win[["t", "expected", "lower", "upper"]], on="t", how="left")
    out["in_window"] = out["t"].between(t0, t1)
    return out.sort_values("t").reset_index(drop=True)


def district_series(
    panel: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    district: str,
    shock_id: str,
    service: str,
    months_before: int = MONTHS_BEFORE,
) -> pd.DataFrame:
    """Observed and expected volume of a district's assessable facilities, summed.

    Only facilities with an expected volume for the shock are summed, and in the
    window a month adds a facility's Ê only when it reported (observed and expected
    cover the same facility-months). The band of the sum: :func:`summed_expected`.
    """
    win = windows[
        (windows["district"] == district)
        & (windows["shock_id"] == shock_id)
        & (windows["service"] == service)
        & windows["expected"].notna()
    ]
    facs = win["facility_id"].unique()
    t0, t1 = int(win["t"].min()), int(win["t"].max())
    p = panel[panel["facility_id"].isin(facs) & panel["t"].between(t0 - months_before, t1)]
    obs = p[service].where(p["reported"].astype(bool))
    before = (
        pd.DataFrame({"t": p["t"], "month": p["month"], "observed": obs})
        .groupby(["t", "month"], as_index=False)["observed"]
        .sum(min_count=1)
    )
    summed = summed_expected(win[win["reported"]], ["t"])
    out = before.merge(summed[["t", "expected", "lower", "upper", "obs_w"]], on="t", how="left")
    out["in_window"] = out["t"].between(t0, t1)
    # In the window, the same facility-months as the expected sum.
    out.loc[out["in_window"], "observed"] = out.loc[out["in_window"], "obs_w"]
    return out.drop(columns="obs_w").sort_values("t").reset_index(drop=True)


def summed_expected(windows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Expected volume, its 95 % band and the observed volume summed by ``by``.

    ``windows`` rows are facility-months that reported and have an Ê. The band of the
    sum is ``Σ Ê ± 1.96 sqrt(Σ s_i²)`` with ``s_i = (upper_i − lower_i) / 3.92``:
    facility intervals added as if independent, which they are in the model.
    Returns ``by, expected, lower, upper, obs_w``.
    """
    w = windows.assign(var=((windows["upper"] - windows["lower"]) / (2 * _Z)) ** 2)
    summed = w.groupby(by, as_index=False).agg(
        expected=("expected", "sum"), var=("var", "sum"), obs_w=("observed", "sum")
    )
    half = _Z * np.sqrt(summed["var"])
    summed["lower"] = np.maximum(summed["expected"] - half, 0.0)
    summed["upper"] = summed["expected"] + half
    return summed.drop(columns="var")


def _month_label(month: str, lang: str) -> str:
    """``YYYYMM`` as a month name (Babel): ``mars 2020``, ``March 2020``."""
    return fmt_month(f"{month[:4]}-{month[4:6]}", lang)


def observed_expected_figure(series: pd.DataFrame, *, lang: str, title: str) -> Any:
    """Observed vs expected volume with the prediction band and the shock shaded.

    Parameters
    ----------
    series
        Output of :func:`facility_series` or :func:`district_series`.
    lang
        ``fr`` or ``en`` (axis labels and legend from the catalogue).
    title
        Already translated title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = new_figure(16, 8)
    x = series["t"].to_numpy()
    win = series["in_window"].to_numpy(dtype=bool)
    if win.any():
        ax.axvspan(
            x[win].min() - 0.5,
            x[win].max() + 0.5,
            color=PALETTE["grey"],
            alpha=0.18,
            lw=0,
            label=translate("fig.resilience.shock_window", lang),
        )
    ax.fill_between(
        x[win],
        series["lower"].to_numpy(dtype=float)[win],
        series["upper"].to_numpy(dtype=float)[win],
        color=PALETTE["sky"],
        alpha=0.35,
        lw=0,
        label=translate("fig.resilience.band", lang),
    )
    ax.plot(
        x[win],
        series["expected"].to_numpy(dtype=float)[win],
        color=PALETTE["blue"],
        ls="--",
        lw=1.5,
        label=translate("fig.resilience.expected", lang),
    )
    ax.plot(
        x,
        series["observed"].to_numpy(dtype=float),
        color=PALETTE["black"],
        marker="o",
        ms=2.5,
        lw=1.0,
        label=translate("fig.resilience.observed", lang),
    )
    step = 6
    ticks = x[::step]
    ax.set_xticks(ticks)
    ax.set_xticklabels(
        [_month_label(str(m), lang) for m in series["month"].to_numpy()[::step]],
        rotation=45,
        ha="right",
    )
    ax.set_ylabel(translate("fig.resilience.volume_axis", lang))
    ax.set_xlabel(translate("fig.resilience.month_axis", lang))
    ax.set_ylim(bottom=0)
    wrapped_title(ax, title)  # long shock names break into lines inside the figure
    ax.legend(loc="lower left", frameon=False, fontsize=8, ncol=2)
    layout(fig, lang)
    return fig


def tau_distribution_figure(
    indicators: pd.DataFrame, *, service: str, window_months: int, lang: str, title: str
) -> Any:
    """Share of assessable windows by time to recovery, programme vs comparison.

    All shocks of the table are pooled for ``service``; each arm's bars sum to 1
    (interrupted windows are placed by their τ like the others). Arms differ by
    colour *and* hatch, and the legend names them.
    """
    ok = indicators[(indicators["service"] == service) & indicators["assessable"].astype(bool)]
    n_tau = max(window_months - 2, 1)
    cats = [str(k) for k in range(n_tau)] + [translate("fig.resilience.not_recovered", lang)]
    fig, ax = new_figure(16, 8)
    width = 0.4
    pos = np.arange(len(cats))
    for j, (arm, hatch) in enumerate((("comparison", ""), ("treated", "//"))):
        sel = ok["programme"].astype(bool) == (arm == "treated")
        sub = ok[sel]
        n = len(sub)
        tau = pd.to_numeric(sub["tau"], errors="coerce")
        cens = sub["censored"].astype(bool)
        counts = [int(((tau == k) & ~cens).sum()) for k in range(n_tau)] + [int(cens.sum())]
        share = np.array(counts, dtype=float) / n if n else np.zeros(len(cats))
        label_key = "fig.resilience.programme" if arm == "treated" else "fig.resilience.comparison"
        ax.bar(
            pos + (j - 0.5) * width,
            share,
            width,
            color=ARM_COLOURS[arm],
            hatch=hatch,
            edgecolor="white",
            label=translate(label_key, lang, {"n": n}),
        )
    ax.set_xticks(pos)
    ax.set_xticklabels(cats)
    ax.set_xlabel(translate("fig.resilience.tau_axis", lang))
    ax.set_ylabel(translate("fig.resilience.share_axis", lang))
    wrapped_title(ax, title)  # long shock names break into lines inside the figure
    ax.legend(frameon=False, fontsize=8)
    layout(fig, lang)
    return fig
