"""The `run` step: the pytest command it builds, and real runs of a tiny matrix."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from migmatrix.errors import UsageError
from migmatrix.results import read_results
from migmatrix.run import build_command, find_python, run_matrix

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.parametrize(
    ("kwargs", "tail"),
    [
        # defaults: all cells, xdist with as many workers as cores
        ({}, ["-n", "auto"]),
        # workers=0: in-process, xdist not even loaded
        ({"workers": 0}, ["-p", "no:xdist"]),
        # selection, shard, coverage and pass-through args, in that order
        (
            {
                "cells": "alpha and new",
                "shard": "2/3",
                "workers": 2,
                "coverage_dir": "results/coverage",
                "extra_args": ["-x", "-q"],
            },
            [
                "--cells",
                "alpha and new",
                "--shard",
                "2/3",
                "-n",
                "2",
                "--matrix-coverage",
                "results/coverage",
                "-x",
                "-q",
            ],
        ),
    ],
    ids=["defaults", "in-process", "everything"],
)
def test_build_command(kwargs: dict[str, object], tail: list[str]) -> None:
    argv = build_command("m.yaml", interpreter="/py", **kwargs)  # type: ignore[arg-type]
    head = ["/py", "-m", "pytest", "--matrix", "m.yaml", "--results-dir", "results"]
    assert argv == head + tail


def test_find_python() -> None:
    assert find_python(None) == sys.executable
    assert find_python(PY) == sys.executable
    assert find_python(f"py{PY}") == sys.executable
    with pytest.raises(UsageError, match=r"no python2\.1 on PATH; install it"):
        find_python("2.1")
    with pytest.raises(UsageError, match=r"no interpreter at '\./nope'"):
        find_python("./nope")


def test_missing_matrix_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        run_matrix(str(tmp_path / "absent.yaml"))


def write_tiny_matrix(folder: Path) -> None:
    (folder / "matrix.yaml").write_text(
        f"""
python: ["{PY}"]
phases: {{alpha: suites/alpha}}
adapters:
  old: {{object: "tinyadapters:old", features: []}}
  new: {{object: "tinyadapters:new", features: [fixed]}}
envs: {{unit: {{features: []}}}}
expect:
  default: pass
  rules:
    - {{test: "test_a.py::test_fix", unless: [fixed], outcome: fail}}
"""
    )
    (folder / "tinyadapters.py").write_text(
        "def old():\n    return 1\n\ndef new():\n    return 2\n"
    )
    suite = folder / "suites" / "alpha"
    suite.mkdir(parents=True)
    (suite / "test_a.py").write_text(
        "def test_fix(cell):\n    assert cell.adapter_object() == 2\n\n"
        "def test_ok(cell):\n    pass\n"
    )


def test_run_matrix_runs_pytest_and_writes_results_with_cell_coverage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tiny_matrix(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = run_matrix("matrix.yaml", workers=0, coverage=True, extra_args=["-q"])
    # Expected failures are strict xfails, so pytest itself is green.
    assert code == 0
    found = read_results(tmp_path / "results" / f"py{PY}.jsonl")
    assert found.complete
    assert {(r.cell, r.test, r.outcome.value) for r in found.records} == {
        (f"alpha/old/unit/py{PY}", "test_a.py::test_fix", "failed"),
        (f"alpha/old/unit/py{PY}", "test_a.py::test_ok", "passed"),
        (f"alpha/new/unit/py{PY}", "test_a.py::test_fix", "passed"),
        (f"alpha/new/unit/py{PY}", "test_a.py::test_ok", "passed"),
    }
    import coverage

    data_files = sorted((tmp_path / "results" / "coverage").glob(".coverage.*"))
    assert data_files
    data = coverage.CoverageData(basename=str(data_files[0]))
    data.read()
    assert {f"alpha/old/unit/py{PY}", f"alpha/new/unit/py{PY}"} <= data.measured_contexts()
    adapters = str(tmp_path / "tinyadapters.py")
    data.set_query_contexts([f"alpha/new/unit/py{PY}"])
    assert data.lines(adapters) == [5]  # `return 2`: only the new adapter ran in its cell


def test_run_matrix_passes_selection_and_shard_to_pytest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tiny_matrix(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = run_matrix(
        "matrix.yaml",
        cells="new",
        shard="1/1",
        results_dir="out",
        workers=0,
        pytest_args=["--run-id", "named"],
    )
    assert code == 0
    lines = (tmp_path / "out" / "named.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    assert (header["selection"], header["shard"]) == ("new", "1/1")
    assert json.loads(lines[-1])["records"] == 2
