"""Ingest the DHIS2 exports: data values (monthly, or quarterly kept quarterly) and
dataset registrations."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa

from sahel_eval import schemas
from sahel_eval.errors import Problem, rows_problem
from sahel_eval.ingest.common import (
    interim_table,
    membership_problem,
    raise_problems,
)
from sahel_eval.ingest.crosscheck import check_period_window
from sahel_eval.ingest.period_types import check_one_period_type, period_type
from sahel_eval.io import dhis2
from sahel_eval.io.columns import Coercer
from sahel_eval.privacy import drop_identifiers


def _interim(
    frame: pd.DataFrame,
    config: Mapping[str, Any],
    schema: pa.DataFrameSchema,
    src: str | Path,
    out: str | Path | None,
    **check: Any,
) -> pd.DataFrame:
    """The export without identifiers, in the schema's columns, checked and written."""
    frame = drop_identifiers(frame, config["dhis2"]["identifiers"])
    frame = frame[[c for c in schema.columns if c in frame.columns]]
    return interim_table(schemas.check_frame(frame, schema, src, **check), out)


def _dhis2_mapping(config: Mapping[str, Any]) -> dict[str, set[str]]:
    mapping: dict[str, set[str]] = {}
    for sources in config["dhis2"]["indicators"].values():
        for source in sources:
            mapping.setdefault(source["data_element"], set()).add(source["category_option_combo"])
    return mapping


def source_names(config: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Name of each configured source (``name`` key) -> (data element, combo)."""
    return {
        source["name"]: (source["data_element"], source["category_option_combo"])
        for sources in config["dhis2"]["indicators"].values()
        for source in sources
        if "name" in source
    }


def ingest_dhis2_datavalues(
    config: Mapping[str, Any],
    *,
    src: str | Path | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """DHIS2 data values: mapped codes only, numeric values, user names dropped.

    Checks that every (data element, category option combo) is in ``dhis2.indicators``
    (unmapped data elements are an error or dropped per ``dhis2.unmapped_data_elements``)
    and that every mapped data element occurs in the export (a wrong UID in the config
    would otherwise silently give an empty indicator), that each count is a whole
    number, and that ``dq.first_period``/``dq.last_period`` lie within the export's
    months. ``value`` becomes float64;
    keyed zeros, duplicates and name-variant org units are kept for the cleaning stage.

    Returns
    -------
    pandas.DataFrame
        ``dataelement, period, period_type, orgunit, categoryoptioncombo,
        attributeoptioncombo, value, lastupdated, followup``; ``period`` is ``YYYYMM``
        or ``YYYYQn`` (``period_type`` month or quarter; one type per indicator).
    """
    src = src or config["inputs"]["dhis2_datavalues"]
    frame = dhis2.read_datavalues(src, shape=config["dhis2"]["format"], names=source_names(config))
    mapping = _dhis2_mapping(config)
    problems: list[Problem | None] = []
    if config["dhis2"]["unmapped_data_elements"] == "drop":
        frame = frame[frame["dataelement"].isin(list(mapping))]
    else:
        problems.append(
            membership_problem(
                frame,
                "dataelement",
                mapping,
                "known_data_element",
                "data element not mapped under dhis2.indicators",
            )
        )
    known_pairs = {(de, coc) for de, cocs in mapping.items() for coc in cocs}
    mapped = frame["dataelement"].isin(list(mapping))
    pairs = pd.Series(
        list(zip(frame["dataelement"], frame["categoryoptioncombo"], strict=True)),
        index=frame.index,
    )
    bad_coc = mapped & ~pairs.isin(known_pairs)
    if bad_coc.any():
        problems.append(
            rows_problem(
                "categoryoptioncombo",
                "known_category_option_combo",
                "category option combo not mapped for this data element",
                frame,
                bad_coc,
            )
        )
    absent = sorted(set(mapping) - set(frame["dataelement"]))
    if absent:
        problems.append(
            Problem(
                "dataelement",
                "mapped_data_element_present",
                "mapped data element(s) never occur in the export: " + ", ".join(absent),
            )
        )
    # A data element present under other combos still leaves this source empty.
    absent_pairs = sorted(
        f"{de}.{coc}" for de, coc in known_pairs - set(pairs[mapped]) if de not in absent
    )
    if absent_pairs:
        problems.append(
            Problem(
                "categoryoptioncombo",
                "mapped_combo_present",
                "mapped data element.category option combo(s) never occur in the export: "
                + ", ".join(absent_pairs),
            )
        )
    raise_problems(
        src,
        problems,
        hint="add the code to dhis2.indicators in config/config.yaml, "
        "correct the UID there, or set dhis2.unmapped_data_elements: drop.",
    )
    typer = Coercer(frame, src)
    typer.count("value")
    typer.raise_if_any(
        "a mapped data element holds a count, a whole number: correct the value in DHIS2 "
        "and export again."
    )
    frame = typer.frame
    frame["period_type"] = period_type(frame["period"])
    check_one_period_type(config, frame, src)
    check_period_window(config, frame.loc[frame["period_type"] == "month", "period"], src)
    return _interim(
        frame,
        config,
        schemas.datavalues_schema(),
        src,
        out,
        hint="counts cannot be negative: correct the value in DHIS2.",
    )


def ingest_dhis2_completeness(
    config: Mapping[str, Any],
    *,
    src: str | Path | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """Complete data-set registrations (``dhis2.dataset`` kept if set), user names dropped.

    Returns
    -------
    pandas.DataFrame
        ``dataset, period, orgunit, attributeoptioncombo, date, completed``.
    """
    src = src or config["inputs"]["dhis2_completeness"]
    frame = dhis2.read_completeness(src)
    dataset = config["dhis2"]["dataset"]
    if dataset:
        present = sorted(set(frame["dataset"].dropna()))
        if dataset not in present:
            close = difflib.get_close_matches(dataset, present, n=1, cutoff=0.6)
            raise_problems(
                src,
                [
                    Problem(
                        "dataset",
                        "dataset_present",
                        f"dhis2.dataset {dataset} occurs in no registration (found: "
                        + ", ".join(present[:5])
                        + ")"
                        + (f"; did you mean {close[0]}?" if close else ""),
                    )
                ],
                hint="correct dhis2.dataset in config/config.yaml to the UID of the "
                "monthly report's data set, or set it to null to keep every data set.",
            )
        frame = frame[frame["dataset"] == dataset]
    return _interim(frame, config, schemas.completeness_schema(), src, out)
