"""What the Snakefile computes when it builds the DAG: config subsets and code hashes.

Snakemake reruns a job when its ``params`` change. Two kinds of params make that
trigger mean what a researcher expects:

* :func:`config_subset` — the parts of the config a rule reads, so editing one value
  reruns the rules that read it and their downstream rules, and nothing else. Library
  code reads keys by indexing, so a key a rule forgot to declare fails loudly
  (``KeyError``) rather than falling back to a hidden default.
* :func:`code_hash` — a digest of the library modules a rule's script imports
  (transitively, with the package data next to them: templates, catalogue, CSS), so
  an edit inside ``src/sahel_eval/`` reruns the rules whose code changed; Snakemake's
  own code trigger sees only the script file.

Imports stay light (no pandas): this module runs on every ``snakemake`` call and its
start-up counts in the no-op time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["code_hash", "config_subset", "imported_modules"]

PACKAGE = "sahel_eval"
_ROOT = Path(__file__).resolve().parent
#: Package-data files read at run time, hashed with the modules of their folder.
_DATA_SUFFIXES = frozenset({".j2", ".yaml", ".json", ".css"})


def _get(node: Any, parts: list[str], path: str) -> Any:
    """Project ``node`` on a dotted path; ``[]`` maps over a list (``programmes[].name``)."""
    if not parts:
        return node
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        key = head[:-2]
        items = node[key] if key else node
        if not isinstance(items, list):
            raise KeyError(f"config path {path!r}: {key!r} is not a list")
        return [_get(item, rest, path) for item in items]
    if not isinstance(node, Mapping) or head not in node:
        raise KeyError(f"config path {path!r}: no key {head!r}")
    return _get(node[head], rest, path)


def _put(out: dict[str, Any], parts: list[str], value: Any) -> None:
    head = parts[0]
    if head.endswith("[]"):
        key = head[:-2]
        # value is the list of projections of each item on the rest of the path.
        items = out.setdefault(key, [{} for _ in value])
        for item, sub in zip(items, value, strict=True):
            _put_list_item(item, parts[1:], sub)
        return
    if len(parts) == 1:
        out[head] = value
        return
    _put(out.setdefault(head, {}), parts[1:], value)


def _put_list_item(item: dict[str, Any], parts: list[str], value: Any) -> None:
    if not parts:
        raise KeyError("a config path cannot end with []")
    _put(item, parts, value)


def config_subset(config: Mapping[str, Any], *paths: str) -> dict[str, Any]:
    """The parts of ``config`` named by dotted ``paths``, in the config's own shape.

    ``"dq"`` keeps a whole section, ``"dhis2.indicators"`` one key of it,
    ``"areas.mopti"`` one area, ``"programmes[].name"`` the name of every programme
    (a list of one-key dicts). Library functions that take the config take this
    subset unchanged.

    Raises
    ------
    KeyError
        A path that names nothing in ``config`` (a typo in the Snakefile).
    """
    out: dict[str, Any] = {}
    for path in paths:
        parts = path.split(".")
        _put(out, parts, _get(config, parts, path))
    return out


@cache
def _module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    if not parts:
        return _ROOT / "__init__.py"
    rel = Path(*parts)
    for candidate in (_ROOT / rel / "__init__.py", _ROOT / rel.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


# Import statements at any indentation; a parenthesised name list may span lines.
_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]*)", re.M)
# A module named in a string, for import_module (lazy exports, PEP 562).
_NAMED = re.compile(r"[\"'](sahel_eval(?:\.\w+)+)[\"']")


@cache
def _imports_of(path: Path) -> frozenset[str]:
    """``sahel_eval`` modules a file imports (absolute or relative), at any depth.

    Regular expressions rather than :mod:`ast`: parsing every module on each
    ``snakemake`` call would cost a third of a second of the no-op time.
    """
    text = path.read_text(encoding="utf-8")
    if path.is_relative_to(_ROOT):
        own = [PACKAGE, *path.relative_to(_ROOT).with_suffix("").parts]
        package = own[:-1]
    else:
        package = []
    found: set[str] = set()
    for match in _IMPORT.finditer(text):
        for item in match.group(1).split(","):
            name = item.split(" as ")[0].strip()
            if name.split(".")[0] == PACKAGE:
                found.add(name)
    found.update(_NAMED.findall(text))
    for match in _FROM.finditer(text):
        mod = match.group(1)
        if mod.startswith("."):
            level = len(mod) - len(mod.lstrip("."))
            base = package[: len(package) - level + 1]
            mod = ".".join([*base, *filter(None, mod[level:].split("."))])
        if mod.split(".")[0] != PACKAGE:
            continue
        found.add(mod)
        # "from sahel_eval.x import y" may import the submodule y.
        names = match.group(2).strip("()").replace("\n", " ").split(",")
        found.update(f"{mod}.{n.split(' as ')[0].strip()}" for n in names if n.strip())
    # Importing a.b.c runs a/__init__ and a/b/__init__ too.
    closure = set(found)
    for mod in found:
        parts = mod.split(".")
        closure.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return frozenset(m for m in closure if _module_file(m) is not None)


def imported_modules(script: str | Path) -> list[str]:
    """Every ``sahel_eval`` module ``script`` imports, directly or through others."""
    seen: set[str] = set()
    todo = list(_imports_of(Path(script).resolve()))
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        todo.extend(_imports_of(_module_file(mod)) - seen)  # type: ignore[arg-type]
    return sorted(seen)


def _data_files(folders: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for folder in sorted(set(folders)):
        for sub in (folder, folder / "templates"):
            if sub.is_dir():
                files += [p for p in sorted(sub.iterdir()) if p.suffix in _DATA_SUFFIXES]
    return files


@cache
def code_hash(script: str | Path) -> str:
    """SHA-256 (16 hex digits) of the library code and package data ``script`` uses."""
    modules = [_module_file(m) for m in imported_modules(script)]
    files = sorted({m for m in modules if m is not None})
    files += _data_files(m.parent for m in files)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(_ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
