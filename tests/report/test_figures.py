"""Figures as a reader gets them: text kept as text, numbers in the page's language,
ids of their own, and technical reports small enough to open on a phone (issue 20)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest

from sahel_eval.figures.style import (
    LocaleFormatter,
    figure_prefix,
    layout,
    new_figure,
    svg_bytes,
    wrapped_title,
    year_axis,
)
from sahel_eval.figures.svg_compact import compact_svg, shorten_path
from sahel_eval.fonts import FONT_FAMILY

AREAS = ("mopti", "bamako")
LANGS = ("fr", "en")
_TEXT = re.compile(r"<text\b[^>]*>(.*?)</text>", re.S)
_IDS = re.compile(r'\bid="([^"]+)"')
_REFS = re.compile(r'(?:url\(#|href="#)([^)"]+)')


def _texts(svg: str) -> list[str]:
    return [html.unescape(t) for t in _TEXT.findall(svg)]


@pytest.mark.parametrize(
    ("lang", "values", "expected"),
    [
        ("fr", [0, 0.5, 1.0, 1.5], ["0,0", "0,5", "1,0", "1,5"]),
        ("en", [0, 0.5, 1.0, 1.5], ["0.0", "0.5", "1.0", "1.5"]),
        ("fr", [-2.5, 0, 2.5], ["\u22122,5", "0,0", "2,5"]),
        ("fr", [0, 5000, 10000], ["0", "5\u202f000", "10\u202f000"]),
        ("en", [0, 5000, 10000], ["0", "5,000", "10,000"]),
        ("fr", [0.0, 0.05, 0.1], ["0,00", "0,05", "0,10"]),
    ],
)
def test_tick_labels_in_the_page_language(lang: str, values: list[float], expected: list[str]):
    assert LocaleFormatter(lang).format_ticks(values) == expected


def test_french_figure_numbers_and_years():
    fig, ax = new_figure(8, 5)
    ax.plot([2016, 2017, 2018, 2019], [0.0, 1200.5, 2500.0, 900.0])
    year_axis(ax.xaxis)
    fig2, ax2 = new_figure(8, 5)
    ax2.plot([0, 1], [0.0, 0.35])
    for f in (fig, fig2):
        layout(f, "fr")
    texts = _texts(svg_bytes(fig, id_prefix="fa").decode()) + _texts(
        svg_bytes(fig2, id_prefix="fb").decode()
    )
    assert "2018" in texts and "2\u202f000" in texts and "0,3" in texts, texts
    assert not [t for t in texts if re.search(r"\d[.,]\d{3}\b|\d\.\d", t)], texts


def test_compact_svg_ids_own_and_resolved():
    fig, ax = new_figure(8, 5)
    ax.plot([0, 1, 2], [1, 2, 1], marker="o", label="Observé")
    ax.bar([0, 1], [1, 2], hatch="//")
    ax.set_title("Titre")
    # Drawn outside the project's rc settings: matplotlib lists its fallback fonts.
    ax.legend()
    layout(fig, "fr")
    a = svg_bytes(fig, id_prefix="fa").decode()
    b = svg_bytes(fig, id_prefix="fb").decode()
    assert a == svg_bytes(fig, id_prefix="fa").decode()  # deterministic
    ids_a, ids_b = _IDS.findall(a), _IDS.findall(b)
    assert ids_a and len(set(ids_a)) == len(ids_a)
    assert all(i.startswith("fai") for i in ids_a) and not set(ids_a) & set(ids_b)
    assert set(_REFS.findall(a)) == set(ids_a)  # every reference kept, every id used
    assert "<text" in a and "Titre" in _texts(a) and "Observé" in _texts(a)
    # Every class rule is plain CSS; the family is on the root only.
    css = re.search(r"<style>(.*?)</style>", a).group(1)
    for decl in re.findall(r"\{([^}]*)\}", css):
        for item in decl.split(";"):
            prop, value = item.split(":")
            assert prop.strip() != "font-family" and "," not in value, decl
    assert "style=" not in a.split(">", 2)[2].replace(f"style=\"font-family: '{FONT_FAMILY}'\"", "")
    with pytest.raises(ValueError, match="prefix"):
        compact_svg(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "1x", FONT_FAMILY)
    assert figure_prefix("dq_mopti_heatmap.svg") != figure_prefix("dq_bamako_heatmap.svg")


def _points(d: str) -> list[tuple[int, int]]:
    """Absolute points (in tenths) of path data with M/L/H/V/Z steps, either case."""
    tokens = re.findall(r"[MLHVZmlhvz]|-?(?:\d+\.?\d*|\.\d+)", d)
    out: list[tuple[int, int]] = []
    x = y = sx = sy = 0
    cmd = ""
    i = 0
    while i < len(tokens):
        if tokens[i].isalpha():
            cmd = tokens[i]
            i += 1
            if cmd in "Zz":
                x, y = sx, sy
                continue
        n = 1 if cmd in "HhVv" else 2
        v = [round(float(t) * 10) for t in tokens[i : i + n]]
        i += n
        rel = cmd.islower()
        if cmd in "Hh":
            x = x + v[0] if rel else v[0]
        elif cmd in "Vv":
            y = y + v[0] if rel else v[0]
        else:
            x, y = (x + v[0], y + v[1]) if rel else (v[0], v[1])
        if cmd in "Mm":
            sx, sy = x, y
            cmd = "l" if rel else "L"  # implicit line-to after a move
        out.append((x, y))
    return out


def test_compact_paths_keep_every_point():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(2, 30))
        xs, ys = rng.integers(-3000, 3000, n), rng.integers(-3000, 3000, n)
        ys[rng.random(n) < 0.3] = ys[0]  # horizontal and vertical steps
        xs[rng.random(n) < 0.3] = xs[0]
        steps = "".join(
            f"{'M' if i == 0 or rng.random() < 0.1 else 'L'}{x / 10:g} {y / 10:g}"
            for i, (x, y) in enumerate(zip(xs, ys, strict=True))
        )
        d = steps + ("z" if rng.random() < 0.3 else "")
        short = shorten_path(d)
        assert len(short) <= len(d)
        assert _points(short) == _points(d), (d, short)
    curve = "M0 1.3C0.3 1.3 0.7 1.2 0.9 0.9z"
    assert shorten_path(curve) == curve  # curves are left as they are


def test_wrapped_title_stays_inside_the_figure():
    """G4: a long title beside long tick labels breaks into lines the layout measures,
    so every line lies inside the figure (``wrap=True`` grew lines above it)."""
    fig, ax = new_figure(16, 5.5)
    ax.set_yticks([0, 1], ["2018: randomisation inference — not informative", "2021: HC1"])
    title = wrapped_title(
        ax,
        "Catastrophic health spending (> 10 %, people): difference-in-differences by round "
        "and inference",
    )
    layout(fig, "en")
    box = title.get_window_extent(fig._get_renderer())
    assert title.get_text().count("\n") >= 1
    assert "(> 10" in title.get_text()  # a sign stays with its number
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width and 0 <= box.y0 and box.y1 <= fig.bbox.height


# --- on the demo run ---------------------------------------------------------------


def test_demo_figures_text_as_text_in_the_page_language(demo_run: Path):
    for lang in LANGS:
        files = sorted((demo_run / "results" / "figures" / lang).glob("*.svg"))
        assert len(files) >= 20, lang
        for path in files:
            texts = _texts(path.read_text("utf-8"))
            assert texts, path.name
            numbers = [t for t in texts if re.fullmatch(r"[\u2212\-]?[\d\u202f,.]+", t)]
            # French: decimal comma, digit groups with a narrow no-break space.
            fr_wrong = [t for t in numbers if "." in t or re.search(r"\d{5}", t)]
            en_wrong = [t for t in numbers if "\u202f" in t or re.search(r",\d{1,2}$", t)]
            assert not (fr_wrong if lang == "fr" else en_wrong), (path.name, numbers)


def test_technical_reports_small(demo_run: Path):
    for area in AREAS:
        for lang in LANGS:
            page = demo_run / "reports" / f"technical_{area}_{lang}.html"
            assert page.stat().st_size <= 600_000, (page.name, page.stat().st_size)
            assert "<text" in page.read_text("utf-8"), page.name


@pytest.mark.parametrize(
    ("lang", "mopti", "bamako"),
    [
        (
            "fr",
            "Intervalle par randomisation entre zones (niveau atteint 96,4\u00a0%)",
            "groupé par établissement (conditionnel)",
        ),
        (
            "en",
            "Randomisation interval across areas (attained level 96.4%)",
            "clustered by facility (conditional)",
        ),
    ],
)
def test_event_study_legend_names_the_inference_drawn(
    demo_run: Path, lang: str, mopti: str, bamako: str
):
    # Mopti's headline event-time rows are randomisation intervals (28 assignments);
    # Bamako's (one treated commune) have none, so the facility-clustered rows are drawn.
    figures = demo_run / "results" / "figures" / lang
    texts = " ".join(_texts((figures / "did_mopti_staggered_consultations_all.svg").read_text()))
    assert mopti in texts and "bootstrap" not in texts
    texts = " ".join(_texts((figures / "did_bamako_event_study_consultations_all.svg").read_text()))
    assert bamako in texts
