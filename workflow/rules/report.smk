# Reports: jinja2 templates → self-contained HTML per audience × area × language. One
# job draws or renders every language of a product (each job pays its imports once).
# Report rules pass the whole config: the provenance block shows its hash. Its input
# checksums cover the raw files the report depends on (raw_inputs in common.smk): all
# of them for the inventory, technical report and brief, whose numbers draw on every
# input; the data-quality report's leave out the events and the mutual registers.


rule data_inventory:
    input:
        unpack(inventory_inputs),
    output:
        **lang_outputs("reports/data_inventory_{lang}.html", "data inventory"),
    log:
        "logs/report/data_inventory.log",
    conda:
        ENV
    params:
        config=subset(*config),
        code=code("data_inventory.py"),
    script:
        "../scripts/data_inventory.py"


# Data-quality report per area (issue 4): figures from results/dq/, then the pages.
# reporting_status.csv (facility × month status) feeds the heat map.
rule figures_dq:
    input:
        dq=expand("results/dq/{table}.csv", table=DQ_TABLES),
        facilities="results/interim/facilities.parquet",
    output:
        **{
            f"{lang}_{fig}": f"results/figures/{lang}/dq_{{area}}_{fig}.svg"
            for lang in LANGS
            for fig in DQ_FIGURES
        },
    log:
        "logs/report/figures_dq_{area}.log",
    conda:
        ENV
    params:
        config=dq_area_config,
        languages=LANGS,
        code=code("figures_dq.py"),
    script:
        "../scripts/figures_dq.py"


rule data_quality_report:
    input:
        dq=expand("results/dq/{table}.csv", table=DQ_TABLES + DQ_EXTERNAL_TABLES),
        denominators="results/dq/denominators_{area}.csv",
        facilities="results/interim/facilities.parquet",
        figures=expand(
            "results/figures/{lang}/dq_{{area}}_{fig}.svg", lang=LANGS, fig=DQ_FIGURES
        ),
        raw=raw_inputs(DATA_QUALITY_RAW),
    output:
        **lang_outputs("reports/data_quality_{{area}}_{lang}.html", "data quality"),
    log:
        "logs/report/data_quality_{area}.log",
    conda:
        ENV
    params:
        config=subset(*config),
        code=code("data_quality.py"),
    script:
        "../scripts/data_quality.py"


# DiD figures of one analysis, every outcome and language: one rule per configured
# analysis, since the outputs (its outcomes) differ between analyses.
for spec in config["analyses"]:

    rule:
        name:
            f"figures_did_{spec['name']}"
        input:
            **did_figure_inputs(spec["name"]),
        output:
            **did_figure_outputs(spec["name"]),
        log:
            f"logs/report/figures_did_{spec['name']}.log",
        conda:
            ENV
        params:
            spec=canonical(spec),
            languages=LANGS,
            code=code("figures_did.py"),
        script:
            "../scripts/figures_did.py"


# The technical report's tables of one area (CSV, XLSX, LaTeX) under results/tables/.
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
    conda:
        ENV
    params:
        config=subset(
            "reporting", "sustainability", "analyses", "areas", "mutuals.areas"
        ),
        code=code("report_tables.py"),
    script:
        "../scripts/report_tables.py"


rule technical_report:
    input:
        unpack(technical_report_inputs),
    output:
        **lang_outputs("reports/technical_{{area}}_{lang}.html", "technical"),
    log:
        "logs/report/technical_{area}.log",
    conda:
        ENV
    params:
        config=subset(*config),
        code=code("technical_report.py"),
    script:
        "../scripts/technical_report.py"


# One source of numbers per area (DESIGN §9): every number the brief and the technical
# report show, with its display text per language, and the support list.
rule summary:
    input:
        estimates=expand("results/estimates/{analysis}.json", analysis=analysis_names()),
        aggregates="results/resilience/{area}_aggregates.csv",
        shocks="results/resilience/{area}_shocks.csv",
        comparison="results/resilience/{area}_comparison.json",
        indicators="results/resilience/{area}_indicators.csv",
        kpis="results/sustainability/mutual_kpis.csv",
        persistence="results/sustainability/persistence.csv",
        completeness="results/dq/completeness_district_month.csv",
        status="results/dq/reporting_status.csv",
        facilities="results/clean/facilities.parquet",
        programmes="results/clean/programmes.parquet",
    output:
        summary="results/summary/{area}.json",
        support=expand("results/summary/{{area}}_support.{ext}", ext=TABLE_FORMATS),
        annex=expand(
            "results/summary/{{area}}_support_{lang}.{ext}",
            lang=LANGS,
            ext=TABLE_FORMATS,
        ),
    log:
        "logs/report/summary_{area}.log",
    conda:
        ENV
    params:
        config=subset(
            "areas",
            "analyses",
            "programmes[].name",
            "programmes[].area",
            "reporting.languages",
            "reporting.lead_estimator",
            "reporting.actions",
            "resilience.essential_services",
            "resilience.recovery_threshold",
            "resilience.window_months",
            "resilience.interruption_months",
            "sustainability.kpi_thresholds",
            "mutuals.areas",
            "survey.scheme_coverage",
            "survey.catastrophic_thresholds",
            "shocks.national",
            "dq.completeness_target",
            "dq.timeliness_target",
        ),
        code=code("summary.py"),
    script:
        "../scripts/summary.py"


# The programme brief renders its area's summary; the PDF is printed by WeasyPrint (PyPI,
# installed by `make run` without root).
rule brief:
    input:
        summary="results/summary/{area}.json",
        trends=expand(
            "results/figures/{lang}/resilience_{{area}}_trends_brief.svg", lang=LANGS
        ),
        raw=raw_inputs(),
    output:
        **lang_outputs("reports/brief_{{area}}_{lang}.html", "brief"),
        **lang_outputs(
            "reports/brief_{{area}}_{lang}.pdf", "brief (PDF)", key="{lang}_pdf"
        ),
    log:
        "logs/report/brief_{area}.log",
    conda:
        ENV
    params:
        config=subset(*config),
        max_pages=4,
        code=code("brief.py"),
    script:
        "../scripts/brief.py"


# Runs last: its inputs are every other target (manifest_inputs() in common.smk). The
# same job writes the run metadata, the only timestamped output (not in the manifest
# and not in the --report archive): one job, one set of imports.
rule manifest:
    input:
        manifest_inputs(),
    output:
        manifest=report(
            "reports/manifest.sha256",
            caption="../report/manifest.rst",
            category="Reproducibility",
            labels={"file": "checksum manifest"},
        ),
        metadata="reports/run_metadata.json",
    log:
        "logs/report/manifest.log",
    conda:
        ENV
    params:
        code=code("manifest.py"),
    script:
        "../scripts/manifest.py"
