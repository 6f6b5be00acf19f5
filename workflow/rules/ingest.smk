# Ingest: raw files → typed parquet under results/interim/, direct identifiers dropped,
# ids salted-hashed. Bad input fails with one clear message. One job per family of
# inputs (job grain is a performance choice: each job pays its imports), split where
# the consumers differ so an edit to the mutual registers does not redo the DHIS2 data.
# The facility family is one job on purpose, a measured deviation from "one raw file
# edit reruns only its ingest" (docs/architecture.md, "Deliberate deviation").


rule ingest_facility_data:
    input:
        unpack(facility_raw_inputs),
    output:
        **{name: f"results/interim/{name}.parquet" for name in FACILITY_INPUTS},
    log:
        "logs/ingest/facility_data.log",
    priority: 10
    conda:
        ENV
    params:
        config=subset(
            "synthetic",
            "privacy",
            *(f"inputs.{name}" for name in FACILITY_INPUTS),
            "geography",
            "dhis2",
            "dq.first_period",
            "dq.last_period",
            "programmes[].name",
        ),
        code=code("ingest.py"),
    script:
        "../scripts/ingest.py"


rule ingest_events:
    input:
        events=config["inputs"]["events"],
    output:
        events="results/interim/events.parquet",
    log:
        "logs/ingest/events.log",
    conda:
        ENV
    params:
        config=subset(
            "synthetic",
            "privacy",
            "inputs.events",
            "geography",
            "shocks.local.event_types",
        ),
        code=code("ingest.py"),
    script:
        "../scripts/ingest.py"


rule ingest_mutuals:
    input:
        mutuals=config["inputs"]["mutuals"],
    output:
        mutuals="results/interim/mutuals.parquet",
    log:
        "logs/ingest/mutuals.log",
    conda:
        ENV
    params:
        config=subset(
            "synthetic",
            "privacy",
            "inputs.mutuals",
            "mutuals.sheet",
            "mutuals.header_row",
            "mutuals.columns",
        ),
        code=code("ingest.py"),
    script:
        "../scripts/ingest.py"


# Displacement sites are checked against the master list (each aire, host and origin,
# is one CSCOM's) and read by the panels only.
if config["inputs"]["displacement_sites"]:

    rule ingest_displacement:
        input:
            displacement_sites=config["inputs"]["displacement_sites"],
            facilities="results/interim/facilities.parquet",
        output:
            displacement_sites="results/interim/displacement_sites.parquet",
        log:
            "logs/ingest/displacement.log",
        priority: 10
        conda:
            ENV
        params:
            config=subset("inputs.displacement_sites", "geography"),
            code=code("ingest.py"),
        script:
            "../scripts/ingest.py"


rule ingest_surveys:
    input:
        survey_raw_inputs,
    output:
        tables=survey_interim(".parquet"),
        labels=survey_interim(".labels.json"),
    log:
        "logs/ingest/surveys.log",
    conda:
        ENV
    params:
        config=subset("synthetic", "privacy", "inputs.surveys", "survey.variables"),
        code=code("ingest_surveys.py"),
    script:
        "../scripts/ingest_surveys.py"
