# Helpers shared by the rules: target lists and input functions (no lambdas in rules).
from pathlib import Path

ENV = "../../environment.yml"
LANGS = config["reporting"]["languages"]
SURVEY_UNITS = ("households", "women", "births", "children")


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
    return expand("reports/data_inventory_{lang}.html", lang=LANGS)


def inventory_inputs(wildcards):
    """Interim tables (by name) and raw files the data inventory describes."""
    tables = {Path(p).name.removesuffix(".parquet"): p for p in interim_tables()}
    return {**tables, "raw": raw_inputs()}
