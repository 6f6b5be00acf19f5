"""What a programme officer read in the French and English reports (issue 20's ten
points): the rendered briefs and technical reports of the session's demo run say one
thing once, in words a reader can act on.

Each test reads the demo run's reports and its ``results/summary/{area}.json``; none
recomputes a number.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from report_pages import AREAS, LANGS
from report_pages import area_summary as _summary
from report_pages import element as _element
from report_pages import page as _html
from report_pages import text as _text

from sahel_eval.config import load_config
from sahel_eval.report.methods import methods_rows
from sahel_eval.text import formatting as fmt
from sahel_eval.text.i18n import load_catalogue

CLASSES = ("resilient", "recovered", "not_recovered", "interrupted")


@pytest.fixture(scope="module")
def run(demo_run: Path) -> Path:
    return demo_run


def _area_estimates(run: Path, config: dict, area: str) -> tuple[list[dict], dict[str, dict]]:
    """The area's analysis specs and their estimates documents, by analysis name."""
    specs = [a for a in config["analyses"] if a["area"] == area]
    docs = {
        a["name"]: json.loads(
            (run / "results" / "estimates" / f"{a['name']}.json").read_text("utf-8")
        )
        for a in specs
    }
    return specs, docs


def _effects(s: dict) -> list[dict]:
    return s["cards"] + s["more_effects"] + s["survey_effects"]


def _by_outcome(page: str, outcome: str) -> list[str]:
    """Text of each card or list item of the summary section for ``outcome``."""
    o = re.escape(outcome)
    found = re.findall(
        rf'<div class="brief-card[^"]*" data-outcome="{o}">.*?</div>'
        rf'|<li data-outcome="{o}">.*?</li>',
        _element(page, "section", "summary"),
        re.S,
    )
    assert found, f"no summary entry for {outcome}"
    return [_text(f) for f in found]


def test_holm_wording_is_the_same_and_not_proof(run: Path) -> None:
    """Point 1: a primary outcome shown alone but not after Holm's correction reads so,
    in the same words in the brief and the technical report, in both languages."""
    cat = load_catalogue()
    seen = 0
    for area in AREAS:
        s = _summary(run, area)
        for lang in LANGS:
            brief, tech = _html(run, "brief", area, lang), _html(run, "technical", area, lang)
            for e in _effects(s):
                if e["holm_p"] is None or e["verdict"] not in ("increase_shown", "decrease_shown"):
                    continue
                words = cat[f"brief.verdict_holm.{e['verdict']}"][lang]
                for page in (brief, tech):
                    assert any(words in t for t in _by_outcome(page, e["outcome"])), (
                        area,
                        lang,
                        e["outcome"],
                    )
                seen += 1
            assert "pas après correction" not in _text(brief)
    assert seen, "the demo run has no primary outcome shown alone; the test checks nothing"


def test_brief_prints_no_conditional_range_as_the_result(run: Path) -> None:
    """Point 2: with too few programme areas the brief prints no facility-level or
    survey-design range next to "we cannot tell"."""
    cat = load_catalogue()
    seen = seen_persistence = 0
    for area in AREAS:
        s = _summary(run, area)
        for lang in LANGS:
            brief = _html(run, "brief", area, lang)
            for e in _effects(s):
                if e["verdict"] != "not_informative" or not e.get("conditional"):
                    continue
                c = e["conditional"]
                pair = (c["low"]["text"][lang], c["high"]["text"][lang])
                for t in _by_outcome(brief, e["outcome"]):
                    assert not all(x in t for x in pair), (area, lang, e["outcome"], t)
                    # Said once for all when no result can conclude, else on each line.
                    assert (cat["brief.no_range"][lang] in t) is not bool(s["verdict_once"])
                seen += 1
            # G8: nor after "we cannot tell" whether the effect lasted.
            pz = s["persistence"]
            if pz and pz["verdict"] == "not_informative":
                line = _text(_element(brief, "p", "brief-persistence"))
                for bound in (pz["low"], pz["high"]):
                    if bound is not None:
                        assert bound["text"][lang] not in line, (area, lang, line)
                assert cat["brief.persistence.no_range"][lang].rsplit("}", 1)[-1] in line
                seen_persistence += 1
    assert seen, "no 'not informative' effect with a conditional range in the demo run"
    assert seen_persistence, "no 'not informative' persistence in the demo run"


def _support_rows(page: str) -> list[str]:
    table = _element(page, "table", "support-table")
    return re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, re.S)


def test_support_list_counts_distinct_cscoms_everywhere(run: Path) -> None:
    """Point 3: the actions, the intro and the table count distinct CSCOMs; G7: a CSCOM
    the facility register says has closed is never listed "to support", but last,
    under its own reason (closing date), and counted apart."""
    register = pd.read_parquet(run / "results" / "clean" / "facilities.parquet")
    closed_names = set(register.loc[register["closed"].notna(), "name"])
    cat = load_catalogue()
    seen_closed = 0
    for area in AREAS:
        s = _summary(run, area)
        active = [r for r in s["support"] if r["reason"] != "closed"]
        distinct = {(r["district"], r["facility"]) for r in active}
        closed = {(r["district"], r["facility"]) for r in s["support"] if r["reason"] == "closed"}
        assert not distinct & closed
        assert not {f for _, f in distinct} & closed_names, area
        seen_closed += len(closed)
        shocked = {
            (r["district"], r["facility"])
            for r in active
            if r["reason"] in ("interrupted", "not_recovered")
        }
        assert s["support_counts"]["cscoms"] == len(distinct)
        assert s["support_counts"]["closed"] == len(closed)
        acts = {a["action"]: a for a in s["actions"]}
        if "support_cscom" in acts:
            assert acts["support_cscom"]["n"] == len(shocked)
        for lang in LANGS:
            tech = _html(run, "technical", area, lang)
            # The technical report's annex lists every CSCOM once, the closed ones last.
            rows = _support_rows(_element(tech, "section", "annex-support"))
            assert len(rows) == len(distinct) + len(closed)
            said = cat["summary.reason.closed"][lang].split("{")[0]
            tail = [_text(r) for r in rows[len(distinct) :]]
            assert all(said in r for r in tail) and not any(
                said in _text(r) for r in rows[: len(distinct)]
            ), (area, lang)
            intro = _text(_element(_html(run, "brief", area, lang), "section", "support-list"))
            assert fmt.fmt_count(len(distinct), lang) + " CSCOM" in intro
    assert seen_closed, "the demo register closes CSCOMs a support rule selects"


def test_interrupted_cscoms_say_when_reports_resumed(run: Path) -> None:
    """Point 4: an interrupted CSCOM whose reports came back says so, with the months."""
    cat = load_catalogue()
    seen = 0
    for area in AREAS:
        s = _summary(run, area)
        for lang in LANGS:
            rows = {
                _text(re.search(r'<th scope="row">(.*?)</th>', r).group(1)).strip(): _text(r)
                for r in _support_rows(_html(run, "technical", area, lang))
            }
            for r in s["support"]:
                if r["reason"] != "interrupted" or not r["resumed"]:
                    continue
                said = cat["summary.reports.resumed"][lang].format(
                    start=fmt.fmt_month(r["gap_from"], lang),
                    end=fmt.fmt_month(r["gap_to"], lang),
                    resumed=fmt.fmt_month(r["resumed"], lang),
                )
                assert said in rows[r["facility"]], (area, lang, r["facility"])
                seen += 1
    assert seen, "no interrupted CSCOM whose reports resumed in the demo run"


def test_one_label_per_resilience_class(run: Path) -> None:
    """Point 5: brief, technical report and glossary use the same class labels."""
    cat = load_catalogue()
    for area in AREAS:
        for lang in LANGS:
            brief, tech = _html(run, "brief", area, lang), _html(run, "technical", area, lang)
            shocks = _text(_element(brief, "table", "brief-shock-table"))
            classes = _text(_element(tech, "table", "tech-res-classes"))
            glossary = _text(_element(tech, "section", "glossary"))
            for c in CLASSES:
                label = cat[f"class.{c}"][lang]
                for where, text in (("brief", shocks), ("tech", classes), ("glossary", glossary)):
                    assert label in text, (area, lang, c, where)
            if lang == "fr":
                for old in ("Ont récupéré", "Pas récupéré", "pas rétabli", "Résilient"):
                    assert old not in _text(brief) + _text(tech), (area, old)
            # G12: one definition per class, the same words in all three places.
            s = _summary(run, area)
            for c in (*CLASSES, "not_assessable"):
                said = cat[f"class.def.{c}"][lang].format(
                    months=s["interruption_months"],
                    window=s["window_months"],
                    threshold=s["recovery_threshold"]["text"][lang],
                )
                said = f"{cat[f'class.{c}'][lang]}{cat['brief.colon'][lang]}{said}."
                legend = _text(_element(brief, "p", "class-defs"))
                for where, text in (
                    ("brief", legend),
                    ("tech", _text(tech)),
                    ("glossary", glossary),
                ):
                    assert said in text, (area, lang, c, where)


_POINTS = {
    "fr": re.compile(r"([−+]?\d[\d\u202f]*(?:,\d+)?)\s(points?) de pourcentage"),
    "en": re.compile(r"([−+]?\d[\d,]*(?:\.\d+)?)\s(percentage points?)\b"),
}


def test_percentage_points_agree_with_their_value(run: Path) -> None:
    """Point 6: Babel's plural rule on the value as shown (fr: "1,6 point")."""
    checked = 0
    for area in AREAS:
        for lang in LANGS:
            for kind in ("brief", "technical"):
                for number, unit in _POINTS[lang].findall(_text(_html(run, kind, area, lang))):
                    plain = number.replace("\u202f", "").replace("−", "-").replace("+", "")
                    if lang == "fr":
                        plain = plain.replace(",", ".")
                    else:
                        plain = plain.replace(",", "")
                    digits = len(plain.split(".")[1]) if "." in plain else 0
                    form = fmt.plural_form_shown(float(plain), lang, digits)
                    assert unit.endswith("s") == (form != "one"), (area, lang, kind, number, unit)
                    checked += 1
    assert checked


def test_plural_form_of_a_shown_value() -> None:
    assert fmt.plural_form_shown(-1.6, "fr", 1) == "one"
    assert fmt.plural_form_shown(1.96, "fr", 1) == "other"  # shown as 2,0
    assert fmt.plural_form_shown(1, "en", 0) == "one"
    assert fmt.plural_form_shown(1.0, "en", 1) == "other"  # "1.0 percentage points"


def _codes(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set(value) | {c for v in value.values() for c in _codes(v)}
    if isinstance(value, list | tuple):
        return {c for v in value for c in _codes(v)}
    return set()


def test_methods_table_prints_labels_not_codes(run: Path) -> None:
    """Point 7: no code of the config or the estimates file printed as a word in the
    methods table (data columns and analysis names stay, marked as code); years and
    seeds as plain integers."""
    config = yaml.safe_load((run / "config" / "config.yaml").read_text("utf-8"))
    cat = load_catalogue()
    seen: set[str] = set()
    for area in AREAS:
        specs, docs = _area_estimates(run, config, area)
        rows = methods_rows(specs, docs, {a["design"]: "" for a in specs})
        codes = set()
        for r in rows:
            for key, v in r.items():
                if key not in (
                    "analysis",
                    "variable",
                    "outcome",
                    "weights",
                    "covariates",
                    "lead",
                    "base_kind",
                ):
                    codes |= _codes(v)
        codes = {c for c in codes if re.fullmatch(r"[a-z][a-z0-9_]*", c)}
        seen |= codes
        for lang in LANGS:
            table = _element(_html(run, "technical", area, lang), "table", "methods-table")
            plain = _text(re.sub(r"<code>.*?</code>", " ", table))
            # What a catalogue label printed is not a raw code, even when the label
            # is the same word ("bootstrap"): take every label out, then look.
            for label in sorted({e[lang] for e in cat.values()}, key=len, reverse=True):
                if len(label) > 3 and "{" not in label:
                    plain = plain.replace(label, " ")
            raw = sorted(c for c in codes if re.search(rf"(?<![\w-]){c}(?![\w-])", plain))
            assert not raw, (area, lang, raw)
            for r in rows:
                if r["base_kind"] == "year":
                    assert str(r["base"]) in plain and fmt.fmt_count(r["base"], lang) not in plain
                for seed in r["seeds"].values():
                    assert re.search(rf"(?<![\d\u202f,]){seed}(?![\d])", plain), (area, seed)
    # The demo's Callaway–Sant'Anna fit has these codes: the scan looks for something.
    assert {"dr", "never_treated", "randomization"} <= seen


def test_methods_table_describes_the_lead_fit(run: Path) -> None:
    """G1/G2: the methods column describes the fit behind the summary's lead number
    (Bamako: Callaway–Sant'Anna, not the event study), with its control group, base
    period and covariates written out ("none", never "—")."""
    config = load_config(run / "config" / "config.yaml")  # schema defaults filled
    lead = config["reporting"]["lead_estimator"]
    cat = load_catalogue()
    seen: list[dict] = []
    for area in AREAS:
        specs, docs = _area_estimates(run, config, area)
        summary = _summary(run, area)
        rows = methods_rows(specs, docs, lead)
        seen += rows
        for r in rows:
            assert r["estimator"] == r["lead"], (area, r["analysis"])
            assert r["control"] and r["base"] is not None, (area, r["analysis"])
        # The summary's lead number comes from the fit the column describes.
        fac = next(r for r in rows if r["design"] != "survey_rounds")
        card = summary["cards"][0]
        assert f"estimator={fac['estimator']}," in card["value"]["source"]
        assert f"cluster={fac['cluster']}]" in card["value"]["source"]
        for lang in LANGS:
            table = _element(_html(run, "technical", area, lang), "table", "methods-table")
            cells = {
                _text(th).strip(): [_text(td).strip() for td in tds]
                for th, tds in (
                    (m.group(1), re.findall(r"<td>(.*?)</td>", m.group(2), re.S))
                    for m in re.finditer(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table, re.S)
                )
            }
            lead_cells = cells[cat["methods.row.lead"][lang]]
            assert cells[cat["methods.row.estimator"][lang]] == lead_cells, (area, lang)
            for row in ("control", "base", "covariates"):
                assert "—" not in cells[cat[f"methods.row.{row}"][lang]], (area, lang, row)
            assert (
                cat["methods.value.covariates.none"][lang]
                in cells[cat["methods.row.covariates"][lang]]
            )
    # Callaway–Sant'Anna leads both facility analyses: its base period is written.
    assert {r["base_kind"] for r in seen} >= {"cs_varying", "year"}


def test_pretrend_count_is_of_computed_tests(run: Path) -> None:
    """Point 8: "k rejections of n tests computed (m not computable)", n counting only
    the assignment-level tests with a p-value in the table."""
    unit = {a: _summary(run, a)["district_unit"] for a in AREAS}
    for area in AREAS:
        for lang in LANGS:
            tech = _html(run, "technical", area, lang)
            table = _element(tech, "table", "tech-pretrends")
            computed = not_computable = 0
            for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, re.S):
                cells = [_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
                if cells[1] != unit[area][lang]:
                    continue
                if cells[3].startswith("—"):
                    not_computable += 1
                else:
                    computed += 1
            text = _text(tech)
            # Robustness fits never had a pre-test: no row, no phantom "not testable".
            assert "raison non précisée" not in text and "reason not given" not in text
            fits = (run / "results" / "tables" / area / "pretrends.csv").read_text("utf-8")
            assert ":balanced_subsample" not in fits and ":spillover_excluded" not in fits
            pattern = (
                r"sur (\d+) tests? calculés? \((\d+) non calculables?"
                if lang == "fr"
                else r"of (\d+) tests? computed \((\d+) not computable"
            )
            if not computed:
                pattern = (
                    r"aucun test n’a pu être calculé \((\d+) non calculables?"
                    if lang == "fr"
                    else r"no test could be computed \((\d+) not computable"
                )
                m = re.search(pattern, text)
                assert m and int(m.group(1)) == not_computable, (area, lang)
                continue
            m = re.search(pattern, text)
            assert m, (area, lang)
            assert (int(m.group(1)), int(m.group(2))) == (computed, not_computable), (area, lang)


def test_area_unit_word(run: Path) -> None:
    """Point 9 and G11: Mopti's reports say cercle(s), Bamako's commune(s), from the
    config: no generic text names both units or the other area's unit; G15: the
    support list's column header is the area's district word."""
    cat = load_catalogue()
    for area in AREAS:
        s = _summary(run, area)
        unit = s["district_unit"]
        for lang in LANGS:
            for kind in ("brief", "technical"):
                page = _html(run, kind, area, lang)
                # The provenance block lists input files by name (mutuelle_commune3.xlsx).
                text = _text(re.sub(r'<[^>]*id="provenance.*', "", page, flags=re.S)).lower()
                for bad in (
                    "cercle ou commune",
                    "commune ou un cercle",
                    "cercles ou communes",
                    "(cercle, commune)",
                    "districts or communes",
                    "commune or district",
                    "(cercle, commune)",
                ):
                    assert bad not in text, (area, lang, kind, bad)
                assert "zones d’intervention" not in text
                if area == "bamako":
                    assert "cercle" not in text, (lang, kind)
                else:
                    assert "commune" not in text, (lang, kind)
                header = re.findall(
                    r"<th scope=\"col\">(.*?)</th>", _element(page, "table", "support-table")
                )
                assert header[1] == s["district_word"][lang] != cat["summary.col.district"][lang]
            brief = _text(_html(run, "brief", area, lang))
            assert f" {unit[lang]}" in brief
    assert _summary(run, "mopti")["district_unit"]["fr"] == "cercles"


_COUNTED = re.compile(r"(?<![\d\u202f\u00a0,.\w−])([01]) ([a-zà-ÿ]+s)\b")
# French words ending in "s" that a count of 0 or 1 rightly precedes.
_INVARIANT = {"mois", "cas", "fois", "pays", "sans", "dans", "sous", "plus", "après", "depuis"}


def test_french_counts_agree_with_their_noun(run: Path) -> None:
    """G10: French plurals through Babel's rule: never "0 fermetures", "1 tests" or
    "0 non calculables" after a count of 0 or 1 in any French report."""
    pages = sorted((run / "reports").glob("*_fr.html"))
    assert len(pages) == 7
    for page in pages:
        text = _text(re.sub(r'<[^>]*id="provenance.*', "", page.read_text("utf-8"), flags=re.S))
        wrong = [m.group(0) for m in _COUNTED.finditer(text) if m.group(2) not in _INVARIANT]
        assert not wrong, (page.name, wrong[:5])


def test_french_semicolons_and_schemes(run: Path) -> None:
    """G13: a French semicolon has its narrow no-break space in the brief's lists; G16:
    every scheme a KPI column shows is explained where it first stands, "+" included,
    and a KPI that does not apply reads "sans objet" alone."""
    cat = load_catalogue()
    for area in AREAS:
        brief = _html(run, "brief", area, "fr")
        summary = _text(_element(brief, "section", "summary"))
        assert not re.search(r"[^\u202f\u00a0 ];", summary), area
        assert "\u202f;" in summary
        for lang in LANGS:
            brief = _html(run, "brief", area, lang)
            kpi = _summary(run, area)["kpi"]
            table = _text(_element(brief, "table", "brief-kpi-table"))
            shapes = "●▲■○–"
            assert not re.search(
                rf"— [{shapes}] " + re.escape(cat["brief.status.not_applicable"][lang]), table
            )
            schemes = {m["scheme"] for m in kpi["mutuals"]}
            note = _text(_element(brief, "p", "schemes-note")) if kpi["schemes"] else ""
            for sc in schemes:
                base = sc.rstrip("+")
                if base in ("AMV", "AMO", "RAMED"):
                    assert cat[f"summary.scheme.{base}"][lang] in note, (area, lang, sc)
                if sc.endswith("+"):
                    assert cat["summary.scheme.plus"][lang] in note, (area, lang, sc)
    assert any("+" in m["scheme"] for m in _summary(run, "bamako")["kpi"]["mutuals"])


def test_kpi_names_one_key_and_amv_explained(run: Path) -> None:
    """Point 10: the KPI rows carry the same names in brief and technical report; AMV
    is explained in the section where it first appears and in the glossary."""
    cat = load_catalogue()
    for area in AREAS:
        for lang in LANGS:
            brief, tech = _html(run, "brief", area, lang), _html(run, "technical", area, lang)
            names_b = re.findall(
                r'<th scope="row">(.*?)</th>', _element(brief, "table", "brief-kpi-table")
            )
            rows_t = _element(tech, "table", "tech-kpis")
            names_t = re.findall(r'<th scope="row">(.*?)</th>', rows_t)
            assert names_b and names_b == names_t, (area, lang)
            assert all(n in {cat[k][lang] for k in cat if k.startswith("kpi.")} for n in names_b)
            explained = "Assurance Maladie Volontaire"
            assert explained in _text(_element(tech, "section", "glossary"))
            for page in (brief, tech):
                sections = re.findall(r"<section\b.*?</section>", page, re.S)
                first = next((s for s in sections if re.search(r"\bAMV\b", _text(s))), None)
                if first is not None:
                    assert explained in _text(first), (area, lang)


# Technical terms (a pattern per language) and the glossary entry that explains them.
_GLOSSARY_TERMS = {
    "att_gt": {"fr": r"ATT\(g,t\)", "en": r"ATT\(g,t\)"},
    "cohort": {"fr": r"\bcohortes?\b", "en": r"\bcohorts?\b"},
    "imputation": {"fr": r"\bimputation\b", "en": r"\bimputation\b"},
    "hc1": {"fr": r"\bHC1\b", "en": r"\bHC1\b"},
    "crv1": {"fr": r"\bCRV1\b", "en": r"\bCRV1\b"},
    "taylor": {"fr": r"plan de sondage|\bUPE\b|Taylor", "en": r"survey design|\bPSU\b|Taylor"},
    "korn_graubard": {"fr": r"Korn", "en": r"Korn"},
    "fieller": {"fr": r"Fieller", "en": r"Fieller"},
    "conley_taber": {"fr": r"Conley", "en": r"Conley"},
    "bootstrap": {"fr": r"\bbootstrap\b", "en": r"\bbootstrap\b"},
    "spillover": {"fr": r"débordements?", "en": r"spillovers?"},
    "unbalanced": {"fr": r"non cylindré", "en": r"unbalanced"},
    "resilience_index": {"fr": r"indice de résilience", "en": r"resilience index"},
    "recovery_time": {"fr": r"délai de reprise", "en": r"time to recovery"},
    "breakdown": {"fr": r"M̄", "en": r"M̄"},
    "services": {"fr": r"\bCPN1\b|\bPenta3\b", "en": r"\bANC1\b|\bPenta3\b"},
}


def test_glossary_explains_every_term_used(run: Path) -> None:
    """G6: each technical term a technical report uses outside its glossary has a
    ``<dt>`` in ``#glossary``."""
    cat = load_catalogue()
    used = 0
    for area in AREAS:
        for lang in LANGS:
            page = _html(run, "technical", area, lang)
            glossary = _element(page, "section", "glossary")
            terms = {_text(t).strip() for t in re.findall(r"<dt>(.*?)</dt>", glossary, re.S)}
            body = _text(page.replace(glossary, " "))
            for key, pattern in _GLOSSARY_TERMS.items():
                if re.search(pattern[lang], body, re.I):
                    used += 1
                    assert cat[f"glossary.{key}.term"][lang] in terms, (area, lang, key)
    assert used >= 40, used


def test_support_annex_is_labelled_per_language(run: Path) -> None:
    """G9: the file the brief names as its attached annex holds the page's list: one
    row per CSCOM, headers and reasons in the report's language, no codes."""
    cat = load_catalogue()
    for area in AREAS:
        s = _summary(run, area)
        for lang in LANGS:
            annex = pd.read_csv(run / "results" / "summary" / f"{area}_support_{lang}.csv")
            assert len(annex) == len(s["support_cscoms"]), (area, lang)
            assert annex.columns[0] == cat["summary.col.facility"][lang]
            assert annex.columns[1] == s["district_word"][lang]
            text = annex.to_csv(index=False)
            for code in ("interrupted", "not_recovered", "low_continuity", "anc1", "local-"):
                assert not re.search(rf"(?<![\w-]){code}(?![\w])", text), (area, lang, code)
            assert (run / "results" / "summary" / f"{area}_support_{lang}.xlsx").exists()
            brief = _text(_element(_html(run, "brief", area, lang), "section", "support-list"))
            assert f"{area}_support_{lang}.xlsx" in brief and "results/" not in brief
