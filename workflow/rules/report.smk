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
