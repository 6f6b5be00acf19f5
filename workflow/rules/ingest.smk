# Ingest: one rule per kind of input. Raw files → typed parquet under results/interim/,
# direct identifiers dropped, ids salted-hashed. Bad input fails with one clear message.


rule ingest_facilities:
    input:
        config["inputs"]["facilities"],
    output:
        "results/interim/facilities.parquet",
    params:
        kind="facilities",
    log:
        "logs/ingest/facilities.log",
    benchmark:
        "logs/benchmarks/ingest/facilities.tsv"
    conda:
        ENV
    script:
        "../scripts/ingest.py"


rule ingest_population:
    input:
        config["inputs"]["population"],
        facilities="results/interim/facilities.parquet",
    output:
        "results/interim/population.parquet",
    params:
        kind="population",
    log:
        "logs/ingest/population.log",
    benchmark:
        "logs/benchmarks/ingest/population.tsv"
    conda:
        ENV
    script:
        "../scripts/ingest.py"


rule ingest_dhis2_datavalues:
    input:
        config["inputs"]["dhis2_datavalues"],
    output:
        "results/interim/dhis2_datavalues.parquet",
    params:
        kind="dhis2_datavalues",
    log:
        "logs/ingest/dhis2_datavalues.log",
    benchmark:
        "logs/benchmarks/ingest/dhis2_datavalues.tsv"
    conda:
        ENV
    script:
        "../scripts/ingest.py"


rule ingest_dhis2_completeness:
    input:
        config["inputs"]["dhis2_completeness"],
    output:
        "results/interim/dhis2_completeness.parquet",
    params:
        kind="dhis2_completeness",
    log:
        "logs/ingest/dhis2_completeness.log",
    benchmark:
        "logs/benchmarks/ingest/dhis2_completeness.tsv"
    conda:
        ENV
    script:
        "../scripts/ingest.py"


rule ingest_programmes:
    input:
        config["inputs"]["programmes"],
        facilities="results/interim/facilities.parquet",
    output:
        "results/interim/programmes.parquet",
    params:
        kind="programmes",
    log:
        "logs/ingest/programmes.log",
    benchmark:
        "logs/benchmarks/ingest/programmes.tsv"
    conda:
        ENV
    script:
        "../scripts/ingest.py"


rule ingest_events:
    input:
        config["inputs"]["events"],
    output:
        "results/interim/events.parquet",
    params:
        kind="events",
    log:
        "logs/ingest/events.log",
    benchmark:
        "logs/benchmarks/ingest/events.tsv"
    conda:
        ENV
    script:
        "../scripts/ingest.py"


rule ingest_mutuals:
    input:
        config["inputs"]["mutuals"],
    output:
        "results/interim/mutuals.parquet",
    params:
        kind="mutuals",
    log:
        "logs/ingest/mutuals.log",
    benchmark:
        "logs/benchmarks/ingest/mutuals.tsv"
    conda:
        ENV
    script:
        "../scripts/ingest.py"


rule ingest_survey:
    input:
        survey_file,
    output:
        table="results/interim/survey_{unit}_{year}.parquet",
        labels="results/interim/survey_{unit}_{year}.labels.json",
    params:
        kind="survey",
    log:
        "logs/ingest/survey_{unit}_{year}.log",
    benchmark:
        "logs/benchmarks/ingest/survey_{unit}_{year}.tsv"
    conda:
        ENV
    script:
        "../scripts/ingest.py"
