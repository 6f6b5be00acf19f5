"""Snakemake adapter: print reports/brief_{area}_{lang}.html to A4 PDF with WeasyPrint.

WeasyPrint, not Chromium: it comes from PyPI, so `make run` installs it in the virtual
environment without root; Chromium would need a system package.
"""

import logging

from sahel_eval.report.brief import write_brief_pdf
from sahel_eval.rule_runner import run_rule


def main(smk) -> None:
    # WeasyPrint logs every layout step at INFO; the log keeps its warnings only.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    path, pages = write_brief_pdf(smk.input[0], smk.output[0])
    logging.getLogger("sahel_eval").info("%s: %d A4 page(s)", path.name, pages)
    if pages > smk.params.max_pages:
        logging.getLogger("sahel_eval").warning(
            "%s has %d pages; a brief should fit in %d", path.name, pages, smk.params.max_pages
        )


run_rule(snakemake.log[0], lambda: main(snakemake))  # noqa: F821
