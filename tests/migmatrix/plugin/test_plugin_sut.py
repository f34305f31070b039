"""The plugin's `sut` fixture opens the cell's adapter; without --matrix, `cell` says how to run."""

from __future__ import annotations

import sys

import pytest
from pytester_matrix import records_of, run

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
pytestmark = pytest.mark.usefixtures("no_ci_shard")  # conftest.py: no CI may shard these runs

MATRIX = f"""
python: ["{PY}"]
phases: {{alpha: suites/alpha}}
adapters:
  opened: {{object: "adapters.opened:adapter", features: [fixed]}}
  plain: {{object: "adapters.plain:adapter", features: []}}
envs: {{unit: {{}}}}
"""

OPENED = """
import contextlib

class Pricing:
    opened = []

    @contextlib.contextmanager
    def open(self, cell):
        Pricing.opened.append(cell.id)
        yield {"state": cell.adapter, "fixed": "fixed" in cell.features}
        Pricing.opened.remove(cell.id)

adapter = Pricing()
"""

SUITE = """
def test_sut_is_what_open_yields_or_the_adapter(cell, sut):
    if cell.adapter == "opened":
        assert sut == {"state": "opened", "fixed": True}
        assert type(cell.adapter_object).opened == [cell.id]
    else:
        assert sut == "plain adapter"
"""


def test_sut_enters_open_when_the_adapter_has_it(pytester: pytest.Pytester) -> None:
    (pytester.path / "matrix.yaml").write_text(MATRIX)
    adapters = pytester.mkpydir("adapters")
    (adapters / "opened.py").write_text(OPENED)
    (adapters / "plain.py").write_text("adapter = 'plain adapter'\n")
    (pytester.path / "suites" / "alpha").mkdir(parents=True)
    (pytester.path / "suites" / "alpha" / "test_a.py").write_text(SUITE)
    result = run(pytester, "serial")
    assert result.ret == 0, result.stdout.str()
    records = records_of(pytester.path / "results" / f"py{PY}.jsonl")
    assert {(cell, r.outcome.value) for (cell, _), r in records.items()} == {
        (f"alpha/opened/unit/py{PY}", "passed"),
        (f"alpha/plain/unit/py{PY}", "passed"),
    }


def test_a_suite_run_without_matrix_is_told_to_use_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_s="def test_x(cell):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*fixture 'cell' not found*",
            "migmatrix: the `cell` fixture (and `sut`) exists only in a matrix run: run "
            "`pytest --matrix matrix.yaml` (or `migmatrix run`, `nox -s matrix`)",
        ]
    )
