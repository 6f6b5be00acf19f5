"""The programme brief of one area: ``reports/brief_{area}_{lang}.{html,pdf}``.

One or two printed A4 pages for the ministry, the UTM, district health teams and NGOs:
what the programme changed in the use of care, how the CSCOMs held up through each
shock, and which mutual-insurance indicators need watching. Every number is read from
a results file (estimates JSON, resilience aggregates and comparison, mutual KPIs,
persistence); this module only picks the rows and turns intervals into words.

Uncertainty in words
--------------------
Each effect gets one verdict, from the assignment-level (few-cluster) inference that
the DiD stage marks as headline:

* ``cannot_tell`` — the row is flagged ``informative = false`` (one treated cluster, or
  the smallest attainable p-value is above the test level) or has no interval;
* ``likely_up`` / ``likely_down`` — the interval excludes zero;
* ``no_clear_change`` — the interval includes zero.

No interval is printed: readers of a brief act on the verdict, and the technical
report carries the intervals for those who want them.

The PDF is printed by WeasyPrint rather than headless Chromium: WeasyPrint is a plain
PyPI package that ``make run`` installs into the virtual environment without root,
whereas Chromium needs a system package. WeasyPrint 70 writes neither a creation date
nor a document ``/ID`` unless the page asks for one, so two renders of the same HTML
are byte-identical; :func:`write_brief_pdf` checks that no date slipped in.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sahel_eval.report.mutual_areas import mutuals_of_area
from sahel_eval.report.provenance import Provenance
from sahel_eval.report.render import render_report
from sahel_eval.report.shocks import national_kinds

__all__ = [
    "VERDICTS",
    "brief_context",
    "effect_verdict",
    "headline_effects",
    "kpi_watch",
    "pdf_page_count",
    "render_brief",
    "resilience_rows",
    "write_brief_pdf",
]

TEMPLATE = "brief.html.j2"

VERDICTS = ("likely_up", "likely_down", "no_clear_change", "cannot_tell")

# Classes of the resilience stage, in the order a reader meets them (best first).
RESILIENCE_CLASSES = ("resilient", "recovered", "not_recovered", "interrupted", "not_assessable")

# KPI statuses of the sustainability stage, worst first so alarms are read first.
KPI_STATUSES = ("alarm", "watch", "good", "not_available")

# How many effects get a big-number card; the others are listed in one line each.
N_CARDS = 3

_OVERALL_CS = "simple"
_OVERALL_TWFE = "static"
_SURVEY_AGG = re.compile(r"^(\d{4})_vs_(\d{4})$")


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _ym(value: Any) -> str:
    """``202112``, ``"202112"`` or ``"2021-12"`` as ``"2021-12"`` (the month filter's input)."""
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    digits = text.replace("-", "")
    return f"{digits[:4]}-{digits[4:6]}"


def effect_verdict(row: Mapping[str, Any]) -> str:
    """One of :data:`VERDICTS` for an estimate row of the estimates JSON.

    Parameters
    ----------
    row
        An element of ``estimates`` in ``results/estimates/{analysis}.json``.
    """
    low, high = _num(row.get("ci_low")), _num(row.get("ci_high"))
    if not row.get("informative", False) or low is None or high is None:
        return "cannot_tell"
    if low > 0:
        return "likely_up"
    if high < 0:
        return "likely_down"
    return "no_clear_change"


def _overall_rows(estimates: Sequence[Mapping[str, Any]], outcome: str) -> list[dict]:
    """Rows that summarise the whole effect of one outcome (no event time, no cohort)."""
    out = []
    for r in estimates:
        if r["outcome"] != outcome:
            continue
        agg = str(r["aggregation"])
        if agg in (_OVERALL_CS, _OVERALL_TWFE) or _SURVEY_AGG.match(agg):
            out.append(dict(r))
    return out


def _pick_overall(rows: list[dict], assignment_cluster: str | None) -> dict | None:
    # The headline row when the DiD stage marked one; otherwise the overall effect at
    # the assignment level (e.g. Bamako's event study marks only event-time rows as
    # headline, and its overall effect is the TWFE row with wild-bootstrap inference).
    # Callaway–Sant'Anna before TWFE, as the DiD stage ranks them.
    def rank(r: dict) -> tuple:
        return (
            not r["headline"],
            r["cluster"] != assignment_cluster,
            r["estimator"] != "callaway_santanna",
        )

    if not rows:
        return None
    survey = [r for r in rows if _SURVEY_AGG.match(str(r["aggregation"]))]
    if survey:
        # Baseline against the last round: "by the end of the programme".
        last = max(int(_SURVEY_AGG.match(str(r["aggregation"])).group(2)) for r in survey)
        rows = [r for r in survey if int(_SURVEY_AGG.match(str(r["aggregation"])).group(2)) == last]
    return sorted(rows, key=rank)[0]


def headline_effects(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The overall effect of each outcome of one analysis, with its verdict in words.

    Parameters
    ----------
    doc
        ``results/estimates/{analysis}.json`` as loaded.

    Returns
    -------
    list of dict
        One per outcome, in config order: ``outcome, data, value, digits, sign,
        verdict, treated_clusters, clusters, baseline, round``. ``value`` is in
        readers' units: facility outcomes per 1,000 inhabitants per month, survey
        outcomes in percentage points.
    """
    spec = doc["analysis"]
    estimates = doc["estimates"]
    headline_clusters = {r["cluster"] for r in estimates if r["headline"]}
    assignment = next(iter(sorted(headline_clusters)), None)
    out = []
    for outcome in spec["outcomes"]:
        row = _pick_overall(_overall_rows(estimates, outcome), assignment)
        if row is None or _num(row["estimate"]) is None:
            continue
        survey = spec["data"] == "survey"
        value = float(row["estimate"]) * (100.0 if survey else 1.0)
        # Plain reading: whole points for large survey changes, one decimal otherwise.
        digits = 0 if survey and abs(value) >= 10 else 1
        rounded = round(value, digits)
        match = _SURVEY_AGG.match(str(row["aggregation"]))
        out.append(
            {
                "outcome": outcome,
                "data": spec["data"],
                "value": value,
                "digits": digits,
                "sign": "+" if rounded > 0 else "",
                "verdict": effect_verdict(row),
                "treated_clusters": row["treated_clusters"],
                "clusters": row["clusters"],
                "cluster": row["cluster"],
                "baseline": match.group(1) if match else None,
                "round": match.group(2) if match else None,
            }
        )
    return out


def _analysis_caveats(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Warnings a brief reader must know: few treated clusters, trends before."""
    fits = doc["fits"]
    head = [f for f in fits if f.get("headline")]
    treated = sorted({f["treated_clusters"] for f in head if f.get("treated_clusters") is not None})
    clusters = sorted({f["clusters"] for f in head if f.get("clusters") is not None})
    pretrend = sorted(
        {f["outcome"] for f in fits for w in f["warnings"] if w["code"] == "pretrend_rejected"}
    )
    return {
        "treated_clusters": treated[0] if treated else None,
        "clusters": clusters[0] if clusters else None,
        "cluster": head[0]["cluster"] if head else None,
        "pretrend_outcomes": pretrend,
        "n_outcomes": len(doc["analysis"]["outcomes"]),
    }


def _persistence_line(
    persistence: pd.DataFrame, area: str, effects: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """Did the first clearly positive facility effect last after the funding ended?"""
    likely = [e for e in effects if e["data"] == "facility" and e["verdict"] == "likely_up"]
    if not likely or persistence.empty:
        return None
    rows = persistence[
        (persistence["area"] == area)
        & (persistence["indicator"] == likely[0]["outcome"])
        & (persistence["status"] == "ok")
        & persistence["headline"].astype(bool)
    ]
    if rows.empty:
        return None
    r = rows.iloc[0]
    est, low, high = _num(r["estimate"]), _num(r["ci_low"]), _num(r["ci_high"])
    if est is None or low is None or high is None:
        return None
    if high < 1:
        verdict = "faded"
    elif low > 1:
        verdict = "grew"
    else:
        verdict = "no_clear_fade"
    return {
        "outcome": likely[0]["outcome"],
        "ratio": est,
        "verdict": verdict,
        "end_month": _ym(r["end_month"]),
        "months": int(r["n_after"]),
    }


def resilience_rows(
    aggregates: pd.DataFrame,
    shocks: pd.DataFrame,
    comparison: Mapping[str, Any],
    service: str,
    kinds: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per shock that hit the area: shares of CSCOMs in each class, in onset order.

    Parameters
    ----------
    aggregates
        ``results/resilience/{area}_aggregates.csv``; the ``area`` level is used.
    shocks
        ``results/resilience/{area}_shocks.csv`` (kind, district, onset).
    comparison
        ``results/resilience/{area}_comparison.json``: programme vs comparison CSCOMs.
    service
        The service shown (the first essential service of the config).
    kinds
        Shock name -> kind (``strike``, ``pandemic``) of the config's national shocks;
        the shocks table only says ``national``.
    """
    area_rows = aggregates[(aggregates["level"] == "area") & (aggregates["service"] == service)]
    area_rows = area_rows.set_index("shock_id")
    out = []
    ordered = shocks.sort_values(["onset", "shock_id"], kind="mergesort")
    for s in ordered.itertuples(index=False):
        if s.shock_id not in area_rows.index:
            continue
        a = area_rows.loc[s.shock_id]
        # The template names the row with report.shocks.shock_label, which reads these
        # four fields; the kind is resolved here so the label needs no config.
        out.append(
            {
                "shock_id": s.shock_id,
                "kind": (kinds or {}).get(s.shock_id, s.kind),
                "district": None if pd.isna(s.district) else str(s.district),
                "onset": _ym(s.onset),
                "n": int(a["n_windows"]),
                "shares": {c: float(a[f"share_{c}"]) for c in RESILIENCE_CLASSES},
                "counts": {c: int(a[f"n_{c}"]) for c in RESILIENCE_CLASSES},
                "comparison": _comparison_verdict(comparison.get("shocks", {}).get(s.shock_id)),
            }
        )
    return out


def _comparison_verdict(entry: Mapping[str, Any] | None) -> str:
    """Programme vs comparison CSCOMs through one shock, in one word."""
    if not entry or entry.get("status") != "ok":
        return "not_applicable"
    heads = []
    for block in ("randomization", "wild"):
        b = entry.get(block) or {}
        heads += [e for e in b.get("estimates", []) if e.get("headline")]
    if not heads:
        return "not_applicable"
    # The most cautious reading wins: if either few-cluster inference is not
    # informative, we cannot tell.
    verdicts = {effect_verdict(e) for e in heads if e.get("ci_low") is not None} | {
        "cannot_tell" for e in heads if not e.get("informative", False)
    }
    if "cannot_tell" in verdicts or not verdicts:
        return "cannot_tell"
    if verdicts == {"likely_up"}:
        return "better"
    if verdicts == {"likely_down"}:
        return "worse"
    return "no_clear_difference"


def _range(thresholds: Mapping[str, Any], kpi: str) -> dict[str, float | None]:
    good = (thresholds.get(kpi) or {}).get("good") or [None, None]
    return {"low": _num(good[0]), "high": _num(good[1])}


def kpi_watch(
    kpis: pd.DataFrame, mutuals: Sequence[str], thresholds: Mapping[str, Any]
) -> dict[str, Any]:
    """The latest year's KPI traffic lights of each mutual of the area.

    Returns
    -------
    dict
        ``mutuals`` (name, year), ``rows`` (one per KPI in file order: ``kpi``,
        ``good`` range, ``cells`` per mutual with ``value`` and ``status``) and
        ``alarms`` (``mutual, year, kpi, value``) in table order.
    """
    sub = kpis[kpis["mutual"].isin(mutuals)]
    cols, alarms = [], []
    latest: dict[str, pd.DataFrame] = {}
    for m in mutuals:
        rows = sub[sub["mutual"] == m]
        if rows.empty:
            continue
        year = int(rows["year"].max())
        latest[m] = rows[rows["year"] == year].set_index("kpi")
        cols.append({"mutual": m, "year": year})
    order = list(dict.fromkeys(sub["kpi"]))
    table = []
    for kpi in order:
        cells = []
        for c in cols:
            frame = latest[c["mutual"]]
            if kpi in frame.index:
                r = frame.loc[kpi]
                status = str(r["status"])
                value = _num(r["value"])
            else:
                status, value = "not_available", None
            cells.append({"value": value, "status": status})
            if status == "alarm":
                alarms.append(
                    {"mutual": c["mutual"], "year": c["year"], "kpi": kpi, "value": value}
                )
        table.append({"kpi": kpi, "good": _range(thresholds, kpi), "cells": cells})
    return {"mutuals": cols, "rows": table, "alarms": alarms}


def brief_context(
    *,
    area: str,
    config: Mapping[str, Any],
    estimates: Sequence[Mapping[str, Any]],
    aggregates: pd.DataFrame,
    shocks: pd.DataFrame,
    comparison: Mapping[str, Any],
    kpis: pd.DataFrame,
    persistence: pd.DataFrame,
) -> dict[str, Any]:
    """Everything the brief template shows, from results already loaded.

    Parameters
    ----------
    area
        Area key of the config (``mopti``, ``bamako``).
    config
        The validated config: ``areas``, ``resilience.essential_services`` and
        ``sustainability.kpi_thresholds`` are read.
    estimates
        Estimates JSON documents; those of other areas are ignored.
    aggregates, shocks, comparison
        The area's resilience results.
    kpis, persistence
        ``results/sustainability/mutual_kpis.csv`` and ``persistence.csv``.
    """
    docs = [d for d in estimates if d["analysis"]["area"] == area]
    facility = next((d for d in docs if d["analysis"]["data"] == "facility"), None)
    survey = next((d for d in docs if d["analysis"]["data"] == "survey"), None)
    if facility is None and survey is None:
        raise ValueError(
            f"programme brief {area}: no analysis of this area in the estimates given; "
            "add one to config analyses or pass results/estimates/<analysis>.json"
        )
    fac_effects = headline_effects(facility) if facility else []
    sur_effects = headline_effects(survey) if survey else []
    programme = (facility or survey)["analysis"].get("programme", "")
    service = config["resilience"]["essential_services"][0]
    mutuals = mutuals_of_area(kpis["mutual"].unique(), area, config)
    return {
        "area": area,
        "area_label": dict(config["areas"][area]["label"]),
        "district_unit": dict(config["areas"][area]["district_unit"]),
        "region": config["areas"][area]["region"],
        "programme": programme,
        "cards": fac_effects[:N_CARDS],
        "more_effects": fac_effects[N_CARDS:],
        "survey_effects": sur_effects,
        "facility_caveats": _analysis_caveats(facility) if facility else None,
        "survey_caveats": _analysis_caveats(survey) if survey else None,
        "persistence": _persistence_line(persistence, area, fac_effects),
        "service": service,
        "shocks": resilience_rows(
            aggregates,
            shocks,
            comparison,
            service,
            national_kinds(config),
        ),
        "recovery_threshold": float(config["resilience"]["recovery_threshold"]),
        "window_months": int(config["resilience"]["window_months"]),
        "interruption_months": int(config["resilience"]["interruption_months"]),
        "kpi": kpi_watch(kpis, mutuals, config["sustainability"]["kpi_thresholds"]),
        "technical_href": f"technical_{area}",
    }


def read_estimates(paths: Iterable[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """Load estimates JSON documents (``results/estimates/{analysis}.json``)."""
    return [json.loads(Path(p).read_text("utf-8")) for p in paths]


def render_brief(
    context: Mapping[str, Any],
    provenance: Provenance,
    lang: str,
    out_path: str | os.PathLike[str],
    *,
    synthetic: bool,
) -> Path:
    """Write ``reports/brief_{area}_{lang}.html``."""
    prov = provenance.to_dict()
    short = {
        "code_version": prov["code_version"],
        "base_commit": prov["base_commit"],
        "config_hash": prov["config_hash"][:12],
        "n_inputs": len(prov["inputs"]),
    }
    full = {**context, "prov": short, "synthetic": synthetic}
    full["technical_href"] = f"{context['technical_href']}_{lang}.html"
    return render_report(TEMPLATE, full, lang, out_path)


_DATE_KEYS = re.compile(rb"/(CreationDate|ModDate)\b")
#: ``SOURCE_DATE_EPOCH`` of the embedded font subsets (1 January 2000, any fixed value).
_FONT_EPOCH = "946684800"


def write_brief_pdf(
    html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str]
) -> tuple[Path, int]:
    """Print a brief's HTML to an A4 PDF with WeasyPrint; return the path and page count.

    Written to a temporary name and moved into place, so a failed render leaves no
    partial PDF. Raises ``ValueError`` if the PDF would carry a date (a page that sets
    ``<meta name="dcterms.created">``), which would break byte-identical reruns.
    """
    # Imported here: WeasyPrint loads Pango at import, which only the PDF rule needs.
    import weasyprint

    html_path, pdf_path = Path(html_path), Path(pdf_path)
    # A link to a sibling HTML file would be written as an absolute file:// URL of this
    # machine (the PDF would then differ between folders and leak a path); on paper the
    # file name serves the reader better. The page is self-contained, so no base URL.
    text = _RELATIVE_LINK.sub(r"\2 (\1)", html_path.read_text(encoding="utf-8"))
    with _fixed_font_timestamps():
        doc = weasyprint.HTML(string=text).render(stylesheets=[_pinned_fonts(weasyprint)])
        data = doc.write_pdf()
    if _DATE_KEYS.search(data) or _DATE_KEYS.search(_inflate_all(data)):
        raise ValueError(
            f"{pdf_path.name}: WeasyPrint wrote a creation or modification date; remove "
            "the dcterms.created / dcterms.modified meta from the template"
        )
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = pdf_path.with_name(f".{pdf_path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, pdf_path)
    return pdf_path, len(doc.pages)


@contextlib.contextmanager
def _fixed_font_timestamps() -> Iterator[None]:
    """Fix the ``head.modified`` stamp of the font subsets WeasyPrint embeds.

    fontTools stamps each subset with the current time unless ``SOURCE_DATE_EPOCH`` is
    set; it is set here, inside the writer, so ``make run``, a bare ``snakemake`` and
    the Slurm profile all write the same bytes (a value from the caller's environment
    would make the PDF depend on it, so ours wins and the caller's is restored).
    """
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = _FONT_EPOCH
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def _pinned_fonts(weasyprint: Any) -> Any:
    """A stylesheet using matplotlib's DejaVu Sans files (pinned by the lock) for the PDF.

    Without it the PDF embeds whatever "Noto Sans" or "DejaVu Sans" the machine's
    fontconfig finds, so two machines would print different bytes.
    """
    from matplotlib import get_data_path

    fonts = Path(get_data_path()) / "fonts" / "ttf"
    faces = [
        ("Sahel Eval Sans", "normal", "normal", "DejaVuSans.ttf"),
        ("Sahel Eval Sans", "bold", "normal", "DejaVuSans-Bold.ttf"),
        ("Sahel Eval Sans", "normal", "italic", "DejaVuSans-Oblique.ttf"),
        ("Sahel Eval Sans", "bold", "italic", "DejaVuSans-BoldOblique.ttf"),
        ("Sahel Eval Mono", "normal", "normal", "DejaVuSansMono.ttf"),
    ]
    css = "".join(
        f"@font-face {{ font-family: '{family}'; font-weight: {weight}; "
        f"font-style: {style}; src: url('{(fonts / name).as_uri()}'); }}"
        for family, weight, style, name in faces
    )
    css += (
        "html { font-family: 'Sahel Eval Sans'; } .hash, code { font-family: 'Sahel Eval Mono'; }"
    )
    return weasyprint.CSS(string=css)


_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_RELATIVE_LINK = re.compile(r'<a href="(?![a-z][a-z0-9+.-]*:|#)([^"]+)">(.*?)</a>', re.S)


def _inflate_all(data: bytes) -> bytes:
    """Every Flate stream of a PDF, decompressed and joined (object streams included)."""
    parts = []
    for m in _STREAM.finditer(data):
        try:
            parts.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def pdf_page_count(data: bytes) -> int:
    """Number of pages of a PDF written by WeasyPrint (``/Type /Page`` objects).

    WeasyPrint packs objects into compressed object streams, so the streams are
    inflated before counting. Enough for our own PDFs; not a general PDF parser.
    """
    body = data + b"\n" + _inflate_all(data)
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", body))
