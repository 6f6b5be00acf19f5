"""A fingerprint of everything a complete run depends on, so a no-op ``make run`` is instant.

Snakemake takes 2.5–3 s to find that nothing needs doing (its own start-up, pandas,
which it imports to compare ``params``, the Snakefile and the DAG). After a complete,
successful run of the default target, :class:`Stamp` records one digest of what
Snakemake would look at: the command line, the Snakefile, ``workflow/`` and the
library code (which the rules' ``params`` hash), the config folder, the raw inputs
the config names, and every product under ``results/`` and ``reports/`` (size and
modification time). The next run with the same command compares digests: equal means
Snakemake would find nothing to do, so it is not started; any difference — an edited
value, a touched input, a deleted or modified output, another option — starts it.

Only plain runs are stamped (no targets, no dry run, no ``--configfile`` …: see
:data:`PLAIN_OPTIONS`); anything else always goes to Snakemake.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sahel_eval.io.yaml_text import safe_load

__all__ = ["PLAIN_OPTIONS", "Stamp"]

#: Options of a plain run (with the number of values each takes).
PLAIN_OPTIONS = {
    "--workflow-profile": 1,
    "-s": 1,
    "--snakefile": 1,
    "-d": 1,
    "--directory": 1,
    "--cores": 1,
    "-c": 1,
    "-j": 1,
    "--jobs": 1,
    "-q": 0,
    "--quiet": 0,
    "--rerun-incomplete": 0,
    "-p": 0,
    "--printshellcmds": 0,
}
STAMP_FILE = Path(".snakemake") / "sahel_eval_uptodate.json"
_CODE_SUFFIXES = frozenset({".py", ".smk", ".yaml", ".yml", ".json", ".j2", ".css", ".rst"})


def _plain(args: Sequence[str]) -> dict[str, str] | None:
    """Option -> value of a plain run, or None when ``args`` hold anything else."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        name, _, value = args[i].partition("=")
        if name not in PLAIN_OPTIONS:
            return None
        if PLAIN_OPTIONS[name] and not value:
            if i + 1 >= len(args):
                return None
            value = args[i + 1]
            i += 1
        out[name] = value
        i += 1
    return out


def _files(root: Path, suffixes: frozenset[str] | None = None) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", ".snakemake"))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if suffixes is None or path.suffix in suffixes:
                yield path


def _paths_in(node: Any) -> Iterator[str]:
    """Every string in a config section (the raw inputs are its path values)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _paths_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _paths_in(value)


class Stamp:
    """The fingerprint of one plain run in one working directory."""

    def __init__(self, args: Sequence[str], options: dict[str, str], workdir: Path) -> None:
        self.args = list(args)
        self.workdir = workdir
        snakefile = options.get("-s") or options.get("--snakefile") or "Snakefile"
        self.snakefile = (Path.cwd() / snakefile).resolve()
        spec = importlib.util.find_spec("sahel_eval")
        self.package = Path(spec.origin).parent if spec and spec.origin else None

    @classmethod
    def for_run(cls, args: Sequence[str], workdir: Path) -> Stamp | None:
        """A stamp for a plain run; None when the command is not one."""
        options = _plain(args)
        return None if options is None else cls(args, options, workdir)

    def _inputs(self) -> Iterator[Path]:
        project = self.snakefile.parent
        yield self.snakefile
        yield from _files(project / "workflow")
        for name in ("requirements.lock", "pyproject.toml"):
            if (project / name).is_file():
                yield project / name
        if self.package is not None:
            yield from _files(self.package, _CODE_SUFFIXES)
        config_dir = self.workdir / "config"
        yield from _files(config_dir)
        config_file = config_dir / "config.yaml"
        if config_file.is_file():
            with open(config_file, encoding="utf-8") as fh:
                config = safe_load(fh)
            inputs = config.get("inputs", {}) if isinstance(config, dict) else {}
            for value in _paths_in(inputs):
                path = self.workdir / value
                if path.exists():
                    yield from _files(path)

    def _outputs(self) -> Iterator[Path]:
        for name in ("results", "reports"):
            if (self.workdir / name).is_dir():
                yield from _files(self.workdir / name)

    @staticmethod
    def _update(h: Any, paths: Iterator[Path]) -> None:
        for path in paths:
            st = path.stat()
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        h.update(b"--\n")

    def inputs_digest(self) -> str:
        """SHA-256 of the command, the interpreter and every input's size and mtime.

        Taken when a run starts: an input edited while Snakemake runs must not be
        recorded as one the finished run saw.
        """
        h = hashlib.sha256(json.dumps([self.args, sys.executable, sys.version]).encode())
        self._update(h, self._inputs())
        return h.hexdigest()

    def digest(self, inputs: str | None = None) -> str:
        """The inputs' digest (today's unless given) combined with the outputs' state."""
        h = hashlib.sha256((inputs or self.inputs_digest()).encode())
        self._update(h, self._outputs())
        return h.hexdigest()

    @property
    def _file(self) -> Path:
        return self.workdir / STAMP_FILE

    def current(self) -> bool:
        """True when the last complete run recorded exactly today's digest."""
        try:
            recorded = json.loads(self._file.read_text("utf-8"))["digest"]
        except (OSError, ValueError, KeyError):
            return False
        return recorded == self.digest()

    def record(self, inputs: str) -> None:
        """Record, after a successful run, the inputs it started from and its outputs."""
        self._file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"digest": self.digest(inputs)}), "utf-8")
        os.replace(tmp, self._file)

    def forget(self) -> None:
        """Drop the record (a run is starting: until it ends, nothing is known)."""
        self._file.unlink(missing_ok=True)
