"""DAG-time helpers: config subsets as params and the hash of the code a rule imports."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests_support import REPO

from sahel_eval import dag


def test_config_subset_keeps_the_shape_and_only_what_is_named() -> None:
    config = {
        "dq": {"treatment": "flag", "inactive_months": 6},
        "areas": {"a": {"region": "R"}, "b": {"region": "S"}},
        "programmes": [{"name": "P", "area": "a", "start": "2019"}, {"name": "Q", "area": "b"}],
    }
    out = dag.config_subset(config, "dq.treatment", "areas.b", "programmes[].name")
    assert out == {
        "dq": {"treatment": "flag"},
        "areas": {"b": {"region": "S"}},
        "programmes": [{"name": "P"}, {"name": "Q"}],
    }
    with pytest.raises(KeyError, match="dq.treatmnt"):
        dag.config_subset(config, "dq.treatmnt")


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small sahel_eval package: a imports b lazily (by name), c is unrelated."""
    root = tmp_path / "sahel_eval"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text('_EXPORTS = {"f": "sahel_eval.sub.b"}\n')
    (root / "sub" / "a.py").write_text("from sahel_eval.sub import f\n")
    (root / "sub" / "b.py").write_text("from .c_helper import (\n    x,\n    y,\n)\n")
    (root / "sub" / "c_helper.py").write_text("x = y = 1\n")
    (root / "sub" / "catalogue.yaml").write_text("k: v\n")
    (root / "other.py").write_text("z = 2\n")
    (tmp_path / "script.py").write_text("from sahel_eval.sub.a import f\n")
    monkeypatch.setattr(dag, "_ROOT", root)
    for fn in (dag._module_file, dag._imports_of, dag.code_hash):
        fn.cache_clear()
    yield tmp_path
    for fn in (dag._module_file, dag._imports_of, dag.code_hash):
        fn.cache_clear()


def _hash(tmp: Path) -> str:
    dag.code_hash.cache_clear()
    dag._imports_of.cache_clear()
    return dag.code_hash(tmp / "script.py")


def test_imports_are_followed_through_lazy_exports_and_relative_imports(package: Path) -> None:
    assert dag.imported_modules(package / "script.py") == [
        "sahel_eval",
        "sahel_eval.sub",
        "sahel_eval.sub.a",
        "sahel_eval.sub.b",
        "sahel_eval.sub.c_helper",
    ]


@pytest.mark.parametrize(
    ("edited", "changes"),
    [
        ("sahel_eval/sub/c_helper.py", True),  # imported two hops away
        ("sahel_eval/sub/catalogue.yaml", True),  # package data beside imported code
        ("sahel_eval/other.py", False),  # not imported
    ],
)
def test_code_hash_follows_the_code_a_script_uses(
    package: Path, edited: str, changes: bool
) -> None:
    before = _hash(package)
    with open(package / edited, "a", encoding="utf-8") as fh:
        fh.write("# edited\n")
    assert (_hash(package) != before) is changes


def test_every_rule_script_has_a_code_hash() -> None:
    scripts = sorted((REPO / "workflow" / "scripts").glob("*.py"))
    rules = "".join(p.read_text("utf-8") for p in (REPO / "workflow" / "rules").glob("*.smk"))
    for script in scripts:
        assert f'code("{script.name}")' in rules, f"{script.name}: no code=code(...) param"
        assert dag.imported_modules(script), script.name
