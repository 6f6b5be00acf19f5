"""Which numbers of ``results/estimates/*.json`` changed between two runs.

Prints, per file, how many values changed in each section, then a table of the
overall rows (``term: overall``, simple aggregation) whose estimate, interval,
p-value or verdict changed — the rows the README and the reports quote. Rows are
matched by what names them (analysis, fit, outcome, term …), not by position::

    python benchmarks/diff_estimates.py BEFORE/results/estimates results/estimates
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

#: Fields that name an estimates row (the rest are its numbers).
KEY = (
    "analysis",
    "fit",
    "outcome",
    "term",
    "aggregation",
    "group",
    "time",
    "event_time",
    "round",
    "robustness",
    "inference",
    "family",
)
SHOWN = ("estimate", "ci_low", "ci_high", "p", "verdict")


def _leaves(obj: Any, path: str = "") -> dict[str, Any]:
    if isinstance(obj, dict):
        return {k: v for key, val in obj.items() for k, v in _leaves(val, f"{path}/{key}").items()}
    if isinstance(obj, list):
        return {k: v for i, val in enumerate(obj) for k, v in _leaves(val, f"{path}[{i}]").items()}
    return {path: obj}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def section_changes(before: dict, after: dict) -> dict[str, int]:
    """Number of leaf values that differ (or exist on one side only), per section."""
    out = {}
    for section in sorted(set(before) | set(after)):
        a, b = _leaves(before.get(section)), _leaves(after.get(section))
        n = sum(not _same(a.get(k), b.get(k)) for k in set(a) | set(b))
        if n:
            out[section] = n
    return out


def overall_changes(before: dict, after: dict) -> list[tuple[tuple, dict, dict]]:
    """Overall rows whose shown numbers changed: (key, before row, after row)."""

    def index(doc: dict) -> dict[tuple, dict]:
        rows = [
            r
            for r in doc.get("estimates", [])
            if r.get("term") == "overall" and r.get("aggregation") in (None, "simple")
        ]
        return {tuple(r.get(k) for k in KEY): r for r in rows}

    a, b = index(before), index(after)
    return [
        (key, a.get(key, {}), b.get(key, {}))
        for key in sorted(set(a) | set(b), key=repr)
        if any(not _same(a.get(key, {}).get(f), b.get(key, {}).get(f)) for f in SHOWN)
    ]


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    for path in sorted(args.after.glob("*.json")):
        old = args.before / path.name
        before = json.loads(old.read_text("utf-8")) if old.is_file() else {}
        after = json.loads(path.read_text("utf-8"))
        changed = section_changes(before, after)
        print(f"## {path.name}: " + (", ".join(f"{s} {n}" for s, n in changed.items()) or "same"))
        rows = overall_changes(before, after)
        if rows:
            print("| fit | robustness | " + " | ".join(SHOWN) + " |")
            print("|---|---|" + "---|" * len(SHOWN))
        for key, a, b in rows:
            k = dict(zip(KEY, key, strict=True))
            cells = [f"{_fmt(a.get(f))} → {_fmt(b.get(f))}" for f in SHOWN]
            print(f"| {k['fit']} | {k['robustness']} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
