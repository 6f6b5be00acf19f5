"""Salted hashing, masking and identifier dropping."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from sahel_eval.errors import InputError, problem
from sahel_eval.privacy import (
    DEMO_SALT,
    SaltError,
    drop_identifiers,
    hash_id,
    hash_series,
    mask,
    resolve_salt,
)


def test_hash_is_salted_sha256_truncated() -> None:
    expected = hashlib.sha256(b"salt" + b"12 3").hexdigest()[:16]
    assert hash_id("  12 3 ", "salt") == expected
    assert hash_id(12.0, "salt") == hash_id("12", "salt")
    assert hash_id("12", "salt") != hash_id("12", "pepper")
    assert hash_id(None, "salt") is None
    assert len(hash_id("x", "salt", length=24)) == 24


def test_hash_series_keeps_missing() -> None:
    out = hash_series(pd.Series(["a", None, "a"]), "s")
    assert out[0] == out[2] and pd.isna(out[1])


def test_mask() -> None:
    assert mask("Aminata Traoré") == "A***"
    assert mask("ab") == "<masked>"
    assert mask(76123456) == "<masked>"
    assert mask(None) == "<missing>"


def test_drop_identifiers_case_insensitive() -> None:
    frame = pd.DataFrame({"SHNOM": ["x"], "hv001": [1]})
    assert list(drop_identifiers(frame, ["shnom", "shtel"]).columns) == ["hv001"]


def test_salt_resolution(monkeypatch) -> None:
    monkeypatch.delenv("SAHEL_EVAL_SALT", raising=False)
    assert resolve_salt({}, synthetic=True) == DEMO_SALT
    with pytest.raises(SaltError, match="SAHEL_EVAL_SALT"):
        resolve_salt({}, synthetic=False)
    monkeypatch.setenv("MY_SALT", "s3cret")
    assert resolve_salt({"salt_env": "MY_SALT"}, synthetic=False) == "s3cret"


def test_masked_problem_in_message() -> None:
    p = problem(
        "shtel",
        "unique_key",
        "duplicate",
        [0, 3],
        ["+223 76 12 34 56"] * 2,
        masked=True,
        row_offset=1,
    )
    error = InputError("MLHR2015.dta", [p], hint="fix", row_label="observation")
    assert "+223 76" not in str(error)
    assert "observation 1 (+***)" in str(error)
    assert str(error).splitlines()[0] == ("MLHR2015.dta: column 'shtel': rule 'unique_key' failed")
