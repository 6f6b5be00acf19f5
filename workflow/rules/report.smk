# Reports: jinja2 templates → self-contained HTML per audience × area × language.


rule data_inventory:
    input:
        unpack(inventory_inputs),
    output:
        report(
            "reports/data_inventory_{lang}.html",
            caption="../report/data_inventory.rst",
            category="Reports",
            labels={"report": "data inventory", "language": "{lang}"},
        ),
    log:
        "logs/report/data_inventory_{lang}.log",
    benchmark:
        "logs/benchmarks/report/data_inventory_{lang}.tsv"
    conda:
        ENV
    script:
        "../scripts/data_inventory.py"


# Data-quality report per area × language (issue 4): figures from results/dq/, then the
# page. reporting_status.csv (facility × month status) feeds the heat map.
rule figures_dq:
    input:
        dq=expand("results/dq/{table}.csv", table=DQ_TABLES),
        facilities="results/interim/facilities.parquet",
    output:
        heatmap="results/figures/{lang}/dq_{area}_heatmap.svg",
        reporting="results/figures/{lang}/dq_{area}_reporting.svg",
        attrition="results/figures/{lang}/dq_{area}_attrition.svg",
    log:
        "logs/report/figures_dq_{area}_{lang}.log",
    benchmark:
        "logs/benchmarks/report/figures_dq_{area}_{lang}.tsv"
    conda:
        ENV
    script:
        "../scripts/figures_dq.py"


rule data_quality_report:
    input:
        dq=expand("results/dq/{table}.csv", table=DQ_TABLES),
        facilities="results/interim/facilities.parquet",
        heatmap="results/figures/{lang}/dq_{area}_heatmap.svg",
        reporting="results/figures/{lang}/dq_{area}_reporting.svg",
        attrition="results/figures/{lang}/dq_{area}_attrition.svg",
        raw=raw_inputs(),
    output:
        report(
            "reports/data_quality_{area}_{lang}.html",
            caption="../report/data_quality.rst",
            category="Reports",
            subcategory="Data quality",
            labels={"report": "data quality", "area": "{area}", "language": "{lang}"},
        ),
    log:
        "logs/report/data_quality_{area}_{lang}.log",
    benchmark:
        "logs/benchmarks/report/data_quality_{area}_{lang}.tsv"
    conda:
        ENV
    script:
        "../scripts/data_quality.py"


# Technical report per area × language (issue 7): DiD figures drawn from
# results/estimates/, the area's tables as CSV / XLSX / LaTeX under
# results/tables/{area}/, then the page, which reads those tables back.
# The helpers (did_figure_inputs, report_tables_inputs, technical_report_inputs,
# REPORT_TABLES, TABLE_FORMATS) live in common.smk.


rule figures_did:
    input:
        unpack(did_figure_inputs),
    output:
        "results/figures/{lang}/did_{analysis}_{outcome}.svg",
    log:
        "logs/report/figures_did_{analysis}_{outcome}_{lang}.log",
    benchmark:
        "logs/benchmarks/report/figures_did_{analysis}_{outcome}_{lang}.tsv"
    wildcard_constraints:
        analysis=analysis_pattern(),
        outcome=did_outcome_pattern(),
    conda:
        ENV
    params:
        spec=analysis_spec,
    script:
        "../scripts/figures_did.py"


rule report_tables:
    input:
        unpack(report_tables_inputs),
    output:
        expand(
            "results/tables/{{area}}/{name}.{ext}",
            name=REPORT_TABLES,
            ext=TABLE_FORMATS,
        ),
    log:
        "logs/report/report_tables_{area}.log",
    benchmark:
        "logs/benchmarks/report/report_tables_{area}.tsv"
    conda:
        ENV
    script:
        "../scripts/report_tables.py"


rule technical_report:
    input:
        unpack(technical_report_inputs),
    output:
        report(
            "reports/technical_{area}_{lang}.html",
            caption="../report/technical.rst",
            category="Reports",
            subcategory="Technical reports",
            labels={"report": "technical", "area": "{area}", "language": "{lang}"},
        ),
    log:
        "logs/report/technical_{area}_{lang}.log",
    benchmark:
        "logs/benchmarks/report/technical_{area}_{lang}.tsv"
    conda:
        ENV
    script:
        "../scripts/technical_report.py"


# --- Programme brief, its PDF, the reviewers' manifest and the run date (issue 7) ---
# The brief reads every analysis's estimates and keeps its own area's; the PDF is
# printed by WeasyPrint (PyPI, installed by `make run` without root).
rule brief:
    input:
        estimates=expand("results/estimates/{analysis}.json", analysis=analysis_names()),
        aggregates="results/resilience/{area}_aggregates.csv",
        shocks="results/resilience/{area}_shocks.csv",
        comparison="results/resilience/{area}_comparison.json",
        kpis="results/sustainability/mutual_kpis.csv",
        persistence="results/sustainability/persistence.csv",
        raw=raw_inputs(),
    output:
        report(
            "reports/brief_{area}_{lang}.html",
            caption="../report/brief.rst",
            category="Reports",
            subcategory="Programme brief",
            labels={"report": "brief", "area": "{area}", "language": "{lang}"},
        ),
    log:
        "logs/report/brief_{area}_{lang}.log",
    benchmark:
        "logs/benchmarks/report/brief_{area}_{lang}.tsv"
    conda:
        ENV
    script:
        "../scripts/brief.py"


rule brief_pdf:
    input:
        "reports/brief_{area}_{lang}.html",
    output:
        report(
            "reports/brief_{area}_{lang}.pdf",
            caption="../report/brief_pdf.rst",
            category="Reports",
            subcategory="Programme brief",
            labels={"report": "brief (PDF)", "area": "{area}", "language": "{lang}"},
        ),
    log:
        "logs/report/brief_pdf_{area}_{lang}.log",
    benchmark:
        "logs/benchmarks/report/brief_pdf_{area}_{lang}.tsv"
    conda:
        ENV
    params:
        max_pages=2,
    script:
        "../scripts/brief_pdf.py"


# Runs last: its inputs are every other target (manifest_inputs() in common.smk).
rule manifest:
    input:
        manifest_inputs(),
    output:
        report(
            "reports/manifest.sha256",
            caption="../report/manifest.rst",
            category="Reproducibility",
            labels={"file": "checksum manifest"},
        ),
    log:
        "logs/report/manifest.log",
    benchmark:
        "logs/benchmarks/report/manifest.tsv"
    conda:
        ENV
    script:
        "../scripts/manifest.py"


# The only timestamped output; not in the manifest and not in the --report archive.
rule run_metadata:
    input:
        "reports/manifest.sha256",
    output:
        "reports/run_metadata.json",
    log:
        "logs/report/run_metadata.log",
    benchmark:
        "logs/benchmarks/report/run_metadata.tsv"
    conda:
        ENV
    script:
        "../scripts/run_metadata.py"
