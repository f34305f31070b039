"""A --cells run never silently replaces the complete results of a wider run under the same name."""

from __future__ import annotations

import sys

import pytest
from pytester_matrix import records_of, run

from migmatrix.results import read_results

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
pytestmark = pytest.mark.usefixtures("no_ci_shard")  # conftest.py: no CI may shard these runs

MATRIX = f"""
python: ["{PY}"]
phases: {{alpha: suites/alpha}}
adapters:
  old: {{object: "adapters.old:adapter"}}
  new: {{object: "adapters.new:adapter"}}
envs: {{unit: {{}}}}
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    (pytester.path / "matrix.yaml").write_text(MATRIX)
    adapters = pytester.mkpydir("adapters")
    for name in ("old", "new"):
        (adapters / f"{name}.py").write_text(f"adapter = {name!r}\n")
    (pytester.path / "suites" / "alpha").mkdir(parents=True)
    (pytester.path / "suites" / "alpha" / "test_a.py").write_text("def test_a(cell):\n    pass\n")
    return pytester


def test_a_selection_refuses_to_replace_a_full_run(project: pytest.Pytester) -> None:
    results = project.path / "results" / f"py{PY}.jsonl"
    assert run(project, "serial").ret == 0
    full = results.read_bytes()
    assert len(records_of(results)) == 2

    refused = run(project, "serial", "--cells", "*/old/*")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(
        [
            f"*{results} holds the complete results of every planned cell (2 records); "
            "this --cells '*/old/*' run would replace them. Write it elsewhere "
            "(--results-dir DIR or --run-id NAME), or pass --overwrite-results*"
        ]
    )
    assert results.read_bytes() == full

    # The same selection again replaces its own file; --overwrite-results replaces any.
    assert run(project, "serial", "--cells", "*/old/*", "--overwrite-results").ret == 0
    assert read_results(results).header.selection == "*/old/*"
    assert run(project, "serial", "--cells", "*/old/*").ret == 0
    assert run(project, "serial", "--cells", "*/new/*").ret == pytest.ExitCode.USAGE_ERROR
    assert run(project, "serial").ret == 0  # a full run replaces a selection's file
