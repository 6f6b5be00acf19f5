"""Trends figure (issue 20, id="trends"): one facility set, windows shaded, text as text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sahel_eval.figures.style import svg_bytes
from sahel_eval.figures.trends import arm_series, trends_figure

WINDOWS = {"strike": (10, 13), "covid": (20, 23)}


def _data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three facilities over 30 months; F3 has no Ê for covid, so it is left out."""
    rng = np.random.default_rng(1)
    facs = {"F1": True, "F2": False, "F3": True}
    t = np.arange(1, 31)
    panel = pd.DataFrame(
        [
            {
                "facility_id": f,
                "t": int(k),
                "month": f"{2018 + (k - 1) // 12}{(k - 1) % 12 + 1:02d}",
                "consultations_all": float(rng.integers(80, 120)),
                "reported": k != 11,  # a month not reported inside a window
            }
            for f in facs
            for k in t
        ]
    )
    rows = []
    for shock, (a, b) in WINDOWS.items():
        for f, prog in facs.items():
            for k in range(a, b + 1):
                obs = panel[(panel["facility_id"] == f) & (panel["t"] == k)].iloc[0]
                has = not (f == "F3" and shock == "covid")
                rows.append(
                    {
                        "shock_id": shock,
                        "facility_id": f,
                        "service": "consultations_all",
                        "programme": prog,
                        "t": k,
                        "reported": bool(obs["reported"]),
                        "observed": obs["consultations_all"],
                        "expected": 100.0 if has else np.nan,
                        "lower": 80.0 if has else np.nan,
                        "upper": 120.0 if has else np.nan,
                    }
                )
    return panel, pd.DataFrame(rows)


def test_trends_series_one_facility_set_and_windows_only_where_shocks_are() -> None:
    panel, windows = _data()
    s = arm_series(panel, windows, shock_ids=sorted(WINDOWS), service="consultations_all")
    assert s.groupby("programme")["n"].first().to_dict() == {False: 1, True: 1}
    treated = s[s["programme"]].set_index("t")
    f1 = panel[panel["facility_id"] == "F1"].set_index("t")["consultations_all"]
    assert treated["observed"].drop(11).equals(f1.drop(11))  # F3 not summed in
    window_t = {k for a, b in WINDOWS.values() for k in range(a, b + 1)}
    assert set(treated.index[treated["in_window"]]) == window_t
    assert treated.loc[20, "expected"] == 100.0
    assert np.isnan(treated.loc[11, "expected"])  # not reported: no Ê, still in the window


def test_trends_figure_keeps_text_and_shades_each_window() -> None:
    panel, windows = _data()
    s = arm_series(panel, windows, shock_ids=sorted(WINDOWS), service="consultations_all")
    fig = trends_figure(s, lang="fr", title="Consultations")
    # One shaded span per window, the unreported month 11 included.
    assert [len(ax.patches) for ax in fig.axes] == [2, 2]
    svg = svg_bytes(fig, id_prefix="t").decode("utf-8")
    assert "<text" in svg
    assert "Périodes des chocs nationaux" in svg and "Centres du programme" in svg
