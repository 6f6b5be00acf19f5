# Ingest: one rule per kind of input. Raw files → typed parquet under results/interim/,
# direct identifiers dropped, ids salted-hashed. Bad input fails with one clear message.


rule ingest_facilities:
    input:
        config["inputs"]["facilities"],
    output:
        "results/interim/facilities.parquet",
    log:
        "logs/ingest/facilities.log",
    benchmark:
        "logs/benchmarks/ingest/facilities.tsv"
    conda:
        ENV
    params:
        kind="facilities",
    script:
        "../scripts/ingest.py"


rule ingest_population:
    input:
        config["inputs"]["population"],
        facilities="results/interim/facilities.parquet",
    output:
        "results/interim/population.parquet",
    log:
        "logs/ingest/population.log",
    benchmark:
        "logs/benchmarks/ingest/population.tsv"
    conda:
        ENV
    params:
        kind="population",
    script:
        "../scripts/ingest.py"


rule ingest_dhis2_datavalues:
    input:
        config["inputs"]["dhis2_datavalues"],
    output:
        "results/interim/dhis2_datavalues.parquet",
    log:
        "logs/ingest/dhis2_datavalues.log",
    benchmark:
        "logs/benchmarks/ingest/dhis2_datavalues.tsv"
    conda:
        ENV
    params:
        kind="dhis2_datavalues",
    script:
        "../scripts/ingest.py"


rule ingest_dhis2_completeness:
    input:
        config["inputs"]["dhis2_completeness"],
    output:
        "results/interim/dhis2_completeness.parquet",
    log:
        "logs/ingest/dhis2_completeness.log",
    benchmark:
        "logs/benchmarks/ingest/dhis2_completeness.tsv"
    conda:
        ENV
    params:
        kind="dhis2_completeness",
    script:
        "../scripts/ingest.py"


rule ingest_programmes:
    input:
        config["inputs"]["programmes"],
        facilities="results/interim/facilities.parquet",
    output:
        "results/interim/programmes.parquet",
    log:
        "logs/ingest/programmes.log",
    benchmark:
        "logs/benchmarks/ingest/programmes.tsv"
    conda:
        ENV
    params:
        kind="programmes",
    script:
        "../scripts/ingest.py"


rule ingest_events:
    input:
        config["inputs"]["events"],
    output:
        "results/interim/events.parquet",
    log:
        "logs/ingest/events.log",
    benchmark:
        "logs/benchmarks/ingest/events.tsv"
    conda:
        ENV
    params:
        kind="events",
    script:
        "../scripts/ingest.py"


rule ingest_mutuals:
    input:
        config["inputs"]["mutuals"],
    output:
        "results/interim/mutuals.parquet",
    log:
        "logs/ingest/mutuals.log",
    benchmark:
        "logs/benchmarks/ingest/mutuals.tsv"
    conda:
        ENV
    params:
        kind="mutuals",
    script:
        "../scripts/ingest.py"


rule ingest_survey:
    input:
        survey_file,
    output:
        table="results/interim/survey_{unit}_{year}.parquet",
        labels="results/interim/survey_{unit}_{year}.labels.json",
    log:
        "logs/ingest/survey_{unit}_{year}.log",
    benchmark:
        "logs/benchmarks/ingest/survey_{unit}_{year}.tsv"
    conda:
        ENV
    params:
        kind="survey",
    script:
        "../scripts/ingest.py"
