"""Provenance: stable config hash, streamed checksums, git state of tracked files only."""

import datetime as dt
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from sahel_eval.report import provenance as prov

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def test_config_hash_stable_across_key_order():
    a = {"seed": 1, "areas": ["mopti", "bamako"], "dq": {"z": 3.5, "target": 0.9}}
    b = {"dq": {"target": 0.9, "z": 3.5}, "areas": ["mopti", "bamako"], "seed": 1}
    assert prov.config_hash(a) == prov.config_hash(b)
    assert prov.config_hash(a) != prov.config_hash({**a, "seed": 2})
    assert prov.canonical_json({"b": 1, "a": dt.date(2020, 3, 1)}) == '{"a":"2020-03-01","b":1}'


def test_config_hash_rejects_unhashable_values():
    with pytest.raises(TypeError, match="dq.x"):
        prov.config_hash({"dq": {"x": object()}})


def test_sha256_file_matches_hashlib(tmp_path):
    data = b"x" * (3 << 20) + b"tail"
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert prov.sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_paths_relative_and_packages(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("a\n1\n")
    p = prov.collect_provenance(
        {"k": 1}, [tmp_path / "data" / "a.csv"], root=tmp_path, packages=["pandas", "nope-x"]
    )
    assert [i.path for i in p.inputs] == ["data/a.csv"]
    assert dict(p.packages)["nope-x"] is None
    assert str(tmp_path) not in repr(p.to_dict())


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.org",
            "-c",
            "commit.gpgsign=false",
            "-C",
            str(repo),
            *args,
        ],
        check=True,
        capture_output=True,
    )


@needs_git
def test_git_code_version(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "repo"
    repo.mkdir()
    assert prov.git_code_version(repo) == (prov.UNKNOWN, None)

    _git(repo, "init", "-q")
    (repo / "code.py").write_text("x = 1\n")
    _git(repo, "add", "code.py")
    assert prov.git_code_version(repo) == (prov.UNCOMMITTED, None)  # nothing committed yet
    _git(repo, "commit", "-q", "-m", "init")
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert prov.git_code_version(repo) == (head, None)

    (repo / "untracked.txt").write_text("not part of the code\n")
    assert prov.git_code_version(repo) == (head, None)

    (repo / "code.py").write_text("x = 2\n")
    assert prov.git_code_version(repo) == (prov.UNCOMMITTED, head)
