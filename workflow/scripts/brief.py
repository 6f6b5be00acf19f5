"""Snakemake adapter: reports/brief_{area}_{lang}.html and its A4 PDF, every language.

The PDF is printed by WeasyPrint, not Chromium: it comes from PyPI, so `make run`
installs it in the virtual environment without root; Chromium would need a system
package. Outputs are named ``{lang}`` (HTML) and ``{lang}_pdf``.
"""

import json
import logging
from pathlib import Path

from sahel_eval.report.brief import render_brief
from sahel_eval.report.pdf import write_pdf
from sahel_eval.report.provenance import collect_provenance
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    config = smk.params.config
    summary = json.loads(Path(smk.input.summary).read_text("utf-8"))
    prov = collect_provenance(config, list(smk.input.raw), root=".")
    # WeasyPrint logs every layout step at INFO; the log keeps its warnings only.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    log = logging.getLogger("sahel_eval")
    rows = int(config["reporting"]["actions"]["brief_rows"])
    trends = {Path(p).parent.name: p for p in smk.input.trends}
    for lang in config["reporting"]["languages"]:
        html = render_brief(
            summary,
            prov,
            lang,
            smk.output[lang],
            synthetic=config["synthetic"],
            support_rows=rows,
            trends_figure=trends[lang],
        )
        path, pages = write_pdf(html, smk.output[f"{lang}_pdf"])
        log.info("%s: %d A4 page(s)", path.name, pages)
        if pages > smk.params.max_pages:
            log.warning(
                "%s has %d pages; a brief should fit in %d", path.name, pages, smk.params.max_pages
            )


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
