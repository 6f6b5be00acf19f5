"""Inputs as researchers bring them, made from the demo data (data/raw/) at test time.

:func:`build_mini_demo` writes a small slice of the demo data (two facilities per
district, 2014-2017, one survey round) with its config; the shape builders rewrite one
of its files the way real exports and spreadsheets come (DHIS2 analytics or pivot
tables, French Excel CSVs, XLSX with a title block, upper-case DHS names …), and
``tests/ingest/test_corpus.py`` makes the must-refuse variants. Run as a script to
write the slice and every shape to a directory for a look::

    python tests/demo_variants.py /tmp/variants
"""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "data" / "raw"
# The two I3S mutuals of Mopti (farmers; artisans and traders).
MOPTI_REGISTERS = ("mutuelle_agriculteurs.csv", "mutuelle_artisans_commercants.xlsx")
LAST_PERIOD = "201712"
PER_DISTRICT = 2
STAMP = dt.datetime(2024, 1, 1)
SURVEY_ROWS = 300
FRENCH_MONTHS = (
    "Janvier Février Mars Avril Mai Juin Juillet Août Septembre Octobre Novembre Décembre"
).split()


def write_gz(path: Path, text: str) -> Path:
    """Deterministic gzip (mtime 0, no file name)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    path.write_bytes(buf.getvalue())
    return path


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(RAW / name, dtype=str, keep_default_na=False)


def build_mini_demo(root: Path) -> dict[str, Any]:
    """Write the slice of the demo data under ``root``; return its config (validated)."""
    root.mkdir(parents=True, exist_ok=True)
    facilities = _read("facilities.csv")
    mapping = _read("orgunit_mapping.csv")
    mapped = set(mapping["orgunit_uid"])
    # Two facilities per district, and the one the org-unit mapping names.
    keep = facilities.groupby("district", sort=False).head(PER_DISTRICT)
    keep = pd.concat([keep, facilities[facilities["orgunit_uid"].isin(mapped)]])
    facilities = facilities[facilities["orgunit_uid"].isin(set(keep["orgunit_uid"]))]
    uids = set(facilities["orgunit_uid"])
    names = uids | set(mapping["name_in_export"])
    files: dict[str, Path] = {}

    def put(name: str, frame: pd.DataFrame) -> None:
        files[name] = root / f"{name}.csv"
        frame.to_csv(files[name], index=False, lineterminator="\n")

    put("facilities", facilities)
    put("orgunit_mapping", mapping)
    population = _read("population.csv")
    put("population", population[population["orgunit_uid"].isin(uids)])
    put("district_population", _read("district_population.csv"))
    dv = pd.read_csv(RAW / "dhis2_datavalues.csv.gz", dtype=str, keep_default_na=False)
    dv = dv[dv["orgunit"].isin(names) & (dv["period"] <= LAST_PERIOD)]
    files["dhis2_datavalues"] = write_gz(
        root / "dhis2_datavalues.csv.gz", dv.to_csv(index=False, lineterminator="\n")
    )
    reg = _read("dhis2_completeness.csv")
    put("dhis2_completeness", reg[reg["orgunit"].isin(names) & (reg["period"] <= LAST_PERIOD)])
    prog = _read("programmes.csv")
    prog = prog[(prog["unit_level"] != "facility") | prog["unit_id"].isin(uids)]
    put("programmes", prog)
    put("events", _read("events.csv"))
    # The demo's sites, moved to aires the slice keeps (its first CSCOM per district).
    sites = _read("displacement_sites.csv")
    first = facilities.drop_duplicates("district").set_index("district")["aire_de_sante"]
    for district, aire in (
        ("district", "aire_de_sante"),
        ("origin_district", "origin_aire_de_sante"),
    ):
        sites[aire] = sites[district].map(first)
    put("displacement_sites", sites)
    survey = root / "survey"
    survey.mkdir(exist_ok=True)
    for unit in ("HR", "IR"):
        frame = pd.read_stata(RAW / "survey" / f"ML{unit}2015.dta", convert_categoricals=False)
        frame.head(SURVEY_ROWS).to_stata(
            survey / f"ML{unit}2015.dta", write_index=False, version=118, time_stamp=STAMP
        )
    mutuals = root / "mutuals"
    mutuals.mkdir(exist_ok=True)
    for name in MOPTI_REGISTERS:
        (mutuals / name).write_bytes((RAW / "mutuals" / name).read_bytes())
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    config["inputs"] = {
        **{k: str(v) for k, v in files.items()},
        "surveys": [
            {
                "round": 1,
                "year": 2015,
                "files": [
                    {"unit": "households", "path": str(survey / "MLHR2015.dta")},
                    {"unit": "women", "path": str(survey / "MLIR2015.dta")},
                ],
            }
        ],
        "mutuals": [str(mutuals / name) for name in MOPTI_REGISTERS],
    }
    return config


def write_config(config: dict[str, Any], path: Path) -> Path:
    """Write a config as YAML (what ``make check`` reads)."""
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def resolved_datavalues(path: str | Path) -> pd.DataFrame:
    """The demo export with re-exported duplicates resolved (latest wins), as text.

    Analytics and pivot tables aggregate the values DHIS2 stores, where a cell holds
    one value: this is what they are made from.
    """
    dv = pd.read_csv(path, dtype=str, keep_default_na=False)
    cell = ["dataelement", "period", "orgunit", "categoryoptioncombo", "attributeoptioncombo"]
    dv = dv.sort_values([*cell, "lastupdated"], kind="mergesort")
    return dv.drop_duplicates(cell, keep="last").reset_index(drop=True)


def month_words(period: str) -> str:
    """``201801`` -> ``Janvier 2018``."""
    return f"{FRENCH_MONTHS[int(period[4:]) - 1]} {period[:4]}"


def analytics_uids(config: dict[str, Any], out: Path) -> dict[str, Any]:
    """Analytics download with UIDs: ``dx`` = dataElement.categoryOptionCombo."""
    dv = resolved_datavalues(config["inputs"]["dhis2_datavalues"])
    frame = pd.DataFrame(
        {
            "dx": dv["dataelement"] + "." + dv["categoryoptioncombo"],
            "pe": dv["period"],
            "ou": dv["orgunit"],
            "value": dv["value"],
        }
    )
    frame.to_csv(out, index=False, lineterminator="\n")
    new = copy.deepcopy(config)
    new["inputs"]["dhis2_datavalues"] = str(out)
    new["dhis2"]["format"] = "analytics"
    return new


def analytics_names(config: dict[str, Any], out: Path) -> dict[str, Any]:
    """Analytics download with names (``Data, Period, Organisation unit, Value``).

    Data items are named in the config (``name`` of each source), periods in French
    words, org units by facility name (the cleaning stage matches names).
    """
    dv = resolved_datavalues(config["inputs"]["dhis2_datavalues"])
    new = copy.deepcopy(config)
    labels = {}
    for indicator, sources in new["dhis2"]["indicators"].items():
        for source in sources:
            key = (source["data_element"], source["category_option_combo"])
            labels.setdefault(key, f"{indicator} {source['category_option_combo'][:4]}")
            source["name"] = labels[key]
    facilities = pd.read_csv(config["inputs"]["facilities"], dtype=str)
    name_of = dict(zip(facilities["orgunit_uid"], facilities["orgunit_name"], strict=True))
    dx = pd.Series(list(zip(dv["dataelement"], dv["categoryoptioncombo"], strict=True)))
    frame = pd.DataFrame(
        {
            "Data": dx.map(labels),
            "Period": dv["period"].map(month_words),
            "Organisation unit": dv["orgunit"].map(lambda o: name_of.get(o, o)),
            "Value": dv["value"],
        }
    )
    frame.to_csv(out, index=False, lineterminator="\n")
    new["inputs"]["dhis2_datavalues"] = str(out)
    return new


def pivot_table(config: dict[str, Any], out: Path) -> dict[str, Any]:
    """Pivot table: data item and org unit as rows, months (``2018-01``) as columns."""
    dv = resolved_datavalues(config["inputs"]["dhis2_datavalues"])
    dv["Data"] = dv["dataelement"] + "." + dv["categoryoptioncombo"]
    dv["month"] = dv["period"].str[:4] + "-" + dv["period"].str[4:]
    wide = dv.pivot(index=["Data", "orgunit"], columns="month", values="value").reset_index()
    wide = wide.rename(columns={"orgunit": "Organisation unit"})
    wide.columns.name = None
    wide.to_csv(out, index=False, lineterminator="\n")
    new = copy.deepcopy(config)
    new["inputs"]["dhis2_datavalues"] = str(out)
    return new


def french_excel_csv(config: dict[str, Any], key: str, out: Path, *, bom: bool) -> dict[str, Any]:
    """A CSV as French Excel saves it: ``;``, CRLF, decimal commas, cp1252 or BOM."""
    frame = pd.read_csv(config["inputs"][key], dtype=str, keep_default_na=False)
    for col in ("latitude", "longitude"):
        if col in frame:
            frame[col] = frame[col].str.replace(".", ",", regex=False)
    text = frame.to_csv(index=False, sep=";", lineterminator="\r\n")
    out.write_bytes(text.encode("utf-8-sig" if bom else "cp1252"))
    new = copy.deepcopy(config)
    new["inputs"][key] = str(out)
    return new


def french_dates(config: dict[str, Any], key: str, columns: list[str], out: Path):
    """Dates written out in French (``15 janvier 2019``; every other one ``15/01/2019``)."""
    frame = pd.read_csv(config["inputs"][key], dtype=str, keep_default_na=False)
    for col in columns:
        dates = pd.to_datetime(frame[col].where(frame[col] != ""), format="%Y-%m-%d")
        words = dates.map(
            lambda d: "" if pd.isna(d) else f"{d.day} {FRENCH_MONTHS[d.month - 1].lower()} {d.year}"
        )
        slashes = dates.dt.strftime("%d/%m/%Y").fillna("")
        frame[col] = words.where(frame.index % 2 == 0, slashes)
    frame.to_csv(out, index=False, lineterminator="\n")
    new = copy.deepcopy(config)
    new["inputs"][key] = str(out)
    return new


def thousands(config: dict[str, Any], out: Path) -> dict[str, Any]:
    """Population with ``12 000`` (no-break space every other row)."""
    frame = pd.read_csv(config["inputs"]["population"], dtype=str, keep_default_na=False)
    sep = pd.Series(["\u00a0", " "] * len(frame))[: len(frame)].to_numpy()
    number = frame["population"].astype(int)
    frame["population"] = [f"{n:,}".replace(",", s) for n, s in zip(number, sep, strict=True)]
    frame.to_csv(out, index=False, lineterminator="\n")
    new = copy.deepcopy(config)
    new["inputs"]["population"] = str(out)
    return new


def register_with_title(config: dict[str, Any], out: Path, *, header_row: int | None):
    """The CSV mutual register as XLSX with a title block and ``1 000`` amounts."""
    src = config["inputs"]["mutuals"][0]
    frame = pd.read_csv(src, dtype=str)
    amounts = frame.columns[2:]
    frame[amounts] = frame[amounts].map(lambda v: f"{int(v):,}".replace(",", " "))
    title = pd.DataFrame(
        [["Mutuelle interprofessionnelle de Bandiagara"], ["Rapport annuel"], [None]]
    )
    with pd.ExcelWriter(out, engine="xlsxwriter") as writer:
        title.to_excel(writer, index=False, header=False)
        frame.to_excel(writer, index=False, startrow=len(title))
    new = copy.deepcopy(config)
    new["inputs"]["mutuals"] = [str(out), *config["inputs"]["mutuals"][1:]]
    new["mutuals"] = {**new["mutuals"], "header_row": header_row}
    return new


def upper_case_dhs(config: dict[str, Any], out: Path) -> dict[str, Any]:
    """The women's recode with every variable name in upper case (``V481``)."""
    entry = config["inputs"]["surveys"][0]["files"][1]
    frame = pd.read_stata(entry["path"], convert_categoricals=False)
    frame.columns = [c.upper() for c in frame.columns]
    frame.to_stata(out, write_index=False, version=118, time_stamp=STAMP)
    new = copy.deepcopy(config)
    new["inputs"]["surveys"][0]["files"][1]["path"] = str(out)
    return new


# --- edits that break one input (the must-refuse corpus, tests/ingest/test_corpus.py) ---
Edit = Callable[[dict[str, Any]], None]


def input_path(config: dict, key: str) -> Path:
    if key.startswith("survey_"):
        unit = key.removeprefix("survey_")
        files = config["inputs"]["surveys"][0]["files"]
        return Path(next(f["path"] for f in files if f["unit"] == unit))
    if key.startswith("mutual"):
        return Path(config["inputs"]["mutuals"][0 if key == "mutual_csv" else 1])
    return Path(config["inputs"][key])


def table(key: str, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Edit:
    """Edit a CSV input as a table of text (written back in its own compression)."""

    def edit(config: dict) -> None:
        path = input_path(config, key)
        frame = fn(pd.read_csv(path, dtype=str, keep_default_na=False))
        text = frame.to_csv(index=False, lineterminator="\n")
        if path.suffix == ".gz":
            write_gz(path, text)
        else:
            path.write_text(text, "utf-8")

    return edit


def cell(key: str, column: str, value: str, row: int = 0) -> Edit:
    def fn(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame.index[row], column] = value
        return frame

    return table(key, fn)


def rows(key: str, keep: Callable[[pd.DataFrame], pd.Series]) -> Edit:
    return table(key, lambda f: f[keep(f)])


def raw_bytes(key: str, fn: Callable[[bytes], bytes]) -> Edit:
    def edit(config: dict) -> None:
        path = input_path(config, key)
        path.write_bytes(fn(path.read_bytes()))

    return edit


def header_only(key: str) -> Edit:
    def edit(config: dict) -> None:
        path = input_path(config, key)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            header = fh.readline()
        if path.suffix == ".gz":
            write_gz(path, header)
        else:
            path.write_text(header, "utf-8")

    return edit


def delete(key: str) -> Edit:
    return lambda config: input_path(config, key).unlink()


def survey(unit: str, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Edit:
    def edit(config: dict) -> None:
        path = input_path(config, f"survey_{unit}")
        frame = fn(pd.read_stata(path, convert_categoricals=False))
        frame.to_stata(path, write_index=False, version=118, time_stamp=STAMP)

    return edit


def register(fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Edit:
    return table("mutual_csv", fn)


def set_key(path: list, value: Any) -> Callable[[dict], None]:
    def fn(config: dict) -> None:
        node = config
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return fn


def main(target: str) -> None:
    root = Path(target)
    config = build_mini_demo(root / "mini")
    write_config(config, root / "config.yaml")
    shapes = root / "shapes"
    shapes.mkdir(exist_ok=True)
    write_config(analytics_uids(config, shapes / "analytics_uids.csv"), shapes / "a.yaml")
    write_config(analytics_names(config, shapes / "analytics_names.csv"), shapes / "b.yaml")
    write_config(pivot_table(config, shapes / "pivot.csv"), shapes / "c.yaml")
    print(f"wrote {root}")


if __name__ == "__main__":
    main(sys.argv[1])
