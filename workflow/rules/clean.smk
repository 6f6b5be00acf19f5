# Clean: canonical tables (DESIGN §4), facility data quality (§5), analysis panels and
# harmonised survey tables under results/clean/, DQ tables under results/dq/.


rule canonical_tables:
    input:
        facilities="results/interim/facilities.parquet",
        population="results/interim/population.parquet",
        programmes="results/interim/programmes.parquet",
    output:
        facilities="results/clean/facilities.parquet",
        population="results/clean/population.parquet",
        programmes="results/clean/programmes.parquet",
    log:
        "logs/clean/canonical_tables.log",
    conda:
        ENV
    params:
        code=code("canonical_tables.py"),
    script:
        "../scripts/canonical_tables.py"


# Events and mutual registers need no cleaning beyond ingest: typed copies, each its
# own job so an edit to one does not rerun the readers of the other.
rule canonical_table:
    input:
        "results/interim/{table}.parquet",
    output:
        "results/clean/{table}.parquet",
    log:
        "logs/clean/canonical_{table}.log",
    wildcard_constraints:
        table="events|mutuals",
    conda:
        ENV
    params:
        code=code("canonical_tables.py"),
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
    priority: 10
    conda:
        ENV
    params:
        config=subset(
            "dq",
            "dhis2.indicators",
            "inputs.dhis2_datavalues",
            "inputs.dhis2_completeness",
        ),
        code=code("clean_facility_data.py"),
    script:
        "../scripts/clean_facility_data.py"


# WHO DQR domains 3-4: routine coverage against the survey's, catchment populations
# against the district projections, expected pregnancies against the survey's births.
rule dq_external:
    input:
        unpack(dq_external_inputs),
    output:
        expand("results/dq/{table}.csv", table=DQ_EXTERNAL_TABLES),
    log:
        "logs/clean/dq_external.log",
    conda:
        ENV
    params:
        config=subset(
            "dq_external",
            "reporting.test_level",
            "reporting.small_cell_k",
            "inputs.district_population",
        ),
        code=code("dq_external.py"),
    script:
        "../scripts/dq_external.py"


rule panel:
    input:
        unpack(panel_inputs),
    output:
        "results/clean/panel_{area}.parquet",
    log:
        "logs/clean/panel_{area}.log",
    priority: 10
    conda:
        ENV
    params:
        config=area_config,
        code=code("panel.py"),
    script:
        "../scripts/panel.py"


# The data-quality table of the area's catchments with displacement: population and
# rate unadjusted and adjusted, whichever the panel divides by.
rule denominators_dq:
    input:
        unpack(panel_inputs),
        panel="results/clean/panel_{area}.parquet",
    output:
        "results/dq/denominators_{area}.csv",
    log:
        "logs/clean/denominators_{area}.log",
    conda:
        ENV
    params:
        config=subset("inputs.displacement_sites", "denominators.dq_indicator"),
        code=code("denominators_dq.py"),
    script:
        "../scripts/denominators_dq.py"


rule clean_surveys:
    input:
        tables=survey_interim(".parquet"),
        labels=survey_interim(".labels.json"),
        programmes="results/interim/programmes.parquet",
        facilities="results/interim/facilities.parquet",
    output:
        expand("results/clean/survey_{unit}.parquet", unit=SURVEY_UNITS),
    log:
        "logs/clean/surveys.log",
    conda:
        ENV
    params:
        config=subset(
            "survey",
            "areas",
            "programmes[].name",
            "programmes[].area",
            "inputs.surveys",
        ),
        units=SURVEY_UNITS,
        code=code("clean_surveys.py"),
    script:
        "../scripts/clean_surveys.py"
