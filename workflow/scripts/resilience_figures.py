"""Snakemake adapter: resilience figures of one area in one language."""

import pandas as pd

from sahel_eval.figures import resilience as fig
from sahel_eval.figures.style import new_figure, save_svg
from sahel_eval.report.i18n import translate
from sahel_eval.report.shocks import national_kinds, shock_label
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    lang = smk.wildcards.lang
    ind = pd.read_csv(smk.input.indicators, dtype={"onset": str, "tau": "Int64"})
    windows = pd.read_parquet(smk.input.windows)
    panel = pd.read_parquet(smk.input.panel)
    shocks = pd.read_csv(smk.input.shocks, dtype={"onset": str}).set_index("shock_id")
    facilities = pd.read_parquet(smk.input.facilities, columns=["facility_id", "name"])
    names = dict(zip(facilities["facility_id"], facilities["name"], strict=True))
    service = smk.config["resilience"]["essential_services"][0]
    label = translate(f"fig.resilience.service.{service}", lang)
    ex = fig.pick_example(ind, service)
    if ex:
        shock = shock_label(
            {"shock_id": ex["shock_id"], **shocks.loc[ex["shock_id"]].to_dict()},
            lang,
            kinds=national_kinds(smk.config),
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
        save_svg(fig.observed_expected_figure(fac, lang=lang, title=title), smk.output.facility)
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
        save_svg(fig.observed_expected_figure(dis, lang=lang, title=title), smk.output.district)
    else:  # nothing assessable: empty figures rather than a missing output
        for path in (smk.output.facility, smk.output.district):
            save_svg(new_figure()[0], path)
    tau = fig.tau_distribution_figure(
        ind,
        service=service,
        window_months=smk.config["resilience"]["window_months"],
        lang=lang,
        title=translate("fig.resilience.tau_title", lang, {"service": label}),
    )
    save_svg(tau, smk.output.tau)


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
