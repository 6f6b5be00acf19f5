"""The support list as a reader's annex: ``results/summary/{area}_support_{lang}.*``.

``{area}_support.*`` keeps one coded row per CSCOM and reason for scripts; this is the
same list as the brief and the technical report's annex print it — one row per CSCOM,
labelled columns and words in the report's language, months written out — so the file
attached to a printed brief reads like the page. Only formatting happens here: every
value comes from ``results/summary/{area}.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from sahel_eval.text import formatting as fmt
from sahel_eval.text.i18n import translate

__all__ = ["support_annex"]


def _reason(r: Mapping[str, Any], lang: str) -> str:
    if r["reason"] == "low_continuity":
        return translate("summary.reason.low_continuity", lang)
    if r["reason"] == "closed":
        return translate("summary.reason.closed", lang, {"day": fmt.fmt_date(r["closed"], lang)})
    return translate(
        f"summary.reason.{r['reason']}",
        lang,
        {"cls": translate(f"class.{r['reason']}", lang), "since": fmt.fmt_month(r["since"], lang)},
    )


def _reports(f: Mapping[str, Any], lang: str) -> str:
    gaps = [r for r in f["reasons"] if r["reason"] == "interrupted" and r["gap_from"]]
    if not gaps:
        return fmt.fmt_month(f["last_reported"], lang)
    out = []
    for r in gaps:
        if r["resumed"]:
            out.append(
                translate(
                    "summary.reports.resumed",
                    lang,
                    {
                        "start": fmt.fmt_month(r["gap_from"], lang),
                        "end": fmt.fmt_month(r["gap_to"], lang),
                        "resumed": fmt.fmt_month(r["resumed"], lang),
                    },
                )
            )
        else:
            out.append(
                translate(
                    "summary.reports.stopped", lang, {"start": fmt.fmt_month(r["gap_from"], lang)}
                )
            )
    return translate("methods.list_sep", lang).join(out)


def support_annex(summary: Mapping[str, Any], lang: str) -> pd.DataFrame:
    """One labelled row per CSCOM of ``summary["support_cscoms"]``, in ``lang``.

    Columns, as the page's support table: CSCOM, the area's district word, services,
    reasons (since when), monthly reports, then the reporting continuity of the last
    months (a percentage) — each header the catalogue's text.
    """
    sep = translate("methods.list_sep", lang)
    word = (summary.get("district_word") or {}).get(lang) or translate("summary.col.district", lang)
    columns = [
        translate("summary.col.facility", lang),
        word,
        translate("summary.col.service", lang),
        translate("summary.col.class", lang),
        translate("summary.col.last", lang),
        translate(
            "summary.col.continuity", lang, {"months": summary["support_rule"]["continuity_months"]}
        ),
    ]
    rows = []
    for f in summary["support_cscoms"]:
        services = sorted({v for r in f["reasons"] for v in r["services"]})
        continuity = next(
            (r["continuity"] for r in f["reasons"] if r["continuity"] is not None), None
        )
        rows.append(
            [
                f["facility"],
                f["district"],
                sep.join(translate(f"brief.service_short.{v}", lang) for v in services)
                or fmt.MISSING,
                sep.join(_reason(r, lang) for r in f["reasons"]),
                _reports(f, lang),
                fmt.fmt_percent(continuity, lang, 0),
            ]
        )
    return pd.DataFrame(rows, columns=columns)
