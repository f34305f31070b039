"""update-expectations on this repository's own matrix and results.

The reproduction phase of a copy of the repository is run for the running
Python (its `python:` narrowed to it, so the results cover every cell the
phase plans). On those results nothing is proposed; with one reproduction rule
deleted, the update proposes one feature rule equal in effect, after which the
gate passes and every comment of matrix.yaml is as it was.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from repo_copy import PY, copy_env, copy_repository, patch

from migmatrix.expect import expectation_for
from migmatrix.load import load_matrix
from migmatrix.plan import plan_cells

pytestmark = pytest.mark.slow

DELETED = """\
    - phase: reproduction
      test: "test_ssot_namespace_conflicts.py::*"
      unless: [ssot-engine]
      outcome: fail
      raises: AssertionError
      match: "SSOT VIOLATION"
      bug: "#620"
"""


def migmatrix(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migmatrix", *args],
        cwd=copy, env=copy_env(copy), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines(keepends=True) if "#" in line]


def test_own_results_propose_nothing_and_a_deleted_rule_comes_back(tmp_path: Path) -> None:
    copy = copy_repository(tmp_path / "repo")
    matrix = copy / "matrix.yaml"
    patch(matrix, 'python: ["3.10", "3.11", "3.12", "3.13"]', f'python: ["{PY}"]')
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--matrix", "matrix.yaml", "--cells", "reproduction/*",
         "-n", "2", "--results-dir", "results", "-p", "no:cacheprovider", "-q"],
        cwd=copy, env=copy_env(copy), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert "records written" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]
    # This run collects no coverage data, so the coverage rules are not checked here.
    gate = ["gate", "results", "--cells", "reproduction/*", "--no-coverage-rules"]
    assert migmatrix(copy, *gate).returncode == 0

    nothing = migmatrix(copy, "update-expectations", "results")
    assert (nothing.returncode, nothing.stdout) == (0, ""), nothing.stderr

    before = load_matrix(matrix)
    original = matrix.read_text()
    patch(matrix, DELETED, "")
    edited = matrix.read_text()
    assert migmatrix(copy, *gate).returncode == 1
    diff = migmatrix(copy, "update-expectations", "results")
    rules = [line[1:] for line in diff.stdout.splitlines() if line.startswith("+    - ")]
    assert len(rules) == 1, diff.stdout  # one feature rule, not one per state
    added = [line[1:] for line in diff.stdout.splitlines() if line.startswith("+      ")]
    assert added == [
        '      test: "test_ssot_namespace_conflicts.py::*"',
        "      unless: [ssot-engine]",
        "      outcome: fail",
        "      raises: AssertionError",
        added[-1],
    ]
    assert added[-1].startswith('      match: "SSOT VIOLATION')

    assert migmatrix(copy, "update-expectations", "results", "--write").returncode == 0
    assert migmatrix(copy, *gate).returncode == 0
    new_text = matrix.read_text()
    kept = comments(edited)
    assert [line for line in comments(new_text) if line in kept] == kept
    assert new_text.startswith(edited.split("\n    # golden_path, websocket")[0])
    # Equal in effect over every planned cell of the phase.
    after = load_matrix(matrix)
    test = "test_ssot_namespace_conflicts.py::test_x"
    for cell in plan_cells(before):
        old, _ = expectation_for(before, cell, test)
        new, _ = expectation_for(after, cell, test)
        assert (old.outcomes, old.raises) == (new.outcomes, new.raises), cell.id
    assert original != new_text
