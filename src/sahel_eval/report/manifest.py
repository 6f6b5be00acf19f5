"""The reviewers' checksum manifest and the run-date metadata (DESIGN §10).

``reports/manifest.sha256`` lists the SHA-256 of every result and report file, one
``<hash>  <path>`` line per file, paths relative to the project root and sorted, so a
reviewer can run ``sha256sum -c reports/manifest.sha256`` from the project root and
compare two runs with ``diff``. It holds no date: two runs of the same code on the
same data give the same manifest.

The run date lives in ``reports/run_metadata.json``, the only output with a
timestamp. It is left out of the manifest, like the logs and the
``snakemake --report`` archive (which embeds run times).
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import hashlib
import json
import os
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path

from sahel_eval.report.provenance import relative_path, sha256_file
from sahel_eval.report.render import write_atomic

__all__ = [
    "DEFAULT_EXCLUDE",
    "DEFAULT_ROOTS",
    "MANIFEST_PATH",
    "RUN_METADATA_PATH",
    "collect_files",
    "manifest_text",
    "run_metadata",
    "verify_manifest",
    "write_manifest",
    "write_run_metadata",
]

MANIFEST_PATH = "reports/manifest.sha256"
RUN_METADATA_PATH = "reports/run_metadata.json"
SNAKEMAKE_REPORT = "reports/snakemake_report.zip"

DEFAULT_ROOTS: tuple[str, ...] = ("results", "reports")
"""Folders whose files the manifest lists."""

DEFAULT_EXCLUDE: tuple[str, ...] = (
    MANIFEST_PATH,
    RUN_METADATA_PATH,
    SNAKEMAKE_REPORT,
    "reports/snakemake_report*",
    "logs/*",
    "*.log",
)
"""Glob patterns (on relative POSIX paths) left out: the manifest itself, the run date,
the ``--report`` archive and logs, none of which is byte-identical across runs."""


def _excluded(rel: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(rel, p) for p in patterns)


def collect_files(
    root: str | os.PathLike[str],
    folders: Iterable[str] = DEFAULT_ROOTS,
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
) -> list[str]:
    """Relative paths of the files under ``folders`` of ``root``, sorted, minus ``exclude``.

    Hidden files (a name starting with ``.``, such as the temporary files of an atomic
    write or Snakemake's own markers) are skipped: they are not outputs.
    """
    root = Path(root)
    out = set()
    for folder in folders:
        base = root / folder
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            rel = path.relative_to(root)
            if not path.is_file() or any(part.startswith(".") for part in rel.parts):
                continue
            rel_posix = rel.as_posix()
            if not _excluded(rel_posix, exclude):
                out.add(rel_posix)
    return sorted(out)


def manifest_text(root: str | os.PathLike[str], files: Iterable[str]) -> str:
    """``sha256sum``-format lines (``<hash>  <path>``) for ``files`` relative to ``root``."""
    root = Path(root)
    lines = [f"{sha256_file(root / rel)}  {rel}" for rel in sorted(set(files))]
    return "\n".join(lines) + ("\n" if lines else "")


def write_manifest(
    out_path: str | os.PathLike[str],
    root: str | os.PathLike[str] = ".",
    *,
    folders: Iterable[str] = DEFAULT_ROOTS,
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    required: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Write the manifest of every result and report file under ``root``.

    Parameters
    ----------
    out_path
        Where to write (``reports/manifest.sha256``); it is never listed in itself.
    root
        Project root; paths in the manifest are relative to it.
    folders, exclude
        What to list (see :data:`DEFAULT_ROOTS`, :data:`DEFAULT_EXCLUDE`).
    required
        Files that must be listed (the rule's inputs). A required file that the
        exclusions drop or that does not exist raises ``ValueError``: the manifest
        would silently miss a product.
    """
    root = Path(root)
    own = relative_path(out_path, root)
    files = [f for f in collect_files(root, folders, (*exclude, own)) if f != own]
    listed = set(files)
    missing = sorted(
        rel
        for rel in (relative_path(p, root) for p in required)
        if rel not in listed and not (root / rel).is_dir()
    )
    if missing:
        raise ValueError(
            f"manifest: {len(missing)} pipeline product(s) would be left out, e.g. {missing[:3]}; "
            f"they must sit under {list(folders)} and not match {list(exclude)}"
        )
    return write_atomic(out_path, manifest_text(root, files))


def verify_manifest(
    manifest: str | os.PathLike[str], root: str | os.PathLike[str] = "."
) -> list[str]:
    """Paths whose current SHA-256 differs from the manifest (or that are gone)."""
    root = Path(root)
    bad = []
    for line in Path(manifest).read_text("utf-8").splitlines():
        digest, rel = line.split("  ", 1)
        path = root / rel
        if not path.is_file() or sha256_file(path) != digest:
            bad.append(rel)
    return bad


def run_metadata(
    manifest: str | os.PathLike[str],
    *,
    now: _dt.datetime | None = None,
    root: str | os.PathLike[str] = ".",
) -> dict[str, str]:
    """The run date (UTC, ISO 8601) and the manifest it belongs to."""
    now = now or _dt.datetime.now(_dt.UTC)
    data = Path(manifest).read_bytes()
    return {
        "run_date": now.astimezone(_dt.UTC).replace(microsecond=0).isoformat(),
        "manifest": relative_path(manifest, root),
        "manifest_sha256": hashlib.sha256(data).hexdigest(),
        "python": platform.python_version(),
    }


def write_run_metadata(
    out_path: str | os.PathLike[str],
    manifest: str | os.PathLike[str],
    *,
    now: _dt.datetime | None = None,
    root: str | os.PathLike[str] = ".",
) -> Path:
    """Write ``reports/run_metadata.json`` (sorted keys, the only timestamped output)."""
    meta = run_metadata(manifest, now=now, root=root)
    return write_atomic(out_path, json.dumps(meta, sort_keys=True, indent=2) + "\n")
