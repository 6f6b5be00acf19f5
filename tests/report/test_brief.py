"""Programme brief: verdicts in words, row picking, PDF pages and byte-identical PDFs;
the reviewers' manifest and run date."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sahel_eval.fonts import FONT_FAMILY, font_dir
from sahel_eval.report import brief, manifest, pdf, render
from sahel_eval.report.brief_sections import survey_groups

AREAS = ("mopti", "bamako")
LANGS = ("fr", "en")


@pytest.mark.parametrize(
    ("row", "verdict"),
    [
        ({"verdict": "increase_shown", "ci_low": -1.0, "ci_high": -0.5}, "increase_shown"),
        ({"verdict": "not_shown"}, "not_shown"),
        ({"verdict": "not_informative", "ci_low": 0.1, "ci_high": 0.5}, "not_informative"),
        ({"verdict": None, "ci_low": 0.1, "ci_high": 0.5}, "conditional_only"),
        ({"ci_low": 0.1, "ci_high": 0.5}, "conditional_only"),
    ],
)
def test_brief_reads_the_stage_verdict(row, verdict):
    # Issue 14: the brief translates the DiD stage's verdict code and never decides one
    # from the interval (a row's interval cannot turn into a verdict here).
    assert brief.stage_verdict(row) == verdict


def _est(outcome, aggregation, estimator, cluster, headline, estimate, **kw):
    return {
        "outcome": outcome,
        "aggregation": aggregation,
        "estimator": estimator,
        "cluster": cluster,
        "headline": headline,
        "estimate": estimate,
        "informative": kw.get("informative", True),
        "ci_low": kw.get("ci_low", 0.1),
        "ci_high": kw.get("ci_high", 0.2),
        "treated_clusters": kw.get("treated", 2),
        "clusters": 8,
        "verdict": kw.get("verdict"),
        "conditional": cluster != "district",
    }


def test_headline_effect_falls_back_to_assignment_level():
    # Bamako's event study marks only event-time rows as headline: the overall effect
    # is then the district-level (assignment) row, not the facility-clustered one.
    doc = {
        "analysis": {"outcomes": ["y"], "data": "facility", "design": "single_start"},
        "units": {"y": "per_1000_month"},
        "estimates": [
            _est("y", "event_time", "event_study", "district", True, 9.0),
            _est("y", "static", "twfe", "facility_id", False, 4.0),
            _est(
                "y",
                "static",
                "twfe",
                "district",
                False,
                4.0,
                informative=False,
                treated=1,
                verdict="not_informative",
                ci_low=None,
                ci_high=None,
            ),
            _est("y", "simple", "callaway_santanna", "facility_id", False, 5.0),
        ],
    }
    (effect,) = brief.headline_effects(doc, {"single_start": "twfe"})
    assert effect["value"] == 4.0 and effect["cluster"] == "district"
    assert effect["verdict"] == "not_informative"
    assert effect["sign"] == "+"
    # No assignment-level interval: the facility-clustered one of the same estimand is
    # carried, to be shown labelled conditional.
    assert effect["low"] is None and effect["high"] is None
    assert effect["conditional"] == {"value": 4.0, "low": 0.1, "high": 0.2}


def test_survey_effect_uses_last_round_in_points():
    doc = {
        "analysis": {"outcomes": ["m"], "data": "survey", "design": "survey_rounds"},
        "units": {"m": "proportion"},
        "estimates": [
            _est("m", "2015_vs_2018", "did_2x2", "district", True, 0.30),
            _est(
                "m",
                "2015_vs_2021",
                "did_2x2",
                "district",
                True,
                -0.162,
                ci_low=-0.30,
                ci_high=-0.004,
                verdict="decrease_shown",
            ),
            _est("m", "2015_vs_2021", "did_2x2", "psu", False, -0.162),
        ],
    }
    (effect,) = brief.headline_effects(doc, {"survey_rounds": "did_2x2"})
    assert (effect["baseline"], effect["round"]) == ("2015", "2021")
    assert effect["value"] == pytest.approx(-16.2) and effect["digits"] == 0
    assert effect["sign"] == ""
    assert effect["verdict"] == "decrease_shown"
    assert effect["low"] == pytest.approx(-30.0) and effect["high"] == pytest.approx(-0.4)
    # -0.4 points would round to -0 at 0 decimals: the interval gets one more.
    assert effect["ci_digits"] == 1


def test_kpi_watch_latest_year_and_alarms():
    kpis = pd.DataFrame(
        {
            "mutual": ["M"] * 4,
            "scheme": ["AMV"] * 4,
            "year": [2020, 2020, 2021, 2021],
            "kpi": ["renewal", "collection"] * 2,
            "value": [0.9, 0.95, 0.4, None],
            "status": ["good", "good", "alarm", "not_available"],
        }
    )
    out = brief.kpi_watch(kpis, ["M"], {"renewal": {"good": [0.7, None]}})
    assert out["mutuals"] == [{"mutual": "M — AMV", "scheme": "AMV", "year": 2021}]
    assert [c["status"] for r in out["rows"] for c in r["cells"]] == ["alarm", "not_available"]
    assert out["rows"][0]["good"] == {"low": 0.7, "high": None}
    assert out["alarms"] == [{"mutual": "M — AMV", "year": 2021, "kpi": "renewal", "value": 0.4}]


def test_kpi_watch_one_column_per_scheme_and_not_applicable_shown_as_such():
    # Commune III has AMV+ and RAMED+ members: one column each; RAMED+ collection does
    # not apply (no contribution) and must read "not applicable", never 0 %.
    kpis = pd.DataFrame(
        {
            "mutual": ["C3"] * 4,
            "scheme": ["AMV+", "AMV+", "RAMED+", "RAMED+"],
            "year": [2019] * 4,
            "kpi": ["penetration", "collection"] * 2,
            "value": [0.03, 0.8, 0.002, None],
            "status": ["alarm", "watch", "alarm", "not_applicable"],
        }
    )
    out = brief.kpi_watch(kpis, ["C3"], {})
    assert [c["mutual"] for c in out["mutuals"]] == ["C3 — AMV+", "C3 — RAMED+"]
    collection = next(r for r in out["rows"] if r["kpi"] == "collection")
    assert collection["cells"][1] == {"value": None, "status": "not_applicable"}


def test_survey_groups_follow_the_survey_config():
    effects = [{"outcome": o} for o in ("fever_care", "coverage_ramed", "forgone_care_cost")]
    survey = {"scheme_coverage": {"coverage_ramed": {}}, "catastrophic_thresholds": {}}
    groups = survey_groups(effects, survey)
    assert [[e["outcome"] for e in groups[k]] for k in ("care", "covered", "costs")] == [
        ["fever_care"],
        ["coverage_ramed"],
        ["forgone_care_cost"],
    ]


def test_pdf_page_count_and_determinism(tmp_path: Path):
    html = tmp_path / "page.html"
    html.write_text(
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>t</title></head>"
        "<body>" + "<p>Ligne de texte.</p>" * 120 + "</body></html>",
        "utf-8",
    )
    # Two processes more than two seconds apart: embedded font subsets carry a
    # head.modified stamp in seconds, which one process within one second cannot see.
    script = "import sys; from sahel_eval.report import pdf; pdf.write_pdf(*sys.argv[1:])"
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    subprocess.run([sys.executable, "-c", script, html, tmp_path / "a.pdf"], check=True, env=env)
    time.sleep(2.1)
    subprocess.run([sys.executable, "-c", script, html, tmp_path / "b.pdf"], check=True, env=env)
    a, b = (tmp_path / "a.pdf").read_bytes(), (tmp_path / "b.pdf").read_bytes()
    assert a == b
    assert pdf.pdf_page_count(a) >= 2
    # The fonts are the lock-pinned DejaVu files, embedded under the @font-face names
    # only they carry (a machine font would keep its own name).
    fonts = set(re.findall(rb"/BaseFont\s*/[A-Z]{6}\+([A-Za-z-]+)", a + pdf.inflate_all(a)))
    assert fonts and fonts <= {b"Sahel-Eval-Sans", b"Sahel-Eval-Mono"}
    assert b"/work" not in a and str(tmp_path).encode() not in a


@pytest.mark.parametrize(
    "body",
    [
        "<p>Texte de la page.</p>",
        # Figure text as matplotlib writes it with svg.fonttype "none".
        "<svg xmlns='http://www.w3.org/2000/svg' width='200' height='40'><text x='5' y='20' "
        f"style=\"font-size: 9px; font-family: '{FONT_FAMILY}'\">Texte de figure</text></svg>",
    ],
    ids=["page", "figure"],
)
def test_pdf_prints_text_with_the_pinned_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
):
    """Swapping the pinned font files changes the PDF: page and figure text use them,
    not a font the machine's fontconfig finds under the same name."""
    html = tmp_path / "page.html"
    html.write_text(f"<html lang='fr'><body>{body}</body></html>", "utf-8")
    pdf.write_pdf(html, tmp_path / "pinned.pdf")
    swapped = tmp_path / "fonts"
    swapped.mkdir()
    for name in ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSansMono"):
        shutil.copy(font_dir() / "DejaVuSerif.ttf", swapped / f"{name}.ttf")
    shutil.copy(font_dir() / "DejaVuSerif.ttf", swapped / "DejaVuSans-BoldOblique.ttf")
    monkeypatch.setattr(pdf, "font_dir", lambda: swapped)
    pdf.write_pdf(html, tmp_path / "swapped.pdf")
    assert (tmp_path / "pinned.pdf").read_bytes() != (tmp_path / "swapped.pdf").read_bytes()


def test_pdf_refuses_a_date(tmp_path: Path):
    html = tmp_path / "page.html"
    html.write_text(
        "<html><head><meta name='dcterms.created' content='2024-01-01'></head>"
        "<body>x</body></html>",
        "utf-8",
    )
    with pytest.raises(ValueError, match="date"):
        pdf.write_pdf(html, tmp_path / "a.pdf")
    assert not (tmp_path / "a.pdf").exists()


# --- on the demo run ---------------------------------------------------------------


def test_brief_pdfs_fit_four_a4_pages(demo_run: Path, tmp_path: Path):
    for area in AREAS:
        for lang in LANGS:
            printed = demo_run / "reports" / f"brief_{area}_{lang}.pdf"
            data = printed.read_bytes()
            assert 1 <= pdf.pdf_page_count(data) <= 4, printed.name
            inflated = data + pdf.inflate_all(data)
            # A4 in points; WeasyPrint writes the MediaBox of every page.
            boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", inflated)
            assert boxes and all(
                abs(float(w) - 595.28) < 0.5 and abs(float(h) - 841.89) < 0.5 for w, h in boxes
            ), printed.name
            assert b"/CreationDate" not in inflated and b"/ID" not in inflated
            # The real brief, laid out as the pipeline printed it: every page numbered
            # "i / n" in its margin box, every character inside the page.
            doc = pdf.render_document(printed.with_suffix(".html"))
            n = len(doc.pages)
            assert n == pdf.pdf_page_count(data), printed.name
            assert pdf.page_labels(doc) == [f"{i} / {n}" for i in range(1, n + 1)], printed.name
            assert pdf.page_text_outside(doc) == [], printed.name
    # A second print of the same page is byte-identical to the pipeline's.
    html = demo_run / "reports" / "brief_mopti_fr.html"
    again = tmp_path / "again.pdf"
    pdf.write_pdf(html, again)
    assert again.read_bytes() == (demo_run / "reports" / "brief_mopti_fr.pdf").read_bytes()


def test_pdf_pages_numbered_and_nothing_clipped(tmp_path: Path):
    """Every page carries "i / n" in its bottom margin; a word wider than the page is
    refused with the page and the text named (the brief rule prints with this check)."""
    css = render.report_css()
    html = tmp_path / "page.html"
    body = "".join(f"<p>Paragraphe {i} de la page.</p>" for i in range(150))
    html.write_text(f"<html lang='fr'><style>{css}</style><body>{body}</body></html>", "utf-8")
    doc = pdf.render_document(html)
    n = len(doc.pages)
    assert n >= 2
    assert pdf.page_labels(doc) == [f"{i} / {n}" for i in range(1, n + 1)]
    assert pdf.page_text_outside(doc) == []
    wide = tmp_path / "wide.html"
    wide.write_text(
        f"<html lang='fr'><style>{css} .w {{ white-space: nowrap; }}</style><body>"
        f"<p class='w'>{'Consultations curatives par mois ' * 8}</p></body></html>",
        "utf-8",
    )
    assert pdf.page_text_outside(pdf.render_document(wide))
    with pytest.raises(ValueError, match=r"wide\.pdf: .* outside the A4 page \(page 1: "):
        pdf.write_pdf(wide, tmp_path / "wide.pdf")
    assert not (tmp_path / "wide.pdf").exists()


def test_brief_html_shows_intervals_and_verdicts_and_no_raw_key(demo_run: Path):
    # Issue 14 item 8 changes what this asserts: the brief now shows each headline
    # number with its interval (in words) or its verdict, instead of no interval.
    # Issue 20 point 2: with too few programme areas ("we cannot tell") no range is the
    # result's, so none is printed; the brief says there is no reliable one.
    words = {"fr": ("entre ", "sans fourchette fiable"), "en": ("between ", "no reliable range")}
    for area in AREAS:
        for lang in LANGS:
            text = (demo_run / "reports" / f"brief_{area}_{lang}.html").read_text("utf-8")
            assert f'<html lang="{lang}"' in text
            assert "synthetic-banner" in text
            # Plain words, not bracketed confidence intervals.
            assert not re.search(r"\[[−\-]?\d[\d,.\u202f]*\s*[;,]", text), (area, lang)
            assert "brief." not in re.sub(r"<[^>]+>", "", text), (area, lang)
            items = re.findall(r'<li data-outcome="[^"]+">(.*?)</li>', text, re.S)
            cards = re.findall(r'<div class="brief-card [^"]*"[^>]*>(.*?)</div>', text, re.S)
            assert items or cards, (area, lang)
            once = json.loads((demo_run / "results" / "summary" / f"{area}.json").read_text())[
                "verdict_once"
            ]
            if once:
                # Every result cannot conclude: said once above them, no range after any.
                assert 'id="verdict-once"' in text
                for chunk in items + cards:
                    assert "brief-verdict" not in chunk and words[lang][1] not in chunk
                continue
            for chunk in items + cards:
                assert re.search(r"brief-verdict brief-(v-|holm)", chunk), (area, lang, chunk)
                plain = re.sub(r"<[^>]+>", "", chunk)
                if "brief-v-not_informative" in chunk:
                    # "entre" as a word: "centre de santé" holds the letters too.
                    assert not re.search(rf"\b{words[lang][0]}", plain), plain
                    assert words[lang][1] in plain, plain
                else:
                    assert words[lang][0] in plain, (area, lang, plain)


def test_manifest_lists_every_result_and_report(demo_run: Path):
    lines = (demo_run / manifest.MANIFEST_PATH).read_text("utf-8").splitlines()
    paths = [line.split("  ", 1)[1] for line in lines]
    assert paths == sorted(paths)
    on_disk = manifest.collect_files(demo_run)
    assert paths == on_disk
    assert manifest.MANIFEST_PATH not in paths and manifest.RUN_METADATA_PATH not in paths
    assert not any(p.startswith("logs/") or p.endswith(".log") for p in paths)
    assert {f"reports/brief_{a}_{lang}.pdf" for a in AREAS for lang in LANGS} <= set(paths)
    assert "results/estimates/mopti_staggered.json" in paths
    assert not any(p.startswith("/") for p in paths)
    assert manifest.verify_manifest(demo_run / manifest.MANIFEST_PATH, demo_run) == []


def test_run_metadata_holds_the_date_and_the_manifest_hash(demo_run: Path):
    meta = json.loads((demo_run / manifest.RUN_METADATA_PATH).read_text("utf-8"))
    dt.datetime.fromisoformat(meta["run_date"])
    assert meta["manifest"] == manifest.MANIFEST_PATH
    digest = manifest.sha256_file(demo_run / manifest.MANIFEST_PATH)
    assert meta["manifest_sha256"] == digest


def test_manifest_refuses_an_excluded_product(tmp_path: Path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "a.csv").write_text("x\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "r.log").write_text("log\n")
    out = manifest.write_manifest(tmp_path / "reports/manifest.sha256", tmp_path)
    assert out.read_text().endswith("  results/a.csv\n")
    with pytest.raises(ValueError, match="left out"):
        manifest.write_manifest(
            tmp_path / "reports/manifest.sha256", tmp_path, required=[tmp_path / "logs/r.log"]
        )
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    meta = manifest.write_run_metadata(
        tmp_path / "reports/run_metadata.json", out, now=when, root=tmp_path
    )
    assert json.loads(meta.read_text())["run_date"] == "2024-01-02T03:04:05+00:00"
