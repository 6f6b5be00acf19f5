"""Rendered reports are self-contained, accessible, reproducible and written atomically."""

import re
from pathlib import Path

import pandas as pd
import pytest

from sahel_eval.report import render
from sahel_eval.report.inventory import inventory_rows, render_inventory
from sahel_eval.report.provenance import Provenance, collect_provenance
from sahel_eval.text.i18n import TranslationError

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "rma.csv").write_text("ou,pe,value\nA,202001,3\n")
    (raw / "women.dta").write_bytes(b"\x00stata")
    return tmp_path


@pytest.fixture
def inputs(project: Path) -> list[dict]:
    rma = pd.DataFrame(
        {"ou": ["A", "B", "A", "C"], "pe": ["202001", "202003", "202112", "202112"], "v": range(4)}
    )
    women = pd.DataFrame({"round": [1.0, 2.0, 2.0], "year": [2018.0, 2021.0, 2021.0]})
    return [
        {
            "name": "SLIS RMA",
            "path": "data/raw/rma.csv",
            "kind": "dhis2_data_values",
            "frame": rma,
            "facility_col": "ou",
            "period_col": "pe",
        },
        {
            "name": "EDS femmes",
            "path": project / "data/raw/women.dta",
            "kind": "survey_women",
            "frame": women,
            "round_col": "round",
            "period_col": "year",
        },
    ]


def _render_both(project: Path, inputs: list[dict], out: Path) -> dict[str, Path]:
    rows = inventory_rows(inputs, root=project)
    p = collect_provenance({"seed": 1}, [i["path"] for i in inputs], root=project)
    return {
        lang: render_inventory(rows, p, lang, out / f"data_inventory_{lang}.html", synthetic=True)
        for lang in ("fr", "en")
    }


def test_inventory_rows(project, inputs):
    rma, women = inventory_rows(inputs, root=project)
    assert (rma.n_rows, rma.n_columns, rma.n_facilities) == (4, 3, 3)
    assert (str(rma.period_start), str(rma.period_end), rma.period_unit) == (
        "2020-01-01",
        "2021-12-01",
        "month",
    )
    assert women.rounds == ("1", "2") and women.period_unit == "year"
    assert women.path == "data/raw/women.dta" and len(women.sha256) == 64


def test_inventory_errors_name_input_and_column(project, inputs):
    bad = dict(inputs[0], facility_col="orgunit")
    with pytest.raises(KeyError, match="SLIS RMA.*orgunit"):
        inventory_rows([bad], root=project)
    bad = dict(inputs[0], frame=inputs[0]["frame"].assign(pe=["202001", "202013", "x", "y"]))
    with pytest.raises(ValueError, match="SLIS RMA.*'pe'"):
        inventory_rows([bad], root=project)
    with pytest.raises(ValueError, match="kind"):
        inventory_rows([dict(inputs[0], kind="dhis")], root=project)


def test_html_is_self_contained_and_accessible(project, inputs, tmp_path):
    paths = _render_both(project, inputs, tmp_path / "reports")
    for lang, path in paths.items():
        html = path.read_text("utf-8")
        assert f'<html lang="{lang}">' in html
        assert not EXTERNAL.search(html)
        assert '<link rel="icon" href="data:image/svg+xml,' in html
        assert "<style>" in html and "@page" in html
        assert 'class="synthetic-banner"' in html
        assert str(tmp_path) not in html  # no absolute paths
        assert '<th scope="col">' in html and '<th scope="row">' in html
        levels = [int(h) for h in re.findall(r"<h([1-6])\b", html)]
        assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    fr = paths["fr"].read_text("utf-8")
    assert "janvier 2020 – décembre 2021" in fr and "Inventaire des données" in fr
    assert 'href="data_inventory_en.html"' in fr
    assert "January 2020 – December 2021" in paths["en"].read_text("utf-8")


def test_no_banner_for_real_data(project, inputs, tmp_path):
    rows = inventory_rows(inputs, root=project)
    p = Provenance("abc", None, "0" * 64, (), (("python", "3.11"),))
    html = render_inventory(rows, p, "fr", tmp_path / "x_fr.html", synthetic=False).read_text()
    assert 'class="synthetic-banner"' not in html


def test_rendering_twice_is_byte_identical(project, inputs, tmp_path):
    first = _render_both(project, inputs, tmp_path / "a")
    second = _render_both(project, inputs, tmp_path / "b")
    for lang in first:
        assert first[lang].read_bytes() == second[lang].read_bytes()


def test_template_error_leaves_no_file(tmp_path):
    out = tmp_path / "reports" / "data_inventory_fr.html"
    with pytest.raises(Exception, match="provenance"):
        render.render_report("data_inventory.html.j2", {"rows": [], "synthetic": True}, "fr", out)
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_template_error_keeps_previous_report(project, inputs, tmp_path):
    out = tmp_path / "old_fr.html"
    out.write_text("previous")
    row = dict(inventory_rows(inputs, root=project)[0].to_dict(), kind="no_such_kind")
    p = Provenance("abc", None, "0" * 64, (), ())
    with pytest.raises(TranslationError, match="kind.no_such_kind"):
        render_inventory([row], p, "fr", out, synthetic=False)
    assert out.read_text() == "previous"
    assert not list(tmp_path.glob(".*.tmp"))


def test_figures_require_alt_and_inline(tmp_path):
    svg = tmp_path / "fig.svg"
    svg.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><metadata>'
        '<a href="http://creativecommons.org/"/></metadata><rect width="5" height="5"/></svg>'
    )
    html = str(render.embed_figure(svg, "Consultations par mois"))
    assert html.startswith(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" role="img"'
    )
    assert "<title>Consultations par mois</title>" in html
    assert "DOCTYPE" not in html and "metadata" not in html
    with pytest.raises(ValueError, match="alt text"):
        render.embed_figure(svg, "  ")
    png = tmp_path / "fig.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert render.embed_figure(png, "x") == '<img src="data:image/png;base64,iVBORw0KGgo=" alt="x">'
    svg.write_text('<svg><image href="https://example.org/x.png"/></svg>')
    with pytest.raises(ValueError, match="external"):
        render.embed_figure(svg, "x")


def test_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(render.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        render.write_atomic(tmp_path / "r_fr.html", "<html></html>")
    assert list(tmp_path.iterdir()) == []
