"""Technical report: numbers equal the results files, French stays French, figures are
described, the page is self-contained and byte-identical, small survey cells vanish.

The end-to-end tests read the reports and tables of the session's demo run (the
``demo_run`` fixture: ``reports/technical_{area}_{lang}.html``, ``results/tables/{area}/``);
the unit tests build their own small inputs.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sahel_eval.clean.survey_design import survey_cells
from sahel_eval.products import REPORT_TABLES
from sahel_eval.report.tables import write_table
from sahel_eval.report.technical_tables import primary_outcomes
from sahel_eval.text import formatting as fmt
from sahel_eval.text.i18n import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
AREAS = ("mopti", "bamako")
LANGS = ("fr", "en")


RUN = ROOT  # outputs of the session's demo run, set by the fixture below


@pytest.fixture(autouse=True, scope="module")
def _demo_outputs(demo_run: Path) -> None:
    global RUN
    RUN = demo_run


def _report(area: str, lang: str) -> Path:
    path = RUN / "reports" / f"technical_{area}_{lang}.html"
    assert path.exists(), f"{path} was not built by the demo run"
    return path


class _Page(HTMLParser):
    """Text by data-key, images, headings, script/link references and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.keyed: dict[str, str] = {}
        self.headings: list[int] = []
        self.figures_svg: list[dict[str, str]] = []
        self.imgs: list[dict[str, str]] = []
        self.external: list[str] = []
        self.text: list[str] = []
        self.lang: str | None = None
        self._key: str | None = None
        self._buf: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "svg" and "role" in a:
            self.figures_svg.append(a)
        if tag == "img":
            self.imgs.append(a)
        for attr in ("src", "href"):
            v = a.get(attr, "")
            if re.match(r"\s*(https?:)?//", v):
                self.external.append(v)
        if tag in ("style", "svg", "script"):
            self._skip += 1
        if "data-key" in a:
            self._key, self._buf = a["data-key"], []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "svg", "script"):
            self._skip -= 1
        if self._key is not None and tag in ("td", "span"):
            self.keyed[self._key] = "".join(self._buf).strip()
            self._key = None

    def handle_data(self, data: str) -> None:
        if self._key is not None:
            self._buf.append(data)
        if not self._skip:
            self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text("utf-8"))
    return page


def _tables(area: str) -> dict[str, pd.DataFrame]:
    out = {}
    for name in REPORT_TABLES:
        path = RUN / "results" / "tables" / area / f"{name}.csv"
        assert path.exists(), f"{path} was not built by the demo run"
        try:
            out[name] = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            out[name] = pd.DataFrame()
    return out


# --- end to end: the built reports ---------------------------------------------------


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("lang", LANGS)
def test_estimates_shown_equal_results_files(area: str, lang: str) -> None:
    page = _parse(_report(area, lang))
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text("utf-8"))
    checked = 0
    for spec in (a for a in config["analyses"] if a["area"] == area):
        est = pd.read_csv(RUN / "results" / "estimates" / f"{spec['name']}.csv")
        # Proportions (survey outcomes, quality-of-care ratios) read in points (the
        # stage's unit of each outcome).
        doc = RUN / "results" / "estimates" / f"{spec['name']}.json"
        units = json.loads(doc.read_text("utf-8"))["units"]
        for key, shown in page.keyed.items():
            parts = key.split("|")
            if parts[0] != spec["name"]:
                continue
            _, outcome, aggregation, inference, cluster = parts
            scale, digits = (100.0, 1) if units[outcome] == "proportion" else (1.0, 2)
            rows = est[
                (est["outcome"] == outcome)
                & (est["aggregation"] == aggregation)
                & (est["inference"] == inference)
                & (est["cluster"] == cluster)
            ]
            assert len(rows) >= 1, key
            # Every row of one estimand × inference × cluster shares the estimate (survey
            # rounds differ in aggregation, so the key is unique).
            assert shown == fmt.fmt_number(rows["estimate"].iloc[0] * scale, lang, digits), key
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("area", AREAS)
def test_other_numbers_equal_results_files(area: str) -> None:
    page = _parse(_report(area, "fr"))
    t = _tables(area)
    persistence = pd.read_csv(RUN / "results" / "sustainability" / "persistence.csv")
    persistence = persistence[persistence["area"] == area]
    for _, r in persistence.iterrows():
        key = f"persistence|{r['indicator']}|{r.get('cluster')}"
        if key in page.keyed:
            assert page.keyed[key] == fmt.fmt_number(r["estimate"], "fr", 2), key
    cells = t["survey_cells"]
    for _, c in cells.iterrows():
        key = f"cell|{c['outcome']}|{int(c['year'])}|{c['arm']}"
        if bool(c["suppressed"]):
            assert key not in page.keyed
        else:
            assert page.keyed[key] == fmt.fmt_percent(c["estimate"], "fr"), key
    agg = pd.read_csv(RUN / "results" / "resilience" / f"{area}_aggregates.csv")
    service = yaml.safe_load((ROOT / "config" / "config.yaml").read_text("utf-8"))["resilience"][
        "essential_services"
    ][0]
    area_rows = agg[(agg["level"] == "area") & (agg["service"] == service)]
    n = 0
    for _, r in area_rows.iterrows():
        key = f"res|{r['shock_id']}|resilient"
        if key in page.keyed:
            assert page.keyed[key] == fmt.fmt_percent(r["share_resilient"], "fr", 0), key
            n += 1
    assert n >= 1


@pytest.mark.parametrize(
    ("area", "columns"),
    [
        (
            "mopti",
            [
                "Mutuelle interprofessionnelle des agriculteurs de Mopti — AMV",
                "Mutuelle interprofessionnelle des artisans et commerçants du secteur informel"
                " — AMV",
            ],
        ),
        (
            "bamako",
            [
                "Mutuelle de santé de la Commune III — AMV+",
                "Mutuelle de santé de la Commune III — RAMED+",
            ],
        ),
    ],
)
def test_kpis_per_mutual_and_scheme(area: str, columns: list[str]) -> None:
    # Issue 17: Mopti shows the two I3S mutuals, Bamako AMV+ and RAMED+; RAMED+
    # collection does not apply and reads so, never as 0 %.
    for lang in LANGS:
        html = _report(area, lang).read_text("utf-8")
        table = html[html.index('id="tech-kpis"') :]
        table = table[: table.index("</table>")]
        for col in columns:
            assert col in table, (lang, col)
        if area == "bamako":
            # A KPI that does not apply to the scheme reads so alone (no "—" and badge).
            said = load_catalogue()["tech.status.not_applicable"][lang]
            assert f'<td class="num">{said}</td>' in table
            assert "tech-kpi-not_applicable" not in table
    brief = (RUN / "reports" / f"brief_{area}_en.html").read_text("utf-8")
    for col in columns:
        assert col in brief, col


@pytest.mark.parametrize("area", AREAS)
def test_not_informative_said_plainly(area: str) -> None:
    text = " ".join(_parse(_report(area, "fr")).text)
    est = pd.concat(
        pd.read_csv(p)
        for p in (RUN / "results" / "estimates").glob(f"{area}_*.csv")
        if not p.name.endswith("_event_time.csv")
    )
    if (~est["informative"].astype(bool)).any():
        assert "Non informatif" in text or "non informatif" in text


@pytest.mark.parametrize("area", AREAS)
def test_no_english_interface_strings_in_french(area: str) -> None:
    page = _parse(_report(area, "fr"))
    text = " ".join(page.text)
    cat = load_catalogue()
    # Every English catalogue text that differs from its French twin and is long
    # enough to be unambiguous must not appear in the French page.
    leaks = [
        key
        for key, e in cat.items()
        if e["en"] != e["fr"] and len(e["en"]) > 12 and "{" not in e["en"] and e["en"] in text
    ]
    leaks = [k for k in leaks if k != "report.other_language"]
    assert leaks == []
    for word in ("the", "and", "not informative", "Estimate", "Inference", "effect", "Key results"):
        assert not re.search(rf"\b{word}\b", text), word


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("lang", LANGS)
def test_accessible_and_self_contained(area: str, lang: str) -> None:
    path = _report(area, lang)
    html = path.read_text("utf-8")
    page = _parse(path)
    assert page.lang == lang
    assert page.headings[0] == 1
    # Headings never skip a level going down.
    for a, b in zip(page.headings, page.headings[1:], strict=False):
        assert b <= a + 1, (a, b)
    assert page.figures_svg, "no inline figure"
    for svg in page.figures_svg:
        assert svg.get("aria-label", "").strip(), svg
    for img in page.imgs:
        assert img.get("alt", "").strip() and img.get("src", "").startswith("data:")
    assert page.external == []
    assert "<th scope=" in html and "<script" not in html
    assert "/work/" not in html and "/tmp/" not in html


def test_byte_identical_twice(tmp_path: Path) -> None:
    """Render one report twice from the same tables: same bytes."""
    _report("bamako", "fr")
    from sahel_eval.config import load_config
    from sahel_eval.products import DQ_TABLES
    from sahel_eval.report.data_quality import (
        DQReportSettings,
        data_quality_context,
        read_dq_tables,
    )
    from sahel_eval.report.technical import (
        read_documents,
        render_technical,
        technical_context,
    )
    from sahel_eval.report.technical_tables import area_analyses, read_tables

    # Validated, so the schema's defaults are filled in as the rules see them.
    config = load_config(ROOT / "config" / "config.yaml")
    area, lang = "bamako", "fr"
    specs = area_analyses(config, area)
    r = RUN / "results"
    figures = {
        f"{s['name']}:{o}": r / "figures" / lang / f"did_{s['name']}_{o}.svg"
        for s in specs
        for o in s["outcomes"]
    }
    figures.update(
        resilience_facility=r / "figures" / lang / f"resilience_{area}_facility.svg",
        resilience_district=r / "figures" / lang / f"resilience_{area}_district.svg",
        resilience_tau=r / "figures" / lang / f"resilience_{area}_tau.svg",
        trends=r / "figures" / lang / f"resilience_{area}_trends.svg",
        mutual_kpis=r / "figures" / lang / "mutual_kpis.svg",
        dq_attrition=r / "figures" / lang / f"dq_{area}_attrition.svg",
    )
    missing = [str(p) for p in figures.values() if not Path(p).exists()]
    assert not missing, missing
    dq = data_quality_context(
        read_dq_tables({n: r / "dq" / f"{n}.csv" for n in DQ_TABLES}),
        pd.read_parquet(r / "interim" / "facilities.parquet"),
        area,
        config["areas"][area]["districts"],
        DQReportSettings.from_config(config),
        {},
        area_label=config["areas"][area]["label"],
        places=config["areas"][area]["place"],
    )
    ctx = technical_context(
        area,
        config,
        read_tables({n: r / "tables" / area / f"{n}.csv" for n in REPORT_TABLES}),
        documents=read_documents({s["name"]: r / "estimates" / f"{s['name']}.json" for s in specs}),
        event_time={
            s["name"]: pd.read_csv(r / "estimates" / f"{s['name']}_event_time.csv") for s in specs
        },
        dq=dq,
        indicators=pd.read_csv(r / "resilience" / f"{area}_indicators.csv", dtype={"onset": str}),
        facilities=pd.read_parquet(r / "clean" / "facilities.parquet"),
        figures=figures,
        tables_dir=f"results/tables/{area}",
        summary=json.loads((r / "summary" / f"{area}.json").read_text("utf-8")),
    )
    prov = {
        "code_version": "abc",
        "base_commit": None,
        "config_hash": "0" * 64,
        "inputs": [],
        "packages": [],
    }
    a = render_technical(
        ctx, prov, lang, tmp_path / "a" / "technical_bamako_fr.html", synthetic=True
    )
    b = render_technical(
        ctx, prov, lang, tmp_path / "b" / "technical_bamako_fr.html", synthetic=True
    )
    assert a.read_bytes() == b.read_bytes()
    # The built report (other provenance) carries the same body numbers.
    built = _parse(_report(area, lang)).keyed
    assert _parse(a).keyed == built


def _block(html: str, start: str, end: str) -> str:
    i = html.index(start)
    return html[i : html.index(end, i)]


@pytest.mark.parametrize("lang", LANGS)
def test_sdid_weights_table_and_annex(lang: str) -> None:
    """Issue 19 (G19-1): every non-zero SDID weight in a table and in the report's annex."""
    table = pd.read_csv(RUN / "results" / "tables" / "bamako" / "sdid_weights.csv", dtype=str)
    table["weight"] = table["weight"].astype(float)
    doc = json.loads((RUN / "results" / "estimates" / "bamako_event_study.json").read_text())
    fits = [f for f in doc["fits"] if f["estimator"] == "synthdid"]
    assert len(fits) == 16 and len(table) == sum(
        len(f["unit_weights"]) + len(f["time_weights"]) for f in fits
    )
    assert (table["weight"] > 0).all()
    sums = table.groupby(["outcome", "level", "kind"])["weight"].sum()
    assert len(sums) == 32 and np.allclose(sums, 1.0, atol=1e-8)
    facilities = pd.read_parquet(RUN / "results" / "clean" / "facilities.parquet")
    names = dict(zip(facilities["facility_id"], facilities["name"], strict=True))
    cscom = table[(table["level"] == "facility") & (table["kind"] == "unit")]
    assert (cscom["name"] == cscom["unit"].map(names)).all()
    assert cscom.groupby("outcome").size().min() > 10  # more than the former top ten
    assert "Commune III" not in set(cscom["district"]) | set(table["unit"].dropna())
    # No synthetic DiD in Mopti: a header-only table and no annex.
    mopti = pd.read_csv(RUN / "results" / "tables" / "mopti" / "sdid_weights.csv")
    assert len(mopti) == 0 and "weight" in mopti.columns
    assert 'id="annex-sdid-weights"' not in _report("mopti", lang).read_text("utf-8")
    html = _report("bamako", lang).read_text("utf-8")
    annex = _block(html, '<section id="annex-sdid-weights"', "</section>")
    assert 'href="#annex-sdid-weights"' in html
    rows = annex.split("<tr>")[2:]  # header row first
    assert len(rows) == 16
    groups = list(table.groupby(["outcome", "level"], sort=False))
    assert len(groups) == len(rows)
    for row, ((outcome, level), g) in zip(rows, groups, strict=True):
        units = g[g["kind"] == "unit"]
        assert ("CSCOM" in row.split("</th>")[0]) == (level == "facility")
        for name, w in zip(units["name"], units["weight"], strict=True):
            shown = (
                "<" + fmt.fmt_number(0.1, lang, 1)
                if w < 0.0005
                else fmt.fmt_number(100 * w, lang, 1)
            )
            assert f"{name} {shown}" in row, (outcome, level, name)
        months = g[g["kind"] == "time"]
        assert row.count(" · ") == len(units) + len(months) - 2


@pytest.mark.parametrize("lang", LANGS)
def test_commune_sdid_interval_withheld_with_reason(lang: str) -> None:
    """Issue 19 (G19-2): no SE or interval from five placebos, and the reason in words."""
    est = _tables("bamako")["estimates"]
    sdid = est[est["estimator"] == "synthdid"]
    commune = sdid[sdid["cluster"] == "district"]
    cscom = sdid[sdid["cluster"] == "facility_id"]
    assert len(commune) == 8 and commune[["se", "ci_low", "ci_high", "p"]].isna().all().all()
    assert (commune["verdict"] == "not_informative").all()
    assert (cscom["se"] > 0).all() and cscom["conditional"].all() and cscom["ci_low"].notna().all()
    doc = json.loads((RUN / "results" / "estimates" / "bamako_event_study.json").read_text())
    for f in doc["fits"]:
        if f["estimator"] == "synthdid":
            assert f["placebo"]["interval"] == (
                "withheld" if f["level"] == "district" else "conditional"
            )
    text = " ".join(" ".join(_parse(_report("bamako", lang)).text).split())
    reason = load_catalogue()["warning.placebo_too_few"][lang]
    first = reason.split("{placebos:count}")[0].replace("\u00a0", " ")
    first = " ".join(first.split())
    assert first in text.replace("\u00a0", " ")
    assert ("20 an interval" if lang == "en" else "les 20 qu") in text


@pytest.mark.parametrize("lang", LANGS)
def test_mopti_horizons_cs_beside_imputation(lang: str) -> None:
    """Issue 19 (G19-4): CS and imputation on the same post-start horizons, both RI."""
    doc = json.loads((RUN / "results" / "estimates" / "mopti_staggered.json").read_text())
    last = doc["settings"]["sensitivity"]["window_post"]
    html = _report("mopti", lang).read_text("utf-8")
    proportion = {o for o, u in doc["units"].items() if u == "proportion"}
    for outcome in doc["units"]:
        table = _block(html, f'id="imp-h-mopti_staggered-{outcome}"', "</table>")
        rows = table.split("<tbody>")[1].split("<tr>")[1:]
        assert len(rows) == last + 1
        scale, digits = (100, 1) if outcome in proportion else (1, 2)
        for h, row in enumerate(rows):
            cells = re.findall(r"<td>(.*?)</td>", row)
            for i, estimator in enumerate(("callaway_santanna", "imputation")):
                e = next(
                    e
                    for e in doc["estimates"]
                    if e["outcome"] == outcome
                    and e["estimator"] == estimator
                    and e["aggregation"] == "dynamic"
                    and e["inference"] == "randomization"
                    and e["robustness"] is None
                    and e["event_time"] == h
                )
                assert cells[2 * i] == fmt.fmt_number(e["estimate"] * scale, lang, digits)
                interval = fmt.fmt_interval(e["ci_low"] * scale, e["ci_high"] * scale, lang, digits)
                assert (
                    cells[2 * i + 1] == interval.replace("\u00a0", "&nbsp;")
                    or cells[2 * i + 1] == interval
                )


# --- units ------------------------------------------------------------------------------


def _survey(n_small: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)
    rows = []
    for year in (2015, 2018):
        for arm, n in (("comparison", 40), ("treated", n_small if year == 2018 else 30)):
            for i in range(n):
                rows.append(
                    {
                        "year": year,
                        "arm": arm,
                        "area": "mopti",
                        "psu": f"{year}-{arm}-{i % 4}",
                        "strata": f"{year}-{arm}",
                        "weight": 1.0 + (i % 3),
                        "district": "Mopti",
                        "facility_delivery": float(rng.random() < 0.5),
                    }
                )
    return {"births": pd.DataFrame(rows)}


def test_small_survey_cells_suppressed() -> None:
    cells = survey_cells(_survey(3), ["facility_delivery"], "mopti", k=5)
    small = cells[(cells["year"] == 2018) & (cells["arm"] == "treated")].iloc[0]
    assert bool(small["suppressed"]) and int(small["n"]) == 3
    assert pd.isna(small["estimate"]) and pd.isna(small["ci_low"]) and pd.isna(small["weighted_n"])
    big = cells[(cells["year"] == 2015) & (cells["arm"] == "treated")].iloc[0]
    assert not bool(big["suppressed"]) and pd.notna(big["estimate"])
    # At k = 3 the same cell is shown.
    shown = survey_cells(_survey(3), ["facility_delivery"], "mopti", k=3)
    assert not shown["suppressed"].any()


def test_write_table_three_formats_deterministic(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "outcome": ["a_b", "c"],
            "estimate": [0.1234567, np.nan],
            "ok": [True, False],
            "n_psu": [3, 4],
        }
    )
    first = write_table(frame, tmp_path / "one", "demo", caption="Demo & test")
    second = write_table(frame, tmp_path / "two", "demo", caption="Demo & test")
    assert set(first) == {"csv", "xlsx", "tex"}
    for ext in first:
        assert first[ext].read_bytes() == second[ext].read_bytes(), ext
    tex = first["tex"].read_text("utf-8")
    assert r"a\_b" in tex and r"Demo \& test" in tex and r"n\_psu" in tex
    assert pd.read_csv(first["csv"])["estimate"].iloc[0] == pytest.approx(0.1234567)
    assert pd.read_excel(first["xlsx"])["outcome"].tolist() == ["a_b", "c"]


def test_primary_outcomes_are_read_never_defaulted() -> None:
    config = {
        "analyses": [
            {"name": "x", "outcomes": ["a", "b"]},
            {"name": "y", "outcomes": ["c"]},
        ],
        "reporting": {"primary_outcomes": {"x": ["b"], "y": []}},
    }
    assert primary_outcomes(config) == {"x": ["b"], "y": []}
    config["reporting"] = {"primary_outcomes": {"x": ["b"]}}
    with pytest.raises(ValueError, match="primary_outcomes.y"):
        primary_outcomes(config)
    config["reporting"] = {"primary_outcomes": {"x": ["z"], "y": []}}
    with pytest.raises(ValueError, match="primary_outcomes.x"):
        primary_outcomes(config)


def test_every_reached_warning_code_translated() -> None:
    cat = load_catalogue()
    codes = set()
    for p in (RUN / "results" / "estimates").glob("*.json"):
        doc = json.loads(p.read_text("utf-8"))
        codes |= {w["code"] for w in doc["warnings"]}
    codes |= {"persistence_short_window", "persistence_unavailable"}
    missing = sorted(c for c in codes if f"warning.{c}" not in cat)
    assert missing == []
