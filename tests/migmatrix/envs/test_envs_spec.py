"""migmatrix.envs: environments from the matrix, pins, the gate's check, git refs (no installs)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from migmatrix.envs import git
from migmatrix.envs.check import environment_problems
from migmatrix.envs.install import install_args, pin_problems
from migmatrix.envs.spec import DEFAULT, environments, named, pins_of
from migmatrix.envs.unavailable import write_unavailable
from migmatrix.errors import UsageError
from migmatrix.load import load_matrix
from migmatrix.plan import plan_cells
from migmatrix.results import read_results

MATRIX = """\
python: ["3.11", "3.12"]
phases:
  repro: suites
adapters:
  inproc: {object: "mod:adapter"}
  lib:
    requirements: ["somelib=={version}", "other>=2", "win==1; sys_platform == 'nope'"]
    versions: ["1.3.0", "1.4.0"]
  main: {ref: main, install: ".[x]"}
  flagged: {env: {FLAG: "1"}}
envs:
  unit: {}
"""


@pytest.fixture
def matrix_path(tmp_path: Path) -> Path:
    (tmp_path / "suites").mkdir()
    path = tmp_path / "matrix.yaml"
    path.write_text(MATRIX, encoding="utf-8")
    return path


def test_environments_in_display_order_with_versions_expanded(matrix_path: Path) -> None:
    found = environments(load_matrix(matrix_path))
    assert [e.name for e in found] == [DEFAULT, "lib[1.3.0]", "lib[1.4.0]", "main", "flagged"]
    lib = found[2]
    assert lib.requirements[0] == "somelib==1.4.0"
    # Only exact pins, and only those whose marker applies here.
    assert lib.pins == (("somelib", "1.4.0"),)
    assert found[3].ref == "main"
    assert found[4].env == (("FLAG", "1"),)
    assert not found[4].installs
    assert found[1].spec_hash("3.12") != found[2].spec_hash("3.12")
    assert found[1].spec_hash("3.12") != found[1].spec_hash("3.11")


def test_pins_of_takes_exact_versions_only() -> None:
    assert pins_of(["A_B==1.0", "c>=2", "d==1.*", "e===3"]) == (("a-b", "1.0"), ("e", "3"))


def test_named_refuses_an_unknown_environment(matrix_path: Path) -> None:
    matrix = load_matrix(matrix_path)
    assert named(matrix, "main").ref == "main"
    with pytest.raises(ValueError, match="its environments: default, lib"):
        named(matrix, "nope")


def test_install_args_are_one_install_of_everything(matrix_path: Path) -> None:
    lib, main = (
        named(load_matrix(matrix_path), "lib[1.3.0]"),
        named(load_matrix(matrix_path), "main"),
    )
    assert install_args(lib, ["-e", "."], None) == ["-e", ".", *lib.requirements]
    assert install_args(main, ["mm"], "/cache/abc") == ["mm", "/cache/abc[x]"]


def test_a_pin_the_install_did_not_honour_names_both_versions(matrix_path: Path) -> None:
    lib = named(load_matrix(matrix_path), "lib[1.4.0]")
    assert pin_problems(lib, {"somelib": "1.4.0"}) == []
    (problem,) = pin_problems(lib, {"somelib": "1.5.0"})
    assert "somelib 1.5.0 is installed, but the adapter pins somelib==1.4.0" in problem


def test_the_gate_check_refuses_a_mismatch_and_records_of_another_environment(
    matrix_path: Path,
) -> None:
    matrix = load_matrix(matrix_path)
    ids = {c.adapter: c.id for c in plan_cells(matrix) if c.python == "3.12"}
    good = {"environment": {"name": "lib[1.4.0]", "pins": {"somelib": {"expected": "1.4.0"}}}}
    bad = {
        "environment": {
            "name": "lib[1.4.0]",
            "pins": {
                "somelib": {
                    "expected": "1.4.0",
                    "found": "1.4.0",
                    "file": "/src/somelib/__init__.py",
                    "problem": "imported from the source tree",
                }
            },
        }
    }
    assert environment_problems(matrix, [("a.jsonl", good, [ids["lib[1.4.0]"]])]) == []
    (mismatch,) = environment_problems(matrix, [("b.jsonl", bad, [ids["lib[1.4.0]"]])])
    assert mismatch.startswith(f"b.jsonl: cell {ids['lib[1.4.0]']} (environment 'lib[1.4.0]')")
    assert "expected somelib 1.4.0, found 1.4.0 at /src/somelib/__init__.py" in mismatch
    (stray,) = environment_problems(matrix, [("c.jsonl", good, [ids["inproc"]])])
    assert f"its records of {ids['inproc']} belong to another environment" in stray
    # A file with no environment entry holds the in-process cells.
    assert environment_problems(matrix, [("d.jsonl", {}, [ids["inproc"]])]) == []
    assert environment_problems(matrix, [("e.jsonl", {}, [ids["main"]])]) != []


def test_unavailable_records_cover_every_cell_of_the_environment(
    matrix_path: Path, tmp_path: Path
) -> None:
    path = write_unavailable(
        str(matrix_path),
        python="3.11",
        environment="lib[1.4.0]",
        message="needs Python >= 3.12",
        results_dir=tmp_path / "results",
    )
    assert path is not None
    assert path.name == "py3.11-lib[1.4.0].jsonl"
    read = read_results(path)
    assert read.problems == []
    assert [(r.cell, r.test, r.outcome.value, r.message) for r in read.records] == [
        ("repro/lib[1.4.0]/unit/py3.11", "*", "unavailable", "needs Python >= 3.12")
    ]


def test_a_ref_is_checked_out_once_per_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()

    def run(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip

    run("init", "-q", "-b", "main")
    (repo / "f.txt").write_text("one\n", encoding="utf-8")
    run("add", ".")
    run("commit", "-q", "-m", "one")
    folder, commit = git.checkout(str(repo), "main", tmp_path / "cache")
    assert commit == run("rev-parse", "HEAD")
    assert (folder / "f.txt").read_text(encoding="utf-8") == "one\n"
    (folder / "marker").write_text("kept", encoding="utf-8")
    again, _ = git.checkout(str(repo), "main", tmp_path / "cache")
    assert again == folder
    assert (again / "marker").exists()  # reused, not unpacked again
    with pytest.raises(UsageError, match=r"ref 'nope' does not exist in the git repository"):
        git.checkout(str(repo), "nope", tmp_path / "cache")


@pytest.mark.slow  # uv makes a virtualenv and asks the index
def test_a_requirement_nobody_can_install_is_bad_input_naming_it(tmp_path: Path) -> None:
    """Not `unavailable` (that is for an interpreter a release does not support): exit 2."""
    import sys

    from migmatrix.envs.install import find_uv, install
    from migmatrix.envs.spec import Environment

    venv = tmp_path / "venv"
    subprocess.run([find_uv(), "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    environment = Environment("broken", requirements=("tomli==0.0.0.1",))
    python = str(venv / "bin" / "python")
    with pytest.raises(UsageError) as caught:
        install(
            environment, python=python, prefix=str(venv), args=["tomli==0.0.0.1"],
            spec_hash="x", log=lambda _: None,
        )  # fmt: skip
    text = str(caught.value)
    assert text.startswith(f"environment 'broken' cannot be installed on {python}: ")
    assert "tomli==0.0.0.1" in text
