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
        *expand("reports/technical_{area}_{lang}.html", area=AREAS, lang=LANGS),
        *brief_targets(),
        *MANIFEST_SELF,
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


# --- technical report (workflow/rules/report.smk, issue 7) -------------------------
from sahel_eval.report.tables import FORMATS as TABLE_FORMATS
from sahel_eval.report.technical import TABLES as REPORT_TABLES


def area_analysis_names(area):
    """Names of the configured analyses of one area."""
    return [a["name"] for a in config["analyses"] if a["area"] == area]


def did_outcome_pattern():
    """Wildcard constraint: exactly one outcome of a configured analysis (longest first)."""
    outcomes = {o for a in config["analyses"] for o in a["outcomes"]}
    return "|".join(sorted(outcomes, key=lambda o: (-len(o), o)))


def did_figure_targets(area, lang):
    """DiD figure of every analysis × outcome of one area in one language."""
    return [
        f"results/figures/{lang}/did_{a['name']}_{o}.svg"
        for a in config["analyses"]
        if a["area"] == area
        for o in a["outcomes"]
    ]


def did_figure_inputs(wildcards):
    """Tidy estimates of one analysis; facility analyses also need the panel's months."""
    spec = analysis_spec(wildcards)
    out = {
        "estimates": f"results/estimates/{wildcards.analysis}.csv",
        "event_time": f"results/estimates/{wildcards.analysis}_event_time.csv",
    }
    if spec["data"] == "facility":
        out["panel"] = f"results/clean/panel_{spec['area']}.parquet"
    return out


def report_table_files(area):
    """Every table file (CSV, XLSX, LaTeX) of one area's technical report."""
    return expand(
        "results/tables/{area}/{name}.{ext}",
        area=area,
        name=REPORT_TABLES,
        ext=TABLE_FORMATS,
    )


def report_tables_inputs(wildcards):
    """Results the area's report tables are built from."""
    area = wildcards.area
    names = area_analysis_names(area)
    return {
        "estimates": [f"results/estimates/{n}.csv" for n in names],
        "documents": [f"results/estimates/{n}.json" for n in names],
        "panel": f"results/clean/panel_{area}.parquet",
        "surveys": [f"results/clean/survey_{u}.parquet" for u in SURVEY_UNITS],
        "aggregates": f"results/resilience/{area}_aggregates.csv",
        "shocks": f"results/resilience/{area}_shocks.csv",
        "comparison": f"results/resilience/{area}_comparison.json",
        "persistence": "results/sustainability/persistence.csv",
        "mutual_kpis": "results/sustainability/mutual_kpis.csv",
    }


def technical_report_inputs(wildcards):
    """Tables, estimates, figures and raw files (provenance) of one technical report."""
    area, lang = wildcards.area, wildcards.lang
    names = area_analysis_names(area)
    return {
        "tables": report_table_files(area),
        "documents": [f"results/estimates/{n}.json" for n in names],
        "event_time": [f"results/estimates/{n}_event_time.csv" for n in names],
        "did_figures": did_figure_targets(area, lang),
        "dq": expand("results/dq/{table}.csv", table=DQ_TABLES),
        "facilities_interim": "results/interim/facilities.parquet",
        "facilities": "results/clean/facilities.parquet",
        "indicators": f"results/resilience/{area}_indicators.csv",
        "resilience_facility": f"results/figures/{lang}/resilience_{area}_facility.svg",
        "resilience_district": f"results/figures/{lang}/resilience_{area}_district.svg",
        "resilience_tau": f"results/figures/{lang}/resilience_{area}_tau.svg",
        "mutual_kpis": f"results/figures/{lang}/mutual_kpis.svg",
        "dq_attrition": f"results/figures/{lang}/dq_{area}_attrition.svg",
        "raw": raw_inputs(),
    }


# --- Programme brief, manifest, run date (issue 7) --------------------------------
# Files the manifest must not wait for: itself and the run date written after it.
MANIFEST_SELF = ("reports/manifest.sha256", "reports/run_metadata.json")


def brief_targets():
    """Programme brief per area × language, as HTML and PDF."""
    return expand(
        "reports/brief_{area}_{lang}.{ext}", area=AREAS, lang=LANGS, ext=("html", "pdf")
    )


def manifest_inputs():
    """Every other product: the manifest rule waits for all of them, so it runs last."""
    return [t for t in all_targets() if t not in MANIFEST_SELF]
