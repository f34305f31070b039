"""Driving the pytest plugin black-box with pytester: shared by the plugin tests.

A synthetic matrix project is written into pytester's folder (matrix.yaml, three
one-line adapters and the suite files), run in process (`serial`: fast) or with
real xdist workers (`xdist`), and its results file read back keyed by
(cell, test).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from migmatrix.results import read_results

MODES = {"serial": ["-p", "no:xdist"], "xdist": ["-n", "2"]}


def write_project(pytester: pytest.Pytester, matrix: str, suites: Mapping[str, str]) -> Path:
    """matrix.yaml, adapters old/partial/new and each suite file (path under suites/)."""
    (pytester.path / "matrix.yaml").write_text(matrix)
    adapters = pytester.mkpydir("adapters")
    for name in ("old", "partial", "new"):
        (adapters / f"{name}.py").write_text(f"adapter = {name!r}\n")
    for rel, text in suites.items():
        path = pytester.path / "suites" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pytester.path / "matrix.yaml"


def run(pytester: pytest.Pytester, mode: str, *args: str) -> pytest.RunResult:
    argv = ["--matrix", "matrix.yaml", "-p", "no:cacheprovider", *MODES[mode], *args]
    if mode == "serial":
        return pytester.runpytest_inprocess(*argv)
    return pytester.runpytest_subprocess(*argv)


def records_of(path: Path) -> dict[tuple[str, str], Any]:
    found = read_results(path)
    assert found.complete, found.problems
    return {r.key: r for r in found.records}


# The modes as test parameters: a real xdist run starts subprocesses, so it is slow.
MODE_PARAMS = [pytest.param("serial"), pytest.param("xdist", marks=pytest.mark.slow)]
