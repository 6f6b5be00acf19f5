"""Every report of the demo run, opened in headless Chromium as a reader would.

Checks per page: no console error, every image loaded and every inline SVG laid out,
the key numbers equal to the results files, and no English interface string in the
French pages. On a 390 × 844 phone screen: no sideways scrolling of the page (a
screenshot of each brief is written to ``<demo run>/screenshots/``), no duplicate id,
and in the French reports axe-core (the copy pinned by the lock, package
``axe-core-python``) finds no serious or critical violation in any report. Of the
English pages only one brief and one technical report run axe's colour-contrast rule:
the others share their templates and stylesheet (the same colours on the same
elements), and that rule costs 2–20 s a page (every table cell); every other rule
(language, names, headings, ARIA, tables) runs on every page. Every text of every
inline figure lies inside its figure. At 1280 × 800 the summary's four answers fit
one screen. The browser is the Debian ``chromium`` +
``chromium-driver``; nothing is downloaded. Without them the tests are skipped, unless
``SAHEL_EVAL_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which turns a missing browser
into a failure.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sahel_eval.config import load_config
from sahel_eval.report.screenshots import browser_missing, make_driver, phone_screen
from sahel_eval.text import formatting as fmt
from sahel_eval.text.i18n import load_catalogue

REQUIRE_BROWSER = os.environ.get("SAHEL_EVAL_REQUIRE_BROWSER") == "1"
AREAS = ("mopti", "bamako")
LANGS = ("fr", "en")
EXPECTED = (
    *(f"data_inventory_{lang}.html" for lang in LANGS),
    *(f"data_quality_{a}_{lang}.html" for a in AREAS for lang in LANGS),
    *(f"brief_{a}_{lang}.html" for a in AREAS for lang in LANGS),
)

_PAGE_STATE = """
const imgs = Array.from(document.images).map(
  i => [i.getAttribute('alt'), i.complete, i.naturalWidth]);
const svgs = Array.from(document.querySelectorAll('svg')).map(s => {
  const r = s.getBoundingClientRect();
  return [s.getAttribute('aria-label'), r.width, r.height];
});
// Figure text outside its own figure (a title wider than the SVG is clipped).
const outside = [];
document.querySelectorAll('svg[role=img]').forEach(s => {
  const r = s.getBoundingClientRect();
  if (!r.width) return;
  s.querySelectorAll('text').forEach(t => {
    const b = t.getBoundingClientRect();
    if (!b.width || !t.textContent.trim()) return;
    if (b.left < r.left - 1 || b.right > r.right + 1 || b.top < r.top - 1
        || b.bottom > r.bottom + 1)
      outside.push([(s.getAttribute('aria-label') || '').slice(0, 60),
                    t.textContent.slice(0, 60)]);
  });
});
const texts = document.querySelectorAll('svg[role=img] text').length;
return {imgs: imgs, svgs: svgs, lang: document.documentElement.lang,
        ready: document.readyState, text: document.body.innerText,
        outside: outside, svg_texts: texts};
"""


@pytest.fixture(scope="module")
def driver() -> Any:
    reason = browser_missing()
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"SAHEL_EVAL_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    drv = make_driver()
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def pages(demo_run: Path, driver: Any) -> dict[str, dict[str, Any]]:
    """Each report of the demo run opened once: its state, text and console log."""
    out = {}
    for html in sorted((demo_run / "reports").glob("*.html")):
        driver.get(html.resolve().as_uri())
        state = driver.execute_script(_PAGE_STATE)
        # get_log empties the buffer, so each page gets only its own messages.
        state["log"] = driver.get_log("browser")
        state["driver_values"] = {}
        for el in driver.find_elements("css selector", "[id^='big-'], .brief-big, .brief-value"):
            key = el.get_attribute("id") or el.get_attribute("data-outcome")
            state["driver_values"][key] = el.text.strip()
        for el in driver.find_elements("css selector", "#brief-shock-table tbody tr"):
            shock = el.get_attribute("data-shock")
            for td in el.find_elements("css selector", "td[data-class]"):
                state["driver_values"][f"{shock}:{td.get_attribute('data-class')}"] = td.text
        out[html.name] = state
    return out


PHONE = {"width": 390, "height": 844}
# English pages on which axe's colour-contrast rule also runs (one of each kind with
# badges and coloured verdicts; the others share their templates and stylesheet).
CONTRAST_EN = ("brief_mopti_en.html", "technical_bamako_en.html")

_PHONE_STATE = """
const ids = Array.from(document.querySelectorAll('[id]'), e => e.id);
return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
        duplicate_ids: ids.filter((id, i) => ids.indexOf(id) !== i).slice(0, 10)};
"""
_AXE_RUN = """
const done = arguments[arguments.length - 1];
const rules = arguments[0] ? {} : {'color-contrast': {enabled: false}};
axe.run(document, {resultTypes: ['violations'], rules: rules}).then(r => done(r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => [v.id, v.impact, v.nodes.length, v.nodes[0].html.slice(0, 160)])));
"""


@pytest.fixture(scope="module")
def phone_pages(demo_run: Path, driver: Any) -> dict[str, dict[str, Any]]:
    """Each report at 390 × 844: widths, duplicate ids and axe-core's serious and
    critical findings (colour contrast on the French pages and ``CONTRAST_EN``).

    Writes ``screenshots/brief_*.png`` (first screen at phone width) in the demo run.
    """
    from axe_core_python.base import AXE_SCRIPT

    shots = demo_run / "screenshots"
    shots.mkdir(exist_ok=True)
    driver.set_script_timeout(120)
    phone_screen(driver, PHONE["width"], PHONE["height"])
    out = {}
    try:
        for html in sorted((demo_run / "reports").glob("*.html")):
            driver.get(html.resolve().as_uri())
            state = driver.execute_script(_PHONE_STATE)
            if html.name.startswith("brief_"):
                driver.save_screenshot(str(shots / f"{html.stem}.390.png"))
            driver.execute_script(AXE_SCRIPT)
            contrast = html.name.endswith("_fr.html") or html.name in CONTRAST_EN
            state["axe"] = driver.execute_async_script(_AXE_RUN, contrast)
            state["contrast"] = contrast
            out[html.name] = state
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return out


def test_no_sideways_scrolling_on_a_phone(
    demo_run: Path, phone_pages: dict[str, dict[str, Any]]
) -> None:
    assert set(EXPECTED) <= set(phone_pages)
    assert any(name.startswith("technical_") for name in phone_pages)
    wide = {name: s["scroll"] for name, s in phone_pages.items() if s["scroll"] > s["inner"]}
    assert all(s["inner"] == PHONE["width"] for s in phone_pages.values())
    assert not wide, f"pages wider than a {PHONE['width']} px phone: {wide}"
    for name in phone_pages:
        if name.startswith("brief_"):
            shot = demo_run / "screenshots" / name.replace(".html", ".390.png")
            # PNG header: width and height, big-endian, at bytes 16–24.
            assert int.from_bytes(shot.read_bytes()[16:20], "big") == PHONE["width"], shot


def test_ids_unique_in_every_page(phone_pages: dict[str, dict[str, Any]]) -> None:
    dup = {name: s["duplicate_ids"] for name, s in phone_pages.items() if s["duplicate_ids"]}
    assert not dup


def test_axe_finds_no_serious_violation(phone_pages: dict[str, dict[str, Any]]) -> None:
    checked = {name for name, s in phone_pages.items() if "axe" in s}
    assert checked == set(phone_pages)
    assert len(checked) == 14
    contrast = {name for name, s in phone_pages.items() if s["contrast"]}
    assert set(CONTRAST_EN) <= contrast and len(contrast) == 9, sorted(contrast)
    found = {name: s["axe"] for name, s in phone_pages.items() if s.get("axe")}
    assert not found


DESKTOP = {"width": 1280, "height": 800}
_ANSWERS_BOX = """
const h = document.getElementById('summary-title').getBoundingClientRect();
const a = document.getElementById('summary-answers').getBoundingClientRect();
return {top: h.top, bottom: a.bottom};
"""


def test_summary_answers_fit_one_desktop_screen(demo_run: Path, driver: Any) -> None:
    """G5: from the summary's heading to its last answer, one 1280 × 800 screen."""
    phone_screen(driver, DESKTOP["width"], DESKTOP["height"])
    try:
        tall = {}
        for html in sorted((demo_run / "reports").glob("*.html")):
            if not html.name.startswith(("brief_", "technical_")):
                continue
            driver.get(html.resolve().as_uri())
            box = driver.execute_script(_ANSWERS_BOX)
            if box["bottom"] - box["top"] > DESKTOP["height"]:
                tall[html.name] = round(box["bottom"] - box["top"])
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert not tall, f"summary answers taller than a {DESKTOP['height']} px screen: {tall}"


def _norm(text: str) -> str:
    """Visible text as WebDriver returns it: no-break spaces read as plain spaces."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


def _config(demo_run: Path) -> dict[str, Any]:
    return yaml.safe_load((demo_run / "config" / "config.yaml").read_text("utf-8"))


def test_every_report_is_opened(pages: dict[str, dict[str, Any]]) -> None:
    missing = sorted(set(EXPECTED) - set(pages))
    assert not missing, f"reports not produced by the demo run: {missing}"
    for name, state in pages.items():
        assert state["ready"] == "complete", name
        assert state["lang"] == name.rsplit("_", 1)[1].removesuffix(".html"), name


def test_no_console_errors(pages: dict[str, dict[str, Any]]) -> None:
    errors = {
        name: [e["message"] for e in state["log"] if e.get("level") == "SEVERE"]
        for name, state in pages.items()
    }
    assert not {k: v for k, v in errors.items() if v}


def test_every_image_loaded(pages: dict[str, dict[str, Any]]) -> None:
    for name, state in pages.items():
        broken = [alt for alt, complete, width in state["imgs"] if not complete or width == 0]
        assert not broken, f"{name}: images not loaded: {broken}"
        empty = [label for label, w, h in state["svgs"] if label and (w == 0 or h == 0)]
        assert not empty, f"{name}: inline SVG figures not laid out: {empty}"
    for name in pages:
        if name.startswith("data_quality_"):
            assert any(label for label, _, _ in pages[name]["svgs"]), f"{name}: no figure"


def test_figure_text_inside_its_figure(pages: dict[str, dict[str, Any]]) -> None:
    """Every ``<text>`` of every inline figure lies inside its SVG: no title or label
    is clipped (issue 20, G4: the survey figures' titles were wider than the figure)."""
    assert sum(s["svg_texts"] for n, s in pages.items() if n.startswith("technical_")) > 100
    outside = {name: s["outside"][:5] for name, s in pages.items() if s["outside"]}
    assert not outside


def test_data_quality_completeness_matches_results(
    demo_run: Path, pages: dict[str, dict[str, Any]]
) -> None:
    cfg = _config(demo_run)
    cd = pd.read_csv(demo_run / "results" / "dq" / "completeness_district.csv")
    for area in AREAS:
        sub = cd[cd["district"].isin(cfg["areas"][area]["districts"])]
        share = sub["reported"].sum() / sub["expected"].sum()
        for lang in LANGS:
            shown = pages[f"data_quality_{area}_{lang}.html"]["driver_values"]["big-completeness"]
            assert _norm(shown) == _norm(fmt.fmt_percent(share, lang)), (area, lang)


def _overall(rows: pd.DataFrame, outcome: str, lead: str) -> pd.Series:
    """The overall effect the brief reports: the config's lead estimator
    (reporting.lead_estimator), at the assignment level when it has such a row."""
    rows = rows[rows["outcome"] == outcome]
    head_cluster = rows.loc[rows["headline"], "cluster"].iloc[0]
    overall = rows[rows["aggregation"].isin(["simple", "static"]) & (rows["estimator"] == lead)]
    return overall.sort_values("cluster", key=lambda s: s != head_cluster, kind="mergesort").iloc[0]


def test_brief_numbers_match_results(demo_run: Path, pages: dict[str, dict[str, Any]]) -> None:
    cfg = _config(demo_run)
    # Validated: the lead estimators are schema defaults.
    leads = load_config(demo_run / "config" / "config.yaml")["reporting"]["lead_estimator"]
    facility = {a["area"]: a for a in cfg["analyses"] if a["data"] == "facility"}
    for area in AREAS:
        spec = facility[area]
        doc = json.loads((demo_run / "results/estimates" / f"{spec['name']}.json").read_text())
        rows = pd.DataFrame(doc["estimates"])
        agg = pd.read_csv(demo_run / "results/resilience" / f"{area}_aggregates.csv")
        agg = agg[(agg["level"] == "area") & (agg["service"] == "consultations_all")]
        covid = agg.set_index("shock_id").loc["covid19"]
        for lang in LANGS:
            shown = pages[f"brief_{area}_{lang}.html"]["driver_values"]
            for outcome in spec["outcomes"][:2]:
                lead = leads[spec["design"]]
                est = float(_overall(rows, outcome, lead)["estimate"])
                text = fmt.fmt_number(est, lang, 1)
                expected = ("+" if round(est, 1) > 0 else "") + text
                assert _norm(shown[outcome]) == _norm(expected), (area, lang, outcome)
            for cls in ("resilient", "recovered", "not_recovered", "interrupted"):
                value = fmt.fmt_percent(float(covid[f"share_{cls}"]), lang, 0)
                assert _norm(shown[f"covid19:{cls}"]) == _norm(value), (area, lang, cls)


def test_data_inventory_lists_every_input(demo_run: Path, pages: dict[str, dict[str, Any]]) -> None:
    inputs = _config(demo_run)["inputs"]
    names = [Path(inputs[k]).name for k in ("facilities", "population", "events")]
    names += [Path(p).name for p in inputs["mutuals"]]
    for lang in LANGS:
        text = pages[f"data_inventory_{lang}.html"]["text"]
        assert all(n in text for n in names), lang


_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_WORDS = re.compile(r"[A-Za-z][A-Za-z’'-]+(?:\s+[A-Za-z][A-Za-z’'-]+)+")


def english_only_phrases() -> set[str]:
    """Runs of two or more English words from the catalogue that no French text holds."""
    cat = load_catalogue()
    french = " ".join(e["fr"] for e in cat.values())
    out = set()
    for entry in cat.values():
        if entry["en"] == entry["fr"]:
            continue
        for part in _PLACEHOLDER.split(entry["en"]):
            for phrase in _WORDS.findall(part):
                # Three words at least: short runs ("Penta3 vaccines") can be proper
                # nouns or acronyms shared by both languages.
                if len(phrase.split()) >= 3 and phrase not in french:
                    out.add(phrase)
    return out


def test_no_english_interface_strings_in_french(pages: dict[str, dict[str, Any]]) -> None:
    phrases = english_only_phrases()
    assert len(phrases) > 50  # the check has something to look for
    found = {
        name: sorted(p for p in phrases if _norm(p) in _norm(state["text"]))
        for name, state in pages.items()
        if name.endswith("_fr.html")
    }
    assert not {k: v for k, v in found.items() if v}
