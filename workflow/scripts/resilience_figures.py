"""Snakemake adapter: one area's resilience figures, in every language of the config.

The trends figure (observed vs expected by arm through the national shocks, the
``trends`` section) is drawn here too, at two sizes (technical report, brief): it reads
the same inputs, and one job fewer saves a process start-up.
"""

import pandas as pd

from sahel_eval.figures import resilience as fig
from sahel_eval.figures.style import new_figure, save_svg
from sahel_eval.figures.trends import BRIEF_SIZE, arm_series, trends_figure
from sahel_eval.report.shocks import national_kinds, shock_label
from sahel_eval.resilience.example import pick_example
from sahel_eval.rule_runner import run_rule
from sahel_eval.text.i18n import translate


def draw(smk, lang: str, data: dict) -> None:
    """The facility, district and time-to-recovery figures of one language."""
    config = smk.params.config
    ind, windows, panel, shocks, names = (
        data[k] for k in ("indicators", "windows", "panel", "shocks", "names")
    )
    service = config["resilience"]["essential_services"][0]
    label = translate(f"fig.resilience.service.{service}", lang)
    out = {name: smk.output[f"{lang}_{name}"] for name in ("facility", "district", "tau")}
    ex = pick_example(ind, service)
    if ex:
        shock = shock_label(
            {"shock_id": ex["shock_id"], **shocks.loc[ex["shock_id"]].to_dict()},
            lang,
            kinds=national_kinds(config),
        )
        fac = fig.facility_series(
            panel, windows, facility_id=ex["facility_id"], shock_id=ex["shock_id"], service=service
        )
        title = translate(
            "fig.resilience.facility_title",
            lang,
            {
                # A facility missing from the master list keeps its id rather than failing.
                "facility": names.get(ex["facility_id"], ex["facility_id"]),
                "shock": shock,
                "service": label,
            },
        )
        save_svg(fig.observed_expected_figure(fac, lang=lang, title=title), out["facility"])
        dis = fig.district_series(
            panel, windows, district=ex["district"], shock_id=ex["shock_id"], service=service
        )
        n = int(
            windows.loc[
                (windows["district"] == ex["district"])
                & (windows["shock_id"] == ex["shock_id"])
                & (windows["service"] == service)
                & windows["expected"].notna(),
                "facility_id",
            ].nunique()
        )
        title = translate(
            "fig.resilience.district_title",
            lang,
            {"district": ex["district"], "shock": shock, "service": label, "n": n},
        )
        save_svg(fig.observed_expected_figure(dis, lang=lang, title=title), out["district"])
    else:  # nothing assessable: empty figures rather than a missing output
        for path in (out["facility"], out["district"]):
            save_svg(new_figure()[0], path)
    tau = fig.tau_distribution_figure(
        ind,
        service=service,
        window_months=config["resilience"]["window_months"],
        lang=lang,
        title=translate("fig.resilience.tau_title", lang, {"service": label}),
    )
    save_svg(tau, out["tau"])
    title = translate("fig.trends.title", lang, {"service": label})
    title = title[:1].upper() + title[1:]  # service labels are lower case mid-sentence
    save_svg(trends_figure(data["trends"], lang=lang, title=title), smk.output[f"{lang}_trends"])
    # The brief's smaller copy: the same figure, at the brief's size.
    small = trends_figure(data["trends"], lang=lang, title=title, size=BRIEF_SIZE)
    save_svg(small, smk.output[f"{lang}_trends_brief"])


def main(smk) -> None:
    facilities = pd.read_parquet(smk.input.facilities, columns=["facility_id", "name"])
    data = {
        "indicators": pd.read_csv(smk.input.indicators, dtype={"onset": str, "tau": "Int64"}),
        "windows": pd.read_parquet(smk.input.windows),
        "panel": pd.read_parquet(smk.input.panel),
        "shocks": pd.read_csv(smk.input.shocks, dtype={"onset": str}).set_index("shock_id"),
        "names": dict(zip(facilities["facility_id"], facilities["name"], strict=True)),
    }
    shocks = data["shocks"]
    data["trends"] = arm_series(
        data["panel"],
        data["windows"],
        shock_ids=sorted(shocks.index[shocks["kind"] == "national"].astype(str)),
        service=smk.params.config["resilience"]["essential_services"][0],
    )
    for lang in smk.params.languages:
        draw(smk, lang, data)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
