"""A config pointed at a synthetic raw folder (``python -m sahel_eval.synth --out``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["RAW_PREFIX", "config_for_raw"]

#: Where the shipped config expects the raw inputs.
RAW_PREFIX = Path("data/raw")


def config_for_raw(config: Mapping[str, Any], raw: str | Path) -> dict[str, Any]:
    """A copy of ``config`` reading its inputs from ``raw`` and its truth's DHIS2 UIDs.

    Parameters
    ----------
    config
        A validated config whose inputs lie under ``data/raw`` (config/config.yaml).
    raw
        A folder written by :func:`sahel_eval.synth.generate` (the demo data, or the
        national-scale data set of the benchmarks).

    Returns
    -------
    dict
        Every input path (tables, survey files, mutual registers, org-unit mapping)
        re-rooted at ``raw`` (``did.truth_file`` too, when set); when ``raw/truth.json``
        exists, ``dhis2.indicators`` and ``dhis2.dataset`` taken from it, since the
        shipped config may still hold placeholder UIDs while each generated export has
        its own.
    """
    raw = Path(raw)
    out = copy.deepcopy(dict(config))

    def swap(path: str) -> str:
        return str(raw / Path(path).relative_to(RAW_PREFIX))

    inputs = out["inputs"]
    for key, value in inputs.items():
        if isinstance(value, str):
            inputs[key] = swap(value)
    inputs["mutuals"] = [swap(p) for p in inputs.get("mutuals", [])]
    for rnd in inputs.get("surveys", []):
        for entry in rnd["files"]:
            entry["path"] = swap(entry["path"])
    if out["did"]["truth_file"]:
        out["did"]["truth_file"] = swap(out["did"]["truth_file"])
    truth_path = raw / "truth.json"
    if truth_path.is_file():
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        mapping: dict[str, list[dict[str, str]]] = {}
        for row in truth["dhis2"]["rows"]:
            for ind in row["indicators"]:
                mapping.setdefault(ind, []).append(
                    {
                        "data_element": row["dataelement"],
                        "category_option_combo": row["categoryoptioncombo"],
                    }
                )
        out["dhis2"]["indicators"] = mapping
        out["dhis2"]["dataset"] = truth["dhis2"]["dataset"]
    return out
