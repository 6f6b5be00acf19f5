"""Start Snakemake so that a run interrupted by ``kill -9`` or a power cut resumes by itself.

A killed Snakemake leaves its lock in ``.snakemake/locks/``; the next run would stop
on it until the user found ``snakemake --unlock``. Here the lock is removed only when
no Snakemake process of this working directory is alive (a live run keeps its lock),
and the run then goes on with ``--rerun-incomplete`` (set in the workflow profiles),
which redoes the jobs the killed run left half-written.

Usage (what ``make run`` does)::

    python -m sahel_eval.resume [snakemake arguments...]

A plain run (``make run``) that finds config, code, inputs and outputs exactly as the
last complete run left them ends at once (:mod:`sahel_eval.uptodate`); otherwise
Snakemake decides. Kept free of heavy imports: it runs before every ``make run``, so
its start-up counts in the no-op time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from sahel_eval.uptodate import Stamp

__all__ = ["live_snakemake_pids", "main", "stale_lock", "workdir_of"]

_PROC = Path("/proc")


def workdir_of(args: Sequence[str], cwd: Path | None = None) -> Path:
    """The working directory a Snakemake command line runs in (``-d``/``--directory``)."""
    base = (cwd or Path.cwd()).resolve()
    for i, arg in enumerate(args):
        if arg in ("-d", "--directory") and i + 1 < len(args):
            return (base / args[i + 1]).resolve()
        if arg.startswith("--directory="):
            return (base / arg.split("=", 1)[1]).resolve()
    return base


def _is_snakemake(argv: Sequence[str]) -> bool:
    # The scheduler itself, not its job scripts (".snakemake/scripts/tmp….py").
    if any(Path(a).name == "snakemake" for a in argv[:2]):
        return True
    return any(a == "-m" and b == "snakemake" for a, b in zip(argv, argv[1:], strict=False))


def _processes() -> Iterator[tuple[int, list[str], Path | None]]:
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
            cwd = Path(os.readlink(entry / "cwd"))
        except (OSError, PermissionError):
            continue
        argv = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
        if argv:
            yield int(entry.name), argv, cwd


def live_snakemake_pids(workdir: Path) -> list[int]:
    """Snakemake processes (other than this one) running in ``workdir``."""
    me, workdir = os.getpid(), workdir.resolve()
    return [
        pid
        for pid, argv, cwd in _processes()
        if pid != me and _is_snakemake(argv) and workdir_of(argv[1:], cwd) == workdir
    ]


def stale_lock(workdir: Path) -> bool:
    """True when ``workdir`` holds a Snakemake lock and no Snakemake of it is alive.

    Without ``/proc`` (not Linux) nothing can be told apart, so a lock is never
    called stale and Snakemake's own message stands.
    """
    locks = workdir / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return False
    if not _PROC.is_dir():
        return False
    return not live_snakemake_pids(workdir)


def main(argv: Sequence[str] | None = None) -> int:
    """Unlock a stale lock and run Snakemake, unless a plain run has nothing to do.

    Returns
    -------
    int
        Snakemake's exit status (0 when the stamp says nothing changed).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    workdir = workdir_of(args)
    snakemake = [sys.executable, "-m", "snakemake"]
    stamp = Stamp.for_run(args, workdir)
    if stamp is not None and stamp.current():
        print(
            "Nothing to be done: config, code, inputs and outputs are as the last "
            "complete run left them.",
            file=sys.stderr,
        )
        return 0
    if stale_lock(workdir):
        print(
            f"sahel-eval: a previous run in {workdir} was interrupted; no Snakemake of "
            "this directory is alive, so its lock is removed and the run resumes.",
            file=sys.stderr,
        )
        subprocess.run([*snakemake, *args, "--unlock"], check=True, capture_output=True)
    sys.stdout.flush()
    if stamp is None:
        os.execv(sys.executable, [*snakemake, *args])
    stamp.forget()
    started_from = stamp.inputs_digest()
    with subprocess.Popen([*snakemake, *args]) as proc:
        try:
            status = proc.wait()
        except KeyboardInterrupt:  # Ctrl-C reaches Snakemake too (same process group)
            status = proc.wait()
    if status == 0:
        stamp.record(started_from)
    return status


if __name__ == "__main__":
    sys.exit(main())
