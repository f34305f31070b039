"""Importing adapter objects, which the run side does (`migmatrix.plugin.adapters`).

The loader only reads and validates matrix.yaml; the objects are imported by the
process that runs the cells, and checked all at once before a run starts
(`import_all`), with the same file:line message the loader would give.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from matrix_project import BASE, project_folder, write

from migmatrix.errors import MatrixError
from migmatrix.load import load_matrix
from migmatrix.plugin.adapters import import_all, load_adapter_object


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield from project_folder(tmp_path)


OBJ_NEW = '  new: {object: "mmad_adapters:adapter", features: [ssot-engine, ssot-factory]}\n'


def sub(old: str, new: str) -> tuple[str, str]:
    return (old, new)


# (id, edit of BASE, line:column of the `object:` value, key, message part).
BAD_IMPORTS = [
    (
        "adapter-module-missing",
        sub(OBJ_NEW, '  new: {object: "nomod_xyz:adapter"}\n'),
        "13:17",
        "adapters.new.object",
        "there is no module 'nomod_xyz' in the matrix folder",
    ),
    (
        "adapter-attribute-missing",
        sub(OBJ_NEW, '  new: {object: "mmad_adapters:adaptr"}\n'),
        "13:17",
        "adapters.new.object",
        "has no attribute 'adaptr'; define it or fix the attribute after the colon; "
        "did you mean 'adapter'?",
    ),
    (
        "adapter-module-raises",
        sub(OBJ_NEW, '  new: {object: "mmad_broken:adapter"}\n'),
        "13:17",
        "adapters.new.object",
        "importing module 'mmad_broken' raised RuntimeError: boom at import",
    ),
    (
        "adapter-dependency-missing",
        sub(OBJ_NEW, '  new: {object: "mmad_needs_dep:adapter"}\n'),
        "13:17",
        "adapters.new.object",
        "No module named 'mmad_not_installed_anywhere'; install or fix that dependency",
    ),
]


@pytest.mark.parametrize(
    ("edit", "where", "key", "part"),
    [case[1:] for case in BAD_IMPORTS],
    ids=[case[0] for case in BAD_IMPORTS],
)
def test_bad_adapter_object_message(
    project: Path, edit: tuple[str, str], where: str, key: str | None, part: str
) -> None:
    old, new = edit
    assert old in BASE
    path = write(project, BASE.replace(old, new, 1))
    matrix = load_matrix(path)  # the loader no longer imports objects...
    with pytest.raises(MatrixError) as info:
        import_all(matrix, [spec.name for spec in matrix.adapters])  # ...the run side does
    err = info.value
    headline = str(err).splitlines()[0]
    prefix = f"{path}:{where}: " + (f"{key}: " if key else "")
    assert headline.startswith(prefix), headline
    assert part in str(err)
    assert err.key == key
    assert "Traceback" not in str(err)


def test_adapter_object_is_imported_once_and_sys_path_restored(project: Path) -> None:
    before = list(sys.path)
    m = load_matrix(write(project, BASE))
    assert sys.path == before
    obj = load_adapter_object(m, "old")
    assert obj == {"name": "the adapter"}
    assert load_adapter_object(m, "partial[engine]") is obj
    assert sys.path == before
    with pytest.raises(MatrixError, match=r"unknown adapter 'nwe'; did you mean 'new'\?"):
        load_adapter_object(m, "nwe")


def test_failed_import_leaves_sys_path_alone(project: Path) -> None:
    before = list(sys.path)
    text = BASE.replace(OBJ_NEW, '  new: {object: "mmad_broken:adapter"}\n')
    matrix = load_matrix(write(project, text))
    with pytest.raises(MatrixError):
        load_adapter_object(matrix, "new")
    assert sys.path == before


def test_an_adapter_package_comes_from_its_matrix_folder_even_if_another_is_loaded(
    tmp_path: Path,
) -> None:
    # A process that already imported another project's `adapters` package (a test
    # process driving several matrices) must still get this matrix's adapters, and
    # keep the other package for whoever imported it.
    import types

    before = {n: m for n, m in sys.modules.items() if n == "adapters" or n.startswith("adapters.")}
    for name in before:
        del sys.modules[name]
    other = types.ModuleType("adapters")
    other.__path__ = [str(tmp_path / "elsewhere")]  # type: ignore[attr-defined]
    sys.modules["adapters"] = other
    try:
        pkg = tmp_path / "proj" / "adapters"
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "mine.py").write_text("adapter = 'from the matrix folder'\n")
        (tmp_path / "proj" / "suites").mkdir()
        (tmp_path / "proj" / "matrix.yaml").write_text(
            'python: ["3.12"]\nphases: {p: suites}\n'
            'adapters: {a: {object: "adapters.mine:adapter"}}\nenvs: {unit: {}}\n'
        )
        matrix = load_matrix(tmp_path / "proj" / "matrix.yaml")
        assert load_adapter_object(matrix, "a") == "from the matrix folder"
        assert sys.modules["adapters"] is other
    finally:
        for name in [n for n in sys.modules if n == "adapters" or n.startswith("adapters.")]:
            del sys.modules[name]
        sys.modules.update(before)
