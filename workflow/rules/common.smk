# Helpers shared by the rules: target lists, input functions and params (no lambdas in
# rules). Every rule passes the config it reads as params (config_subset, DESIGN §10)
# and the hash of the library code its script imports (code_hash), so editing one
# config value or one module reruns exactly the rules that use it and their downstream.
from pathlib import Path
from types import SimpleNamespace

from sahel_eval.config_subgroups import subgroups_for
from sahel_eval.dag import canonical, code_hash, config_subset
from sahel_eval.products import (
    DQ_EXTERNAL_TABLES,
    DQ_TABLES,
    REPORT_TABLES,
    SURVEY_UNITS,
    TABLE_FORMATS,
)

ENV = "../../environment.yml"
LANGS = config["reporting"]["languages"]
AREAS = list(config["areas"])
# This file sits in workflow/rules/, whatever Snakefile includes the workflow.
SCRIPTS = Path(workflow.current_basedir).parent / "scripts"


def code(script):
    """Hash of the library code and package data a script in workflow/scripts/ uses."""
    return code_hash(SCRIPTS / script)


def subset(*paths):
    """The named parts of the config (dotted paths, DESIGN §10), in the config's shape."""
    return config_subset(config, *paths)


# --- ingest -------------------------------------------------------------------------
# The district projections (WHO DQR domain 4) are optional: ingested when configured.
FACILITY_INPUTS = (
    "facilities",
    "population",
    *(("district_population",) if config["inputs"]["district_population"] else ()),
    "dhis2_datavalues",
    "dhis2_completeness",
    "programmes",
)


def facility_raw_inputs(wildcards):
    """Raw files of the facility data (master list, population, DHIS2, roll-out)."""
    return {name: config["inputs"][name] for name in FACILITY_INPUTS}


def survey_raw_inputs(wildcards):
    """Every survey recode file named in the config."""
    return [e["path"] for r in config["inputs"]["surveys"] for e in r["files"]]


def survey_interim(ext):
    """Interim file of every survey round and unit (.parquet or .labels.json)."""
    return [
        f"results/interim/survey_{entry['unit']}_{rnd['year']}{ext}"
        for rnd in config["inputs"]["surveys"]
        for entry in rnd["files"]
    ]


def interim_tables():
    """Every interim table the ingest stage writes."""
    single = [*FACILITY_INPUTS, "events", "mutuals"]
    single += ["displacement_sites"] if config["inputs"]["displacement_sites"] else []
    return [f"results/interim/{name}.parquet" for name in single] + survey_interim(
        ".parquet"
    )


#: Families of raw inputs, as the ingest rules read them (raw_inputs).
RAW_KINDS = ("facility", "events", "surveys", "mutuals", "displacement_sites")
#: Raw inputs the data-quality report depends on: the facility data (its tables), the
#: surveys (external consistency) and the displacement sites (denominators); not the
#: events nor the mutual registers, whose edits must not rerun it.
DATA_QUALITY_RAW = ("facility", "surveys", "displacement_sites")


def raw_inputs(kinds=RAW_KINDS):
    """Raw input files of the given families named in the config, every one by default:
    a report's provenance block hashes those its numbers depend on, and no other, so
    editing one raw file reruns only the reports it feeds."""
    inp = config["inputs"]
    files = [inp[k] for k in FACILITY_INPUTS] if "facility" in kinds else []
    files += [inp["events"]] if "events" in kinds else []
    if "surveys" in kinds:
        files += [e["path"] for r in inp["surveys"] for e in r["files"]]
    files += list(inp["mutuals"]) if "mutuals" in kinds else []
    if "displacement_sites" in kinds and inp["displacement_sites"]:
        files.append(inp["displacement_sites"])
    return files


def inventory_inputs(wildcards):
    """Interim tables (by name) and raw files the data inventory describes."""
    tables = {Path(p).name.removesuffix(".parquet"): p for p in interim_tables()}
    return {**tables, "raw": raw_inputs()}


# --- clean --------------------------------------------------------------------------
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


def dq_external_inputs(wildcards):
    """Clean facility data, populations and survey tables; the projections if configured."""
    out = {
        "facility_month": "results/clean/facility_month.parquet",
        "facilities": "results/interim/facilities.parquet",
        "population": "results/interim/population.parquet",
        "births": "results/clean/survey_births.parquet",
        "households": "results/clean/survey_households.parquet",
    }
    if config["inputs"]["district_population"]:
        out["district_population"] = "results/interim/district_population.parquet"
    return out


def panel_inputs(wildcards):
    """Interim tables of the panels, plus the displacement sites when configured."""
    out = {
        name: f"results/interim/{name}.parquet"
        for name in ("facilities", "population", "programmes")
    }
    out["facility_month"] = "results/clean/facility_month.parquet"
    if config["inputs"]["displacement_sites"]:
        out["sites"] = "results/interim/displacement_sites.parquet"
    return out


def area_config(wildcards):
    """What the panel of one area reads: its districts, its programmes, the indicators,
    the denominators, the quality-of-care ratios."""
    return subset(
        f"areas.{wildcards.area}",
        "programmes[].name",
        "programmes[].area",
        "dhis2.indicators",
        "inputs.displacement_sites",
        "denominators.displacement_adjusted",
        "quality_of_care",
        "did.facility_residence",
    )


# --- did ----------------------------------------------------------------------------
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
            return canonical(entry)
    raise ValueError(f"no analysis named {wildcards.analysis!r} in config analyses")


def estimate_inputs(wildcards):
    """Canonical table(s) of one analysis: the area's panel (and the truth file, when
    configured; the displacement sites, whose host CSCOMs leave the spillover rows), or
    every survey table."""
    spec = analysis_spec(wildcards)
    truth = config["did"]["truth_file"]
    if spec["data"] == "facility":
        panel = {"panel": f"results/clean/panel_{spec['area']}.parquet"}
        if (
            config["inputs"]["displacement_sites"]
            and config["did"]["spillover_displacement_hosts"]
        ):
            panel["sites"] = "results/interim/displacement_sites.parquet"
        # Simulated data: the planted effects the SDID rows are compared with.
        return panel | ({"truth": truth} if truth else {})
    return {unit: f"results/clean/survey_{unit}.parquet" for unit in SURVEY_UNITS}


def estimate_targets():
    """Every analysis's tidy table, JSON document and event-time table."""
    return expand(
        "results/estimates/{analysis}{ext}",
        analysis=analysis_names(),
        ext=(".csv", ".json", "_event_time.csv"),
    )


def area_analysis_names(area):
    """Names of the configured analyses of one area."""
    return [a["name"] for a in config["analyses"] if a["area"] == area]


# --- figures and reports ------------------------------------------------------------
def did_figure_files(analysis):
    """{lang}_{outcome} -> DiD figure of one analysis (languages outermost); analyses
    split by did.subgroups add {lang}_subgroups_{outcome}, the forest figure of
    each primary outcome."""
    spec = analysis_spec(SimpleNamespace(analysis=analysis))
    files = {
        f"{lang}_{outcome}": f"results/figures/{lang}/did_{analysis}_{outcome}.svg"
        for lang in LANGS
        for outcome in spec["outcomes"]
    }
    for lang in LANGS:
        for outcome in subgroup_outcomes(spec):
            files[f"{lang}_subgroups_{outcome}"] = (
                f"results/figures/{lang}/did_{analysis}_subgroups_{outcome}.svg"
            )
    return files


def subgroup_outcomes(spec):
    """Outcomes split by subgroup in one analysis: its primary ones, when a subgroup of
    did.subgroups splits it (sahel_eval.did.analyses.subgroups, facility_subgroups)."""
    if not subgroups_for(spec, config["did"]["subgroups"]):
        return []
    return list(config["reporting"]["primary_outcomes"][spec["name"]])


def did_figure_outputs(analysis):
    """Named outputs of one analysis's figure rule (in the Snakemake report)."""
    return {
        key: report(
            path,
            caption="../report/estimates.rst",
            category="Estimates",
            labels={"analysis": analysis, "figure": key},
        )
        for key, path in did_figure_files(analysis).items()
    }


def did_figure_inputs(analysis):
    """Tidy estimates and document of one analysis; facility analyses also need the
    panel's months."""
    spec = analysis_spec(SimpleNamespace(analysis=analysis))
    out = {
        "estimates": f"results/estimates/{analysis}.csv",
        "event_time": f"results/estimates/{analysis}_event_time.csv",
    }
    if spec["data"] == "facility":
        out["panel"] = f"results/clean/panel_{spec['area']}.parquet"
    # The units of the outcomes, and the subgroup section where configured.
    out["document"] = f"results/estimates/{analysis}.json"
    return out


def area_did_figures(area):
    """DiD figures of every analysis of one area, every outcome and language."""
    return [
        f for name in area_analysis_names(area) for f in did_figure_files(name).values()
    ]


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
        "facilities": "results/clean/facilities.parquet",
    }


def technical_report_inputs(wildcards):
    """Tables, estimates, figures and raw files (provenance) of one area's reports."""
    area = wildcards.area
    names = area_analysis_names(area)
    return {
        "tables": report_table_files(area),
        "documents": [f"results/estimates/{n}.json" for n in names],
        "event_time": [f"results/estimates/{n}_event_time.csv" for n in names],
        "did_figures": area_did_figures(area),
        "dq": expand("results/dq/{table}.csv", table=DQ_TABLES),
        "facilities_interim": "results/interim/facilities.parquet",
        "facilities": "results/clean/facilities.parquet",
        "indicators": f"results/resilience/{area}_indicators.csv",
        "summary": f"results/summary/{area}.json",
        "resilience_figures": expand(
            "results/figures/{lang}/resilience_{area}_{fig}.svg",
            lang=LANGS,
            area=area,
            fig=RESILIENCE_FIGURES,
        ),
        "mutual_kpis_figures": expand(
            "results/figures/{lang}/mutual_kpis.svg", lang=LANGS
        ),
        "dq_figures": expand(
            "results/figures/{lang}/dq_{area}_{fig}.svg",
            lang=LANGS,
            area=area,
            fig=DQ_FIGURES,
        ),
        "raw": raw_inputs(),
    }


RESILIENCE_FIGURES = ("facility", "district", "tau", "trends", "trends_brief")


def resilience_figure_outputs():
    """Named outputs {lang}_{figure} of one area's resilience figures, in the report."""
    return {
        f"{lang}_{fig}": report(
            f"results/figures/{lang}/resilience_{{area}}_{fig}.svg",
            caption="../report/resilience.rst",
            category="Resilience",
            labels={"area": "{area}", "language": lang, "figure": fig},
        )
        for lang in LANGS
        for fig in RESILIENCE_FIGURES
    }


DQ_FIGURES = ("heatmap", "reporting", "attrition")


def lang_outputs(pattern, label, key="{lang}"):
    """Named outputs, one per language (``key`` names them), marked for the report."""
    return {
        key.format(lang=lang): report(
            pattern.format(lang=lang),
            caption=f"../report/{REPORT_CAPTIONS[label]}",
            category="Reports",
            labels={"report": label, "language": lang}
            | ({"area": "{area}"} if "{area}" in pattern else {}),
        )
        for lang in LANGS
    }


REPORT_CAPTIONS = {
    "data inventory": "data_inventory.rst",
    "data quality": "data_quality.rst",
    "technical": "technical.rst",
    "brief": "brief.rst",
    "brief (PDF)": "brief_pdf.rst",
}


def dq_area_config(wildcards):
    """What the data-quality figures of one area read: the dq section, its districts."""
    return subset("dq", f"areas.{wildcards.area}.districts")


# Files the manifest must not wait for: itself and the run date written after it.
MANIFEST_SELF = ("reports/manifest.sha256", "reports/run_metadata.json")


def brief_targets():
    """Programme brief per area × language, as HTML and PDF."""
    return expand(
        "reports/brief_{area}_{lang}.{ext}", area=AREAS, lang=LANGS, ext=("html", "pdf")
    )


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
            fig=RESILIENCE_FIGURES,
        ),
        "results/sustainability/mutual_kpis.csv",
        "results/sustainability/persistence.csv",
        *expand("results/figures/{lang}/mutual_kpis.svg", lang=LANGS),
    ]


def manifest_inputs():
    """Every other product: the manifest rule waits for all of them, so it runs last."""
    return [t for t in all_targets() if t not in MANIFEST_SELF]
