"""`migmatrix explain CELL TEST` says so when the phase folder has no such test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

MATRIX = """\
python: ["3.12"]
phases: {reproduction: suites/reproduction}
adapters: {legacy: {object: "explainadapters:legacy"}}
envs: {unit: {}}
expect:
  default: pass
  rules:
    - {test: "test_bug.py::*", outcome: fail}
"""


def explain(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A process of its own: pytest imports the suite's modules by their base names.
    return subprocess.run(
        [sys.executable, "-m", "migmatrix", "explain", "reproduction/legacy/unit/py3.12", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow  # a migmatrix process per explain
def test_a_test_the_phase_does_not_have_is_named_with_the_closest(tmp_path: Path) -> None:
    (tmp_path / "matrix.yaml").write_text(MATRIX, encoding="utf-8")
    (tmp_path / "explainadapters.py").write_text("legacy = object()\n", encoding="utf-8")
    suite = tmp_path / "suites" / "reproduction"
    suite.mkdir(parents=True)
    (suite / "test_bug.py").write_text(
        "import pytest\n\ndef test_total(cell):\n    pass\n\n"
        "@pytest.mark.parametrize('n', [1, 2])\ndef test_each(cell, n):\n    pass\n",
        encoding="utf-8",
    )
    typo = explain(tmp_path, "test_bug.py::test_totl")
    assert typo.returncode == 2
    assert typo.stderr == (
        "migmatrix explain: error: test 'test_bug.py::test_totl' does not exist in phase "
        "'reproduction' (suites/reproduction/): pytest collects no such test there; did you "
        "mean test_bug.py::test_total? (test ids are FILE::NAME relative to the phase folder)\n"
    )
    for real in ("test_bug.py::test_total", "test_bug.py::test_each[2]", "test_bug.py::test_each"):
        found = explain(tmp_path, real)
        assert found.returncode == 0, found.stderr
        assert "winner: rule 0 -> fail" in found.stdout
