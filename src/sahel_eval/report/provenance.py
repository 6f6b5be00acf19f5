"""The provenance block: which code, which configuration, which inputs, which packages.

A reviewer must be able to tell from a report alone whether their rerun used the same
ingredients. Nothing here depends on when or where the pipeline ran: no timestamps,
no absolute paths, no host names, so the block is byte-identical across machines.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePath
from typing import Any

UNCOMMITTED = "uncommitted changes"
UNKNOWN = "unknown"

DEFAULT_PACKAGES: tuple[str, ...] = (
    "sahel-eval",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "linearmodels",
    "pyreadstat",
    "pandera",
    "pyarrow",
    "matplotlib",
    "jinja2",
    "babel",
    "snakemake",
)

_CHUNK = 1 << 20

# Variables a git hook or a wrapper may set; they would make `git -C root` look at
# another repository or index than the project's.
_GIT_ENV_OVERRIDES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
)


@dataclass(frozen=True)
class InputChecksum:
    """One input: its path relative to the project root and its SHA-256."""

    path: str
    sha256: str


@dataclass(frozen=True)
class Provenance:
    """Data of the provenance block.

    Parameters
    ----------
    code_version
        The git commit, ``"uncommitted changes"`` or ``"unknown"``.
    base_commit
        HEAD when ``code_version`` is ``"uncommitted changes"`` (``None`` if there is no
        commit yet), else ``None``.
    config_hash
        SHA-256 of the canonical JSON of the loaded config.
    inputs
        Input checksums, sorted by path.
    packages
        ``(name, version)`` pairs in a fixed order; version ``None`` if not installed.
    """

    code_version: str
    base_commit: str | None
    config_hash: str
    inputs: tuple[InputChecksum, ...]
    packages: tuple[tuple[str, str | None], ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form, for templates and JSON."""
        return {
            "code_version": self.code_version,
            "base_commit": self.base_commit,
            "config_hash": self.config_hash,
            "inputs": [{"path": i.path, "sha256": i.sha256} for i in self.inputs],
            "packages": [{"name": n, "version": v} for n, v in self.packages],
        }


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV_OVERRIDES}
    # Reading status must never take index.lock: another process may be committing.
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["LC_ALL"] = "C"
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def git_code_version(root: str | os.PathLike[str]) -> tuple[str, str | None]:
    """``(code_version, base_commit)`` for the repository at ``root``.

    The commit hash if tracked files match HEAD; ``"uncommitted changes"`` if any tracked
    file differs from HEAD (staged or not) or nothing is committed yet — untracked files
    do not count; ``"unknown"`` outside git or without a git executable.
    """
    root = Path(root)
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside is None or inside.returncode != 0 or inside.stdout.strip() != "true":
        return UNKNOWN, None
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    commit = head.stdout.strip() if head is not None and head.returncode == 0 else None
    if commit is None:
        return UNCOMMITTED, None
    status = _git(root, "status", "--porcelain", "--untracked-files=no", "--ignore-submodules")
    if status is None or status.returncode != 0:
        return UNKNOWN, None
    if status.stdout.strip():
        return UNCOMMITTED, commit
    return commit, None


def _plain(obj: Any, where: str) -> Any:
    """``obj`` as plain JSON types; dates as ISO strings, paths as POSIX strings."""
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            skey = str(key)
            if skey in out:
                raise TypeError(f"config key {where}{skey!r} appears twice once keys are strings")
            out[skey] = _plain(value, f"{where}{skey}.")
        return out
    if isinstance(obj, (list, tuple)):
        return [_plain(v, f"{where}[{i}].") for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, (_dt.date, _dt.datetime)):
        # YAML turns 2020-03-01 into a date: hash it as the string it was written as.
        return obj.isoformat()
    if isinstance(obj, PurePath):
        return obj.as_posix()
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return _plain(obj.item(), where)
    raise TypeError(
        f"config value at {where.rstrip('.') or '<root>'} has type {type(obj).__name__}, "
        "which has no canonical JSON form"
    )


def canonical_json(config: Mapping[str, Any]) -> str:
    """The config as compact JSON with sorted keys, the form that is hashed."""
    return json.dumps(
        _plain(config, ""),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of :func:`canonical_json`; independent of key order."""
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file, read in chunks so large exports fit in memory.

    A directory (e.g. one export split over several files) is hashed as the sorted list
    of its files' relative paths and hashes, so renaming a file changes the hash too.
    """
    path = Path(path)
    if path.is_dir():
        digest = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = child.relative_to(path).as_posix()
            digest.update(f"{rel}\0{sha256_file(child)}\n".encode())
        return digest.hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def relative_path(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str:
    """``path`` relative to ``root`` with ``/`` separators, for outputs that must not hold
    absolute paths. Paths outside ``root`` get ``..`` parts rather than an absolute form.
    """
    # Symlinks are not followed: a data folder linked in from elsewhere is still shown
    # under the name the config gives it, so outputs do not depend on where data live.
    root_abs = Path(os.path.abspath(root))
    path = Path(path)
    path_abs = Path(os.path.abspath(path if path.is_absolute() else root_abs / path))
    return Path(os.path.relpath(path_abs, root_abs)).as_posix()


def package_versions(
    names: Iterable[str] = DEFAULT_PACKAGES,
) -> tuple[tuple[str, str | None], ...]:
    """``(name, version)`` for Python itself and each package; ``None`` if not installed."""
    out: list[tuple[str, str | None]] = [("python", platform.python_version())]
    for name in names:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, None))
    return tuple(out)


def collect_provenance(
    config: Mapping[str, Any],
    inputs: Iterable[str | os.PathLike[str]],
    *,
    root: str | os.PathLike[str],
    packages: Iterable[str] = DEFAULT_PACKAGES,
) -> Provenance:
    """Everything the provenance block shows.

    Parameters
    ----------
    config
        The loaded (validated) config dict.
    inputs
        Input files or directories, absolute or relative to ``root``.
    root
        Project root: git is asked about it and paths are shown relative to it.
    packages
        Distribution names whose versions are listed.
    """
    root = Path(root)
    checksums = []
    for item in inputs:
        path = Path(item) if Path(item).is_absolute() else root / item
        if not path.exists():
            raise FileNotFoundError(
                f"input {relative_path(path, root)} does not exist (provenance checksum)"
            )
        checksums.append(InputChecksum(relative_path(path, root), sha256_file(path)))
    version, base = git_code_version(root)
    return Provenance(
        code_version=version,
        base_commit=base,
        config_hash=config_hash(config),
        inputs=tuple(sorted(set(checksums), key=lambda c: c.path)),
        packages=package_versions(packages),
    )
