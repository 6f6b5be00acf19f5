# Clean: canonical tables (DESIGN §4), facility data quality (§5), analysis panels and
# harmonised survey tables under results/clean/, DQ tables under results/dq/.


rule canonical_tables:
    input:
        facilities="results/interim/facilities.parquet",
        population="results/interim/population.parquet",
        programmes="results/interim/programmes.parquet",
        events="results/interim/events.parquet",
        mutuals="results/interim/mutuals.parquet",
    output:
        facilities="results/clean/facilities.parquet",
        population="results/clean/population.parquet",
        programmes="results/clean/programmes.parquet",
        events="results/clean/events.parquet",
        mutuals="results/clean/mutuals.parquet",
    log:
        "logs/clean/canonical_tables.log",
    benchmark:
        "logs/benchmarks/clean/canonical_tables.tsv"
    conda:
        ENV
    script:
        "../scripts/canonical_tables.py"


rule clean_facility_data:
    input:
        unpack(facility_cleaning_inputs),
    output:
        facility_month="results/clean/facility_month.parquet",
        dq=expand("results/dq/{table}.csv", table=DQ_TABLES),
    log:
        "logs/clean/facility_data.log",
    benchmark:
        "logs/benchmarks/clean/facility_data.tsv"
    conda:
        ENV
    params:
        # Re-run cleaning when its settings change (not only when inputs do).
        dq=config["dq"],
        indicators=config["dhis2"]["indicators"],
    script:
        "../scripts/clean_facility_data.py"


rule panel:
    input:
        facility_month="results/clean/facility_month.parquet",
        facilities="results/interim/facilities.parquet",
        population="results/interim/population.parquet",
        programmes="results/interim/programmes.parquet",
    output:
        "results/clean/panel_{area}.parquet",
    log:
        "logs/clean/panel_{area}.log",
    benchmark:
        "logs/benchmarks/clean/panel_{area}.tsv"
    conda:
        ENV
    script:
        "../scripts/panel.py"


rule clean_survey:
    input:
        unpack(survey_cleaning_inputs),
    output:
        "results/clean/survey_{unit}.parquet",
    log:
        "logs/clean/survey_{unit}.log",
    benchmark:
        "logs/benchmarks/clean/survey_{unit}.tsv"
    conda:
        ENV
    script:
        "../scripts/clean_survey.py"
