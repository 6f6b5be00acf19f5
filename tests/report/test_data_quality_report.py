"""The data-quality report shows the DQ tables faithfully, in one language, self-contained.

The DQ tables are built once per module from the demo data with the library (as the
clean rule does), the four reports (mopti | bamako × fr | en) rendered once into a
temporary folder; the tests parse the HTML back.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from demo_panels import RAW, demo_config, demo_run

from sahel_eval.clean.denominators import area_displacement_table
from sahel_eval.clean.dq import dq_tables
from sahel_eval.clean.outliers_count import SCORE_CAP
from sahel_eval.figures.dq import dq_figure_paths, heatmap_matrix, write_dq_figures
from sahel_eval.report.data_quality import (
    DQReportSettings,
    area_tables,
    data_quality_context,
    render_data_quality,
)
from sahel_eval.report.dq_displacement import displacement_context
from sahel_eval.report.provenance import Provenance
from sahel_eval.text.formatting import fmt_count, fmt_number, fmt_percent
from sahel_eval.text.i18n import load_catalogue

AREAS = ("mopti", "bamako")
LANGS = ("fr", "en")
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
PROVENANCE = Provenance(
    code_version="0" * 40,
    base_commit=None,
    config_hash="c" * 64,
    inputs=(),
    packages=(),
)


def _render(built: dict, area: str, lang: str, out_dir: Path) -> Path:
    config, tables, fac = built["config"], built["tables"], built["facilities"]
    s = built["settings"]
    districts = config["areas"][area]["districts"]
    figs = dq_figure_paths(out_dir / "figures" / lang, area)
    write_dq_figures(
        tables,
        districts,
        lang,
        figs,
        completeness_target=s.completeness_target,
        timeliness_target=s.timeliness_target,
        inactive_months=s.inactive_months,
    )
    label = config["areas"][area]["label"]
    ctx = data_quality_context(tables, fac, area, districts, s, figs, area_label=label, places={})
    ctx["displacement"] = displacement_context(built["displacement"][area], fac, config)
    return render_data_quality(
        ctx, PROVENANCE, lang, out_dir / f"data_quality_{area}_{lang}.html", synthetic=True
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    # The demo data are committed: their absence is a broken checkout, not a skip.
    assert (RAW / "truth.json").is_file(), "data/raw/truth.json missing (make demo-data)"
    config = demo_config()
    run = demo_run()
    tables = dq_tables(run.clean, run.facilities, run.programmes, run.settings)
    out = {
        "config": config,
        "tables": tables,
        "facilities": run.facilities,
        "settings": DQReportSettings.from_config(config),
        "dir": tmp_path_factory.mktemp("dq-report"),
        "displacement": {
            area: area_displacement_table(run.panels[area], run.population, run.sites, config)
            for area in AREAS
        },
    }
    out["html"] = {
        (area, lang): _render(out, area, lang, out["dir"]).read_text("utf-8")
        for area in AREAS
        for lang in LANGS
    }
    return out


class _Page(HTMLParser):
    """Tables by id (rows of cell texts), texts by element id, headings, th scopes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.by_id: dict[str, str] = {}
        self.headings: list[int] = []
        self.th_without_scope = 0
        self.text: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._span: tuple[str, int] | None = None
        self._depth = 0
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self._depth += 1
        if tag in ("style", "svg", "code"):
            self._skip += 1
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        if tag == "th" and "scope" not in a:
            self.th_without_scope += 1
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if a.get("id") and tag == "span":
            self._span = (a["id"], self._depth)
            self.by_id[a["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "svg", "code"):
            self._skip -= 1
        if tag in ("td", "th") and self._cell is not None and self._table:
            # Collapse ASCII whitespace only: U+202F / U+00A0 are part of the numbers.
            cell = re.sub(r"[ \t\r\n]+", " ", "".join(self._cell)).strip()
            self.tables[self._table][-1].append(cell)
            self._cell = None
        elif tag == "table":
            self._table = None
        if self._span and self._span[1] == self._depth:
            self._span = None
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._span:
            self.by_id[self._span[0]] += data.strip()
        if not self._skip:
            self.text.append(data)


def _page(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


def _area(built: dict, area: str) -> dict[str, pd.DataFrame]:
    districts = built["config"]["areas"][area]["districts"]
    return area_tables(built["tables"], districts, built["facilities"])


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("lang", LANGS)
def test_numbers_shown_equal_the_dq_tables(built: dict, area: str, lang: str) -> None:
    page = _page(built["html"][(area, lang)])
    t = _area(built, area)
    cd = t["completeness_district"]
    comp = cd["reported"].sum() / cd["expected"].sum()
    time_ = cd["timely"].sum() / cd["expected"].sum()
    assert page.by_id["big-completeness"] == fmt_percent(comp, lang)
    assert page.by_id["big-timeliness"] == fmt_percent(time_, lang)
    assert page.by_id["big-outliers"] == fmt_count(len(t["outliers"]), lang)
    assert page.by_id["big-duplicates"] == fmt_count(len(t["duplicates_conflicting"]), lang)

    rows = {r[0]: r for r in page.tables["dq-district-table"][1:]}
    for r in cd.itertuples():
        shown = rows[r.district]
        assert shown[1] == fmt_count(r.expected, lang)
        assert shown[2] == fmt_count(r.reported, lang)
        assert shown[3].startswith(fmt_percent(r.completeness, lang))
        assert shown[4].startswith(fmt_percent(r.timeliness, lang))

    top = t["outliers"].sort_values("outlier_score", ascending=False, kind="mergesort")
    shown = page.tables["dq-outlier-table"][1:]
    assert len(shown) == min(len(top), built["settings"].top_n)
    for row, (_, ref) in zip(shown, top.iterrows(), strict=False):
        assert row[1] == ref["district"]
        assert row[4] == fmt_count(ref["value"], lang)
        # The count rule's score is capped: beyond 10^-16 the report says "≥ 16".
        capped = ref["outlier_method"] == "count" and ref["outlier_score"] >= SCORE_CAP
        want = f"≥\u00a0{fmt_number(SCORE_CAP, lang, 0)}" if capped else None
        assert row[7] == (want or fmt_number(ref["outlier_score"], lang, 1))

    att = t["attrition_by_arm"]
    for arm in ("treated", "comparison"):
        ref = att[(att["arm"] == arm) & (att["district"] == "all")].set_index("year")
        for row in page.tables[f"dq-attrition-{arm}"][1:]:
            year = int(row[0])
            assert row[1] == fmt_count(ref.loc[year, "facilities_open"], lang)
            assert row[2] == fmt_percent(ref.loc[year, "unreported_share"], lang)
            assert row[3] == fmt_count(ref.loc[year, "closures"], lang)

    ci = t["consistency_internal"]
    ci = ci[(ci["level"] == "district") & (ci["check"] == "penta1_penta3")]
    cons = page.tables["dq-consistency-penta1_penta3"]
    years = [int(y) for y in cons[0][1:]]
    for row in cons[1:]:
        ref = ci[ci["district"] == row[0]].set_index("year")["ratio"]
        for y, cell in zip(years, row[1:], strict=True):
            # Two decimals, three when two would round an out-of-bounds ratio onto a bound.
            assert cell.split()[0] in (fmt_number(ref[y], lang, 2), fmt_number(ref[y], lang, 3))


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("lang", LANGS)
def test_displacement_table_shows_both_denominators(built: dict, area: str, lang: str) -> None:
    page = _page(built["html"][(area, lang)])
    rows = page.tables["dq-displacement-table"][1:]
    table = built["displacement"][area]
    assert len(rows) == len(table) > 0
    fac = built["facilities"]
    names = dict(zip(fac["orgunit_uid"], fac["orgunit_name"], strict=True))
    for cells, (_, r) in zip(rows, table.iterrows(), strict=True):
        assert cells[0] == f"{names[r['facility_id']]} ({r['district']})"
        assert cells[1] == str(r["year"])
        assert cells[2] == fmt_number(r["population"], lang, 0)
        assert cells[5] == fmt_number(r["population_adjusted"], lang, 0)
        assert cells[6:] == [
            fmt_number(r[c], lang, 1) for c in ("rate_unadjusted", "rate_adjusted")
        ]
    catalogue = load_catalogue()
    assert catalogue["dq.displacement.used_adjusted"][lang].split("{")[0] in page_text(page)


def page_text(page: _Page) -> str:
    return re.sub(r"[ \t\r\n]+", " ", "".join(page.text))


def test_heatmap_matrix_codes() -> None:
    status = pd.DataFrame(
        {
            "facility_id": ["a", "a", "a", "b"],
            "district": ["D", "D", "D", "D"],
            "period": ["202001", "202002", "202003", "202003"],
            "reported": [True, False, False, True],
        }
    )
    keyed = pd.DataFrame({"facility_id": ["a"], "period": ["202003"]})
    m, rows = heatmap_matrix(status, keyed, ["202001", "202002", "202003"], ["D"])
    assert list(rows["facility_id"]) == ["a", "b"]  # least complete first
    assert m.tolist() == [[1, 2, 3], [0, 0, 1]]


def _english_strings() -> list[str]:
    out = []
    for key, entry in load_catalogue().items():
        if key == "report.other_language":  # shown in the other language on purpose
            continue
        en, fr = entry["en"], entry["fr"]
        for part in re.split(r"\{[^}]*\}", en):
            part = part.strip(" :;,.()“”\u00a0")
            if len(part) >= 5 and part not in fr and re.search(r"[a-z]{3}", part):
                out.append(part)
    return out


@pytest.mark.parametrize("area", AREAS)
def test_french_report_has_no_english_interface_strings(built: dict, area: str) -> None:
    html = built["html"][(area, "fr")]
    assert '<html lang="fr"' in html
    text = " ".join("".join(_page(html).text).split())
    found = sorted({s for s in _english_strings() if re.search(rf"\b{re.escape(s)}\b", text)})
    assert not found


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("lang", LANGS)
def test_figures_inlined_with_alt_text_and_page_self_contained(
    built: dict, area: str, lang: str
) -> None:
    html = built["html"][(area, lang)]
    svgs = re.findall(r"<svg\b[^>]*>", html)
    figures = [s for s in svgs if 'role="img"' in s]
    assert len(figures) == 3
    for opening in figures:
        label = re.search(r'aria-label="([^"]*)"', opening)
        assert label and len(label.group(1)) > 40
    assert not EXTERNAL.search(html)
    assert "<img" not in html or "data:" in html


@pytest.mark.parametrize("lang", LANGS)
def test_accessible_structure(built: dict, lang: str) -> None:
    page = _page(built["html"][("mopti", lang)])
    assert page.headings[0] == 1 and page.headings.count(1) == 1
    # Never skip a level going down (h2 -> h4).
    assert all(b <= a + 1 for a, b in zip(page.headings, page.headings[1:], strict=False))
    assert page.th_without_scope == 0


def test_rendering_twice_is_byte_identical(built: dict, tmp_path: Path) -> None:
    again = _render(built, "bamako", "fr", tmp_path).read_text("utf-8")
    # Figure paths differ between the two folders but are not written into the page.
    assert again == built["html"][("bamako", "fr")]
    first = dq_figure_paths(built["dir"] / "figures" / "fr", "bamako")
    second = dq_figure_paths(tmp_path / "figures" / "fr", "bamako")
    for name in first:
        assert first[name].read_bytes() == second[name].read_bytes()
