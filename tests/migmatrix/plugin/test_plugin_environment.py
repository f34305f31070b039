"""plugin/environment: what a test process imports for each pin, and the environment's cells."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest

from migmatrix.errors import UsageError
from migmatrix.load import load_matrix
from migmatrix.plan import plan_cells
from migmatrix.plugin.environment import environment_cells, observe_pin


def test_an_installed_pin_is_seen_with_its_file() -> None:
    version = importlib.metadata.version("iniconfig")
    seen = observe_pin("iniconfig", version)
    assert "problem" not in seen
    assert seen["found"] == version
    assert seen["module"] == "iniconfig"
    assert "site-packages" in seen["file"]


def test_another_version_is_named_with_both() -> None:
    version = importlib.metadata.version("iniconfig")
    seen = observe_pin("iniconfig", "0.0.1")
    assert seen["problem"] == f"iniconfig {version} is installed, expected 0.0.1"
    assert observe_pin("no-such-dist-here", "1")["problem"].startswith("no-such-dist-here is not")


def test_a_source_tree_first_on_sys_path_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trap: a folder named like the release shadows it; its file is not the release's."""
    (tmp_path / "iniconfig").mkdir()
    (tmp_path / "iniconfig" / "__init__.py").write_text("X = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "iniconfig", raising=False)
    version = importlib.metadata.version("iniconfig")
    seen = observe_pin("iniconfig", version)
    assert seen["file"] == str(tmp_path / "iniconfig" / "__init__.py")
    assert "not from the installed iniconfig" in seen["problem"]
    monkeypatch.delitem(sys.modules, "iniconfig", raising=False)


def test_environment_cells_select_one_environment(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    path = tmp_path / "matrix.yaml"
    path.write_text(
        'python: ["3.12"]\nphases: {p: s}\nenvs: {unit: {}}\nadapters:\n'
        '  a: {object: "m:a"}\n  b: {requirements: ["x==1"]}\n',
        encoding="utf-8",
    )
    matrix = load_matrix(path)
    cells = plan_cells(matrix)
    assert [c.adapter for c in environment_cells(matrix, cells, None)] == ["a"]
    assert [c.adapter for c in environment_cells(matrix, cells, "b")] == ["b"]
    with pytest.raises(UsageError, match=r"has no such environment \(its environments: default, b"):
        environment_cells(matrix, cells, "c")
