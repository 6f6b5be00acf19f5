"""No direct identifier from data/raw reaches any output, report or log of the demo run.

Every identifier value of the raw files (names, phone numbers, GPS points, exact birth
dates, DHIS2 user names — the columns truth.json lists) is looked for in every file the
pipeline wrote: parquet and XLSX are read and printed as text, the rest is scanned as
text. Extraction by pattern (phone, date, decimal, word) keeps the scan exact and fast.
A GPS point leaks when its latitude and longitude are both in one file: a lone six-
decimal number is also what Snakemake's report prints as a job's run time in seconds
(CI once saw "12.651438" there), so one coordinate alone is not evidence.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from tests_support import snakemake

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"
SCANNED = ("results", "reports", "logs", ".snakemake/log")

PHONE = re.compile(r"\+223 \d{2} \d{2} \d{2} \d{2}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DECIMAL = re.compile(r"-?\d+\.\d+")
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _tokens(text: str) -> set[str]:
    return (
        set(PHONE.findall(text))
        | set(DATE.findall(text))
        | {m.rstrip("0") for m in DECIMAL.findall(text)}
        | set(WORD.findall(text.lower()))
    )


def _identifier_values() -> dict[str, set[str]]:
    """Identifier tokens per kind, from the raw files."""
    truth = json.loads((RAW / "truth.json").read_text("utf-8"))
    cols = truth["privacy"]["identifier_columns"]
    out: dict[str, set] = {
        "name": set(),
        "phone": set(),
        "gps": set(),
        "date": set(),
        "user": set(),
    }
    for path in sorted((RAW / "survey").iterdir()):
        reader = pyreadstat.read_dta if path.suffix == ".dta" else pyreadstat.read_sav
        frame, _ = reader(str(path))
        for col in cols[path.stem[2:4]]:
            values = frame[col].dropna()
            if col in ("shnom", "snom"):
                out["name"] |= set(values.astype(str))
            elif col in ("shtel", "stel"):
                out["phone"] |= set(values.astype(str))
            elif col == "gps_lat":
                points = frame[["gps_lat", "gps_lon"]].dropna()
                out["gps"] |= {
                    (f"{lat:.6f}".rstrip("0"), f"{lon:.6f}".rstrip("0"))
                    for lat, lon in points.itertuples(index=False)
                }
            elif col == "gps_lon":
                continue
            else:
                out["date"] |= set(values.astype(str))
    for name in ("dhis2_datavalues.csv.gz", "dhis2_completeness.csv"):
        users = pd.read_csv(RAW / name, usecols=["storedby"], dtype=str)["storedby"]
        out["user"] |= set(users.str.lower())
    # A date that is also in a non-identifying raw column (a facility's opening, an
    # event, a DHIS2 time stamp) cannot be told apart from it: not evidence of a leak.
    public = " ".join(
        (RAW / f).read_text("utf-8")
        for f in ("facilities.csv", "events.csv", "programmes.csv", "dhis2_completeness.csv")
    )
    stamps = pd.read_csv(RAW / "dhis2_datavalues.csv.gz", usecols=["lastupdated"])
    public += " " + stamps["lastupdated"].str.cat(sep=" ")
    out["date"] -= set(DATE.findall(public))
    return out


def _file_text(path: Path) -> str:
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_csv(index=False)
    if path.suffix == ".xlsx":
        return "\n".join(
            f.to_csv(index=False) for f in pd.read_excel(path, sheet_name=None).values()
        )
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            return "\n".join(
                zf.read(name).decode("utf-8", errors="replace") for name in zf.namelist()
            )
    if path.suffix == ".pdf":
        # A PDF's text sits in compressed, glyph-encoded streams; each one is printed
        # from the HTML page of the same name, which is scanned instead.
        assert path.with_suffix(".html").exists(), f"{path} has no HTML source to scan"
        return ""
    if path.suffix in (".png", ".gz"):
        pytest.fail(f"binary output {path} is not scanned: teach the scan to read it")
    return path.read_text("utf-8", errors="replace")


def _found(text: str, ids: dict[str, set], names: set[str]) -> set[str]:
    """The identifier values in one output's text."""
    tokens = _tokens(text)
    low = text.lower()
    found = (tokens & (ids["phone"] | ids["date"] | ids["user"])) | {n for n in names if n in low}
    return found | {f"{la},{lo}" for la, lo in ids["gps"] if la in tokens and lo in tokens}


def test_scan_finds_a_point_not_a_run_time() -> None:
    ids = _identifier_values()
    lat, lon = sorted(ids["gps"])[0]
    assert _found(f"runtime {lat} s", ids, set()) == set()
    assert _found(f'{{"lat": {lat}0, "lon": {lon}}}', ids, set()) == {f"{lat},{lon}"}


def test_identifiers_exist_in_raw_data() -> None:
    ids = _identifier_values()
    assert all(len(v) > 100 for v in ids.values()), {k: len(v) for k, v in ids.items()}


def test_no_identifier_in_any_output(demo_run: Path) -> None:
    # Snakemake's --report archive is a final output too (DESIGN §10).
    proc = snakemake(demo_run, "--report", "reports/snakemake_report.zip")
    assert proc.returncode == 0, proc.stderr[-3000:]
    ids = _identifier_values()
    names = {n.lower() for n in ids["name"]}
    files = [p for top in SCANNED for p in sorted((demo_run / top).rglob("*")) if p.is_file()]
    assert len(files) > 20
    leaks = []
    for path in files:
        found = _found(_file_text(path), ids, names)
        if found:
            leaks.append((str(path.relative_to(demo_run)), sorted(found)[:3]))
    assert not leaks, leaks
