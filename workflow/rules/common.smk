# Helpers shared by the rules: target lists and input functions (no lambdas in rules).
from pathlib import Path

from sahel_eval.clean.dq import DQ_TABLES

ENV = "../../environment.yml"
LANGS = config["reporting"]["languages"]
SURVEY_UNITS = ("households", "women", "births", "children")
AREAS = list(config["areas"])


def survey_years():
    """Round years listed in the config."""
    return [r["year"] for r in config["inputs"]["surveys"]]


def survey_file(wildcards):
    """Raw recode file of one round (by year) and unit."""
    for rnd in config["inputs"]["surveys"]:
        if str(rnd["year"]) == wildcards.year:
            for entry in rnd["files"]:
                if entry["unit"] == wildcards.unit:
                    return entry["path"]
    raise ValueError(f"no {wildcards.unit} file for round {wildcards.year} in config")


def survey_interim():
    """Interim parquet of every survey file in the config."""
    return [
        f"results/interim/survey_{entry['unit']}_{rnd['year']}.parquet"
        for rnd in config["inputs"]["surveys"]
        for entry in rnd["files"]
    ]


def interim_tables():
    """Every interim table the ingest stage writes."""
    single = [
        "facilities",
        "population",
        "dhis2_datavalues",
        "dhis2_completeness",
        "programmes",
        "events",
        "mutuals",
    ]
    return [f"results/interim/{name}.parquet" for name in single] + survey_interim()


def raw_inputs():
    """Every raw input file named in the config (hashed into the provenance block)."""
    inp = config["inputs"]
    files = [
        inp[k]
        for k in (
            "facilities",
            "population",
            "dhis2_datavalues",
            "dhis2_completeness",
            "programmes",
            "events",
        )
    ]
    files += [e["path"] for r in inp["surveys"] for e in r["files"]]
    files += list(inp["mutuals"])
    return files


def all_targets():
    """The default target: every product of the pipeline."""
    return [
        *expand("reports/data_inventory_{lang}.html", lang=LANGS),
        *expand("reports/data_quality_{area}_{lang}.html", area=AREAS, lang=LANGS),
        *expand("results/clean/panel_{area}.parquet", area=AREAS),
        *expand("results/clean/survey_{unit}.parquet", unit=SURVEY_UNITS),
        "results/clean/facilities.parquet",
        *estimate_targets(),
        *expand(
            "results/resilience/{area}_{kind}",
            area=AREAS,
            kind=["indicators.csv", "aggregates.csv", "comparison.json"],
        ),
        *expand(
            "results/figures/{lang}/resilience_{area}_{fig}.svg",
            lang=LANGS,
            area=AREAS,
            fig=["facility", "district", "tau"],
        ),
        "results/sustainability/mutual_kpis.csv",
        "results/sustainability/persistence.csv",
        *expand("results/figures/{lang}/mutual_kpis.svg", lang=LANGS),
    ]


def facility_cleaning_inputs(wildcards):
    """Interim DHIS2 tables and master list, plus the org-unit mapping file if configured."""
    out = {
        "datavalues": "results/interim/dhis2_datavalues.parquet",
        "completeness": "results/interim/dhis2_completeness.parquet",
        "facilities": "results/interim/facilities.parquet",
        "programmes": "results/interim/programmes.parquet",
    }
    if config["inputs"].get("orgunit_mapping"):
        out["mapping"] = config["inputs"]["orgunit_mapping"]
    return out


def survey_cleaning_inputs(wildcards):
    """Every round's interim table and label sidecar of one unit, with the roll-out."""
    years = survey_years()
    return {
        "tables": [
            f"results/interim/survey_{wildcards.unit}_{y}.parquet" for y in years
        ],
        "labels": [
            f"results/interim/survey_{wildcards.unit}_{y}.labels.json" for y in years
        ],
        "programmes": "results/interim/programmes.parquet",
        "facilities": "results/interim/facilities.parquet",
    }


def inventory_inputs(wildcards):
    """Interim tables (by name) and raw files the data inventory describes."""
    tables = {Path(p).name.removesuffix(".parquet"): p for p in interim_tables()}
    return {**tables, "raw": raw_inputs()}


# --- DiD (workflow/rules/did.smk) ------------------------------------------------


def analysis_names():
    """Names of the configured analyses (config["analyses"])."""
    return [a["name"] for a in config["analyses"]]


def facility_analysis_names():
    """Names of the configured analyses on facility panels (persistence reads these)."""
    return [a["name"] for a in config["analyses"] if a["data"] == "facility"]


def analysis_pattern():
    """Wildcard constraint: exactly one configured analysis name."""
    return "|".join(analysis_names())


def analysis_spec(wildcards):
    """The config entry of one analysis (a param, so editing it re-runs the rule)."""
    for entry in config["analyses"]:
        if entry["name"] == wildcards.analysis:
            return entry
    raise ValueError(f"no analysis named {wildcards.analysis!r} in config analyses")


def estimate_inputs(wildcards):
    """Canonical table(s) of one analysis: the area's panel, or every survey table."""
    spec = analysis_spec(wildcards)
    if spec["data"] == "facility":
        return {"panel": f"results/clean/panel_{spec['area']}.parquet"}
    return {unit: f"results/clean/survey_{unit}.parquet" for unit in SURVEY_UNITS}


def estimate_targets():
    """Every analysis's tidy table, JSON document and event-time table."""
    return expand(
        "results/estimates/{analysis}{ext}",
        analysis=analysis_names(),
        ext=(".csv", ".json", "_event_time.csv"),
    )
