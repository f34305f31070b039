"""migmatrix.noxhelpers: the pieces the noxfile builds its sessions from.

No nox here: a session is a small fake that records what it was asked to install
and log, with a real folder as its environment, so the stamp logic is exercised
on real files.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from migmatrix import noxhelpers as mm

REPO = Path(__file__).resolve().parents[2]


class FakeSession:
    """What install_project uses of a nox session: install, log, virtualenv.location."""

    def __init__(self, location: Path | None) -> None:
        self.virtualenv = SimpleNamespace(location=None if location is None else str(location))
        self.installs: list[tuple[tuple[str, ...], dict[str, str]]] = []
        self.logs: list[str] = []

    def install(self, *args: str, env: dict[str, str]) -> None:
        self.installs.append((args, env))

    def log(self, message: str) -> None:
        self.logs.append(message)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with a harness and a reference project, each with its pyproject.toml."""
    root = tmp_path / "repo"
    (root / "reference" / "sut").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'harness'\n", encoding="utf-8")
    (root / "reference" / "sut" / "pyproject.toml").write_text(
        "[project]\nname = 'sut'\n", encoding="utf-8"
    )
    return root


# ----------------------------------------------------------------- pick_versions


def test_pick_versions_takes_the_highest_patch_in_wanted_order() -> None:
    installed = ["3.11.2", "3.10.4", "3.11.10", "3.12.1", "3.10.13", "system"]
    assert mm.pick_versions(installed, ["3.12", "3.10", "3.11"]) == ["3.12.1", "3.10.13", "3.11.10"]


def test_pick_versions_leaves_out_what_is_missing_and_near_misses() -> None:
    installed = ["3.1.0", "3.13.0rc1", "3.13.0a", "pypy3.10-7.3.15", "3.9.18"]
    # 3.1 must not match 3.13.x, and a pre-release or a PyPy is not the X.Y asked for.
    assert mm.pick_versions(installed, ["3.1", "3.13", "3.10"]) == ["3.1.0"]
    assert mm.pick_versions([], ["3.12"]) == []


# ----------------------------------------------------------------- selection


def test_selection_args_turns_a_first_bare_word_into_cells() -> None:
    assert mm.selection_args(["py3.12", "-x"]) == ["--cells", "py3.12", "-x"]
    assert mm.selection_args(["--shard", "1/2"]) == ["--shard", "1/2"]
    assert mm.selection_args([]) == []
    # Only the first word: a later bare word is a value of an option.
    assert mm.selection_args(["-k", "engine"]) == ["-k", "engine"]


AXES = mm.Axes(
    python=("3.10", "3.11", "3.12"),
    cells=(("reproduction", "ssot", "ssot", "unit"),),
    cell_ids=(
        ("3.10", "reproduction/ssot/unit/py3.10"),
        ("3.11", "reproduction/ssot/unit/py3.11"),
        ("3.11", "rollback/ssot/unit/py3.11"),
        ("3.12", "reproduction/ssot/unit/py3.12"),
    ),
)


def test_selected_pythons_keeps_only_interpreters_with_a_selected_cell() -> None:
    assert mm.selected_pythons(AXES, ["py3.11"]) == ("3.11",)
    assert mm.selected_pythons(AXES, ["rollback"]) == ("3.11",)
    assert mm.selected_pythons(AXES, ["reproduction and not py3.10"]) == ("3.11", "3.12")
    assert mm.selected_pythons(AXES, ["py3.9"]) == ()


def test_selected_pythons_without_a_selection_or_with_a_bad_one_keeps_all() -> None:
    assert mm.selected_pythons(AXES, []) == AXES.python
    assert mm.selected_pythons(AXES, ["--shard", "1/2"]) == AXES.python
    # `migmatrix run` reports the bad expression with its column; nox starts every Python.
    assert mm.selected_pythons(AXES, ["reproduction and ("]) == AXES.python


def test_read_axes_of_this_repository_plans_every_python() -> None:
    axes = mm.read_axes(REPO / "matrix.yaml")
    assert axes.python == ("3.10", "3.11", "3.12", "3.13")
    assert {python for python, _ in axes.cell_ids} == set(axes.python)
    assert all(cell_id.endswith(f"/py{python}") for python, cell_id in axes.cell_ids)
    assert len(set(axes.cells)) == len(axes.cells)


# ----------------------------------------------------------------- env_python


def test_env_python_follows_noxs_folder_naming() -> None:
    where = mm.env_python("cell-3.12(reproduction/ssot/unit)", envdir="/envs")
    folder = "Scripts" if sys.platform == "win32" else "bin"
    assert where == Path("/envs/cell-3-12-reproduction-ssot-unit") / folder / "python"
    assert mm.env_python("run-3.11").parent.parent == Path(".nox/run-3-11")


# ----------------------------------------------------------------- install_project


def test_install_project_installs_both_projects_editable_then_stamps(
    project: Path, tmp_path: Path
) -> None:
    session = FakeSession(tmp_path / "env")
    (tmp_path / "env").mkdir()
    mm.install_project(session, "test", root=str(project), others=("reference/sut[server]",))
    ((args, env),) = session.installs
    assert args == (
        "-e", f"{project}[test]", "-e", os.path.join(str(project), "reference/sut[server]"),
    )  # fmt: skip
    assert env == {"UV_COMPILE_BYTECODE": "1"}
    assert (tmp_path / "env" / mm._STAMP).is_file()


def test_install_project_by_default_installs_the_project_alone(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    session = FakeSession(None)
    mm.install_project(session, "lint")
    ((args, _),) = session.installs
    assert args == ("-e", ".[lint]")


def test_install_project_skips_while_the_stamp_matches(project: Path, tmp_path: Path) -> None:
    (tmp_path / "env").mkdir()
    others = ("reference/sut[server]",)
    first = FakeSession(tmp_path / "env")
    mm.install_project(first, "lint", root=str(project), others=others)
    again = FakeSession(tmp_path / "env")
    mm.install_project(again, "lint", root=str(project), others=others)
    assert again.installs == []
    assert again.logs == ["environment up to date: nothing to install"]


@pytest.mark.parametrize(
    "change",
    ["harness pyproject", "reference pyproject", "extras", "reference extras"],
)
def test_install_project_reinstalls_when_anything_stamped_changes(
    project: Path, tmp_path: Path, change: str
) -> None:
    (tmp_path / "env").mkdir()
    extras, others = ["lint"], ["reference/sut[server]"]
    mm.install_project(FakeSession(tmp_path / "env"), *extras, root=str(project), others=others)
    if change == "harness pyproject":
        with (project / "pyproject.toml").open("a", encoding="utf-8") as f:
            f.write("version = '2'\n")
    elif change == "reference pyproject":
        with (project / "reference/sut/pyproject.toml").open("a", encoding="utf-8") as f:
            f.write("version = '2'\n")
    elif change == "extras":
        extras = ["test"]
    else:
        others = ["reference/sut"]
    session = FakeSession(tmp_path / "env")
    mm.install_project(session, *extras, root=str(project), others=others)
    assert len(session.installs) == 1, change


def test_install_project_without_an_environment_folder_always_installs(project: Path) -> None:
    for _ in range(2):
        session = FakeSession(None)
        mm.install_project(session, root=str(project), others=())
        assert session.installs == [(("-e", str(project)), {"UV_COMPILE_BYTECODE": "1"})]


def test_install_project_adds_the_harness_to_the_same_single_install(
    project: Path, tmp_path: Path
) -> None:
    harness = tmp_path / "harness"
    harness.mkdir()
    (harness / "pyproject.toml").write_text("[project]\nname = 'migmatrix'\n", encoding="utf-8")
    session = FakeSession(None)
    mm.install_project(
        session, root=str(project), others=("somelib==1.2",), migmatrix=("-e", str(harness))
    )
    ((args, _),) = session.installs
    assert args == ("-e", str(project), "somelib==1.2", "-e", str(harness))
    # Not editable: local folders are installed as built distributions; requirements as named.
    session = FakeSession(None)
    mm.install_project(session, root=str(project), migmatrix=("migmatrix==0.3",), editable=False)
    assert session.installs[0][0] == (str(project), "migmatrix==0.3")


def test_install_project_installs_the_harness_once_when_it_is_the_project(project: Path) -> None:
    """This repository is migmatrix: its `.` is the harness, so `-e .` is not given twice."""
    session = FakeSession(None)
    mm.install_project(session, root=str(project), migmatrix=("-e", str(project.resolve())))
    assert session.installs[0][0] == ("-e", str(project))


def test_install_project_reinstalls_when_the_harness_requirement_changes(
    project: Path, tmp_path: Path
) -> None:
    (tmp_path / "env").mkdir()
    mm.install_project(
        FakeSession(tmp_path / "env"), root=str(project), migmatrix=("migmatrix==1",)
    )
    session = FakeSession(tmp_path / "env")
    mm.install_project(session, root=str(project), migmatrix=("migmatrix==2",))
    assert len(session.installs) == 1


# ----------------------------------------------------------------- the harness itself


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        ('{"url": "file:///src/mm", "dir_info": {"editable": true}}', ["-e", "/src/mm"]),
        ('{"url": "file:///src/mm", "dir_info": {}}', ["/src/mm"]),
        (
            '{"url": "https://github.com/o/mm.git", "vcs_info": {"vcs": "git", '
            '"commit_id": "abc123", "requested_revision": "main"}}',
            ["migmatrix @ git+https://github.com/o/mm.git@abc123"],
        ),
        (
            '{"url": "https://example.org/mm-0.1-py3-none-any.whl", "archive_info": {}}',
            ["migmatrix @ https://example.org/mm-0.1-py3-none-any.whl"],
        ),
        ("not json", None),
        ('{"dir_info": {}}', None),
    ],
)
def test_args_from_direct_url_follow_pep_610(direct_url: str, expected: list[str] | None) -> None:
    assert mm.args_from_direct_url(direct_url) == expected


def test_migmatrix_requirement_from_the_environment_wins() -> None:
    assert mm.migmatrix_install_args({"MIGMATRIX_REQUIREMENT": "migmatrix==9.9"}) == [
        "migmatrix==9.9"
    ]


def test_migmatrix_install_args_name_where_this_harness_comes_from() -> None:
    """Here migmatrix is this checkout (editable, or imported from src/): its folder."""
    args = mm.migmatrix_install_args({})
    assert args[-1] == str(REPO) or Path(args[-1]).resolve() == REPO
    assert mm.source_tree(REPO / "src" / "migmatrix") == REPO
    assert mm.source_tree(REPO / "reference" / "netra_backend" / "src" / "netra_backend") is None


# ----------------------------------------------------------------- interpreters


@pytest.fixture
def fake_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PATH folder: executables put in it are the only ones found."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def executable(path: Path, script: str) -> None:
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


posix_only = pytest.mark.skipif(sys.platform == "win32", reason="shell-script executables")


@posix_only
def test_interpreter_available_looks_for_python_x_y_on_path(fake_path: Path) -> None:
    assert not mm.interpreter_available("3.12")
    executable(fake_path / "python3.12", "exit 0")
    assert mm.interpreter_available("3.12")
    assert not mm.interpreter_available("3.1")


def test_interpreter_available_finds_the_running_interpreter() -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if shutil.which(f"python{version}") is None:
        pytest.skip(f"python{version} is not on PATH here")
    assert mm.interpreter_available(version)


@pytest.fixture
def fake_pyenv(fake_path: Path) -> Path:
    """A `pyenv` on PATH whose `versions --bare` lists a fixed set of versions."""
    listed = "3.10.4\n3.10.13\n3.11.9\n3.12.1\n3.13.0\nsystem"
    executable(fake_path / "pyenv", f'[ "$1 $2" = "versions --bare" ] && printf "{listed}\\n"')
    return fake_path


@posix_only
def test_expose_pyenv_interpreters_appends_the_missing_versions(fake_pyenv: Path) -> None:
    environ: dict[str, Any] = {"PYENV_VERSION": "3.12.1"}
    value = mm.expose_pyenv_interpreters(["3.10", "3.11", "3.12", "3.9"], environ)
    # The running version stays first; each wanted X.Y by its highest patch; 3.9 is absent.
    assert value == "3.12.1:3.10.13:3.11.9"
    assert environ["PYENV_VERSION"] == value


@posix_only
def test_expose_pyenv_interpreters_from_an_empty_pyenv_version(fake_pyenv: Path) -> None:
    environ: dict[str, Any] = {}
    assert mm.expose_pyenv_interpreters(["3.13", "3.11"], environ) == "3.13.0:3.11.9"
    assert environ == {"PYENV_VERSION": "3.13.0:3.11.9"}


@posix_only
def test_expose_pyenv_interpreters_changes_nothing_when_all_are_there(fake_pyenv: Path) -> None:
    environ: dict[str, Any] = {"PYENV_VERSION": "3.11.9:3.10.13"}
    assert mm.expose_pyenv_interpreters(["3.10", "3.11"], environ) is None
    assert environ == {"PYENV_VERSION": "3.11.9:3.10.13"}


@posix_only
def test_expose_pyenv_interpreters_without_pyenv_or_when_it_fails(fake_path: Path) -> None:
    environ: dict[str, Any] = {}
    assert mm.expose_pyenv_interpreters(["3.12"], environ) is None
    executable(fake_path / "pyenv", "exit 3")
    assert mm.expose_pyenv_interpreters(["3.12"], environ) is None
    assert environ == {}


def test_expose_pyenv_interpreters_gives_up_on_a_hanging_pyenv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def hang(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired(cmd="pyenv", timeout=30)

    monkeypatch.setattr(mm.shutil, "which", lambda name: f"/fake/{name}")
    monkeypatch.setattr(mm.subprocess, "run", hang)
    environ: dict[str, Any] = {}
    assert mm.expose_pyenv_interpreters(["3.12"], environ) is None
    assert environ == {}


def test_gate_args_leave_out_the_run_only_reruns() -> None:
    # `nox -s matrix -- golden_path --reruns 2`: the runs re-run, the gate only judges.
    assert mm.gate_args(["golden_path", "--reruns", "2", "-x"]) == ["--cells", "golden_path", "-x"]
    assert mm.gate_args(["--reruns=3", "--baseline", "b.json"]) == ["--baseline", "b.json"]
