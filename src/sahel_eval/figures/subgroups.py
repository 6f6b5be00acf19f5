"""Forest figure of one outcome's subgroup effects and their gap (DESIGN §4).

Drawn from the ``subgroups`` section of ``results/estimates/{analysis}.json``, for the
last round against the baseline (the earlier rounds are in that file; one round keeps
the technical report within its size): per subgroup, each group's assignment-level
effect with its interval (a hollow dot when the inference is not informative, a note
when the cell was suppressed), then the gap between the groups (a diamond) with the
interval of the randomisation test, its verdict, p and smallest attainable p. Effects
in percentage points; a facility analysis's section (``unit: per_1000``, split by the
CSCOM's residence) is drawn per 1,000 population per month from its programme's first
exposed month (``post_from``), and a group its estimator could not run on says so
(``not_estimable``). Nothing is estimated or decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sahel_eval.figures.style import PALETTE, layout, new_figure
from sahel_eval.text import formatting as fmt
from sahel_eval.text.i18n import translate

__all__ = ["ASSIGNMENT_INFERENCE", "last_round_tests", "subgroup_forest", "subgroup_lines"]

#: The inferences of a subgroup row drawn (the headline's, assignment level).
ASSIGNMENT_INFERENCE = ("randomization", "wild")


def _row(section: Mapping[str, Any], outcome: str, rnd: int, name: str, group: str) -> dict:
    for r in section["estimates"]:
        if (r["outcome"], int(r["round"]), r["subgroup"], r["group_name"]) != (
            outcome,
            rnd,
            name,
            group,
        ):
            continue
        if r["suppressed"] or r.get("not_estimable") or r["inference"] in ASSIGNMENT_INFERENCE:
            return r
    raise ValueError(f"subgroups: no row for {outcome}, {rnd}, {name}={group}")


def last_round_tests(section: Mapping[str, Any], outcome: str) -> list[dict[str, Any]]:
    """The equality tests of ``outcome`` at the last round, by subgroup name."""
    tests = [t for t in section["tests"] if t["outcome"] == outcome]
    last = max(t["round"] for t in tests)
    return sorted((t for t in tests if t["round"] == last), key=lambda t: t["subgroup"])


def subgroup_lines(section: Mapping[str, Any], outcome: str, lang: str) -> list[dict[str, Any]]:
    """The figure's lines, top to bottom: ``kind`` (header | group | gap), label (the
    gap's says its verdict, p and p_min), estimate and interval in percentage points
    (None where not shown)."""
    facility = section.get("unit") == "per_1000"
    scale = 1.0 if facility else 100.0
    suppressed_key = "tech.fig.subgroup_suppressed" + ("_facility" if facility else "")
    lines = []
    for test in last_round_tests(section, outcome):
        sub = section["definitions"][test["subgroup"]]
        lines.append(_line("header", sub["label"][lang], {}, True, scale))
        for group in sub["groups"]:
            r = _row(section, outcome, test["round"], test["subgroup"], group["name"])
            text = group["label"][lang]
            empty = bool(r["suppressed"] or r.get("not_estimable"))
            if r["suppressed"]:
                text += " — " + translate(suppressed_key, lang, {"k": section["small_cell_k"]})
            elif r.get("not_estimable"):
                text += " — " + translate("tech.fig.subgroup_not_estimable", lang)
            elif r["ci_low"] is None:
                text += " — " + translate("tech.not_informative_short", lang)
            lines.append(_line("group", text, r, empty, scale))
        verdict = translate(f"tech.subgroup.verdict.{test['verdict']}", lang)
        if test["p"] is not None:
            p_min = fmt.fmt_number(test["p_min"], lang, 3)
            p = fmt.fmt_pvalue(test["p"], lang)
            verdict += "\n" + translate("tech.fig.subgroup_p", lang, {"p": p, "p_min": p_min})
        text = translate("tech.fig.subgroup_gap", lang, {"verdict": verdict})
        lines.append(_line("gap", text, test, test["estimate"] is None, scale))
    return lines


def _line(kind: str, label: str, r: Mapping[str, Any], empty: bool, scale: float) -> dict[str, Any]:
    def pp(key: str) -> float | None:
        v = r.get(key)
        return None if (empty or v is None or not np.isfinite(v)) else scale * float(v)

    return {
        "kind": kind,
        "label": label,
        "estimate": pp("estimate"),
        "ci_low": pp("ci_low"),
        "ci_high": pp("ci_high"),
    }


def subgroup_forest(section: Mapping[str, Any], outcome: str, *, lang: str) -> Any:
    """Forest figure of ``outcome``'s subgroup effects and gaps.

    Returns
    -------
    matplotlib.figure.Figure
    """
    lines = subgroup_lines(section, outcome, lang)
    # Gap labels (up to three lines) need room above and below them.
    gap = np.array([line["kind"] == "gap" for line in lines], dtype=float)
    ypos = -np.cumsum(1.0 + 0.8 * gap + 0.8 * np.r_[0.0, gap[:-1]])
    fig, ax = new_figure(16, 2.2 + 0.45 * float(-ypos.min()))
    for y, line in zip(ypos, lines, strict=True):
        colour = PALETTE["vermillion"] if line["kind"] == "gap" else PALETTE["blue"]
        has_ci = line["ci_low"] is not None and line["ci_high"] is not None
        if has_ci:
            ax.hlines(y, line["ci_low"], line["ci_high"], color=colour, lw=1.6)
        if line["estimate"] is not None:
            ax.plot(
                [line["estimate"]],
                [y],
                "D" if line["kind"] == "gap" else "o",
                ms=5,
                color=colour,
                mfc=colour if has_ci else "white",
            )
    ax.set_yticks(ypos, [line["label"] for line in lines], fontsize=7)
    ax.tick_params(axis="y", length=0)
    for tick, line in zip(ax.get_yticklabels(), lines, strict=True):
        if line["kind"] == "header":
            tick.set_fontweight("bold")
    ax.axvline(0, color=PALETTE["black"], lw=0.7)
    facility = section.get("unit") == "per_1000"
    ax.set_xlabel(translate("tech.fig.effect_axis" if facility else "tech.fig.pp_axis", lang))
    test = last_round_tests(section, outcome)[0]
    # Facility outcomes are named as the data-quality tables name indicators.
    prefix = "dq.ind." if facility else "tech.outcome."
    title = {
        "outcome": translate(prefix + outcome, lang),
        "baseline": str(test["baseline"]),
        "round": str(test["round"]),
    }
    if facility:
        key, title = (
            "tech.fig.subgroup_title_facility",
            {
                "outcome": title["outcome"],
                "start": fmt.fmt_month(
                    f"{section['post_from'][:4]}-{section['post_from'][4:6]}", lang
                ),
            },
        )
    else:
        key = "tech.fig.subgroup_title"
    # Over the whole figure: the labels leave the axes too narrow for the title.
    fig.suptitle(translate(key, lang, title))
    ax.grid(axis="y", visible=False)
    layout(fig, lang)
    return fig
