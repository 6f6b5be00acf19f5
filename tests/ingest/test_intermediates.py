"""A truncated or corrupt intermediate file is named, with how to rebuild it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from sahel_eval.io.parquet import write_parquet
from sahel_eval.rule_runner import USAGE_MARK, run_rule


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # run_rule configures the root logger for its rule's log file, as in a job.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


def _truncated(tmp_path: Path) -> Path:
    path = tmp_path / "results" / "clean" / "facility_month.parquet"
    write_parquet(pd.DataFrame({"a": range(100)}), path)
    path.write_bytes(path.read_bytes()[:-40])
    return path


def test_truncated_parquet_is_named_with_how_to_rebuild(tmp_path: Path, capsys) -> None:
    path = _truncated(tmp_path)
    with pytest.raises(SystemExit) as info:
        run_rule(str(tmp_path / "x.log"), lambda: pd.read_parquet(path), inputs=[str(path)])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "facility_month.parquet" in err and "'intermediate_readable'" in err
    assert "make run" in err and "Traceback" not in err
    assert "intermediate_readable" in (tmp_path / "x.log").read_text("utf-8")


def test_inputs_default_to_the_scripts_snakemake_object(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    path = _truncated(tmp_path)
    # Snakemake puts `snakemake` in the calling script's globals.
    monkeypatch.setitem(globals(), "snakemake", SimpleNamespace(input=[str(path)]))
    with pytest.raises(SystemExit):
        run_rule(str(tmp_path / "x.log"), lambda: pd.read_parquet(path))
    assert "facility_month.parquet" in capsys.readouterr().err


def test_other_errors_keep_their_traceback(tmp_path: Path) -> None:
    def step() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run_rule(str(tmp_path / "x.log"), step, inputs=[])


def test_a_finished_step_logs_its_cpu_and_memory(tmp_path: Path) -> None:
    """The line bench_pipeline.py reads for each job's CPU (Snakemake's samples miss
    the tail of long jobs): written after the step, absent when it fails."""
    log = tmp_path / "x.log"
    run_rule(str(log), lambda: sum(i * i for i in range(200_000)), inputs=[])
    line = [x for x in log.read_text("utf-8").splitlines() if USAGE_MARK in x]
    assert len(line) == 1
    fields = dict(f.split("=") for f in line[0].split(USAGE_MARK)[1].split())
    assert float(fields["cpu_s"]) > 0 and float(fields["peak_mb"]) > 10
    # The process has lived at least as long as it computed.
    assert float(fields["wall_s"]) >= float(fields["cpu_s"]) * 0.5

    def fail() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        run_rule(str(log), fail, inputs=[])
    assert USAGE_MARK not in log.read_text("utf-8")
