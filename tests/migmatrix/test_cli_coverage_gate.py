"""`migmatrix gate` and declared coverage rules: no data fails closed, a skip is reported."""

from __future__ import annotations

import json
from pathlib import Path

import coverage
import pytest
from gate_data import MATRIX, full_run

from migmatrix.cli import main
from migmatrix.load import load_matrix
from migmatrix.model import ResultsHeader
from migmatrix.outcomes import ExitCode
from migmatrix.results import write_results

RULES = """\
gates:
  coverage:
    - {name: legacy-unreached, files: ["src/legacy.py"], cells: "*/ssot/*/*", max_lines: 0}
    - {name: legacy-used, files: ["src/legacy.py"], cells: "*/deprecated/*/*", min_percent: 50}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for phase in ("reproduction", "golden_path"):
        (tmp_path / "suites" / phase).mkdir(parents=True)
    (tmp_path / "matrix.yaml").write_text(MATRIX + RULES, encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "legacy.py").write_text("def run():\n    return 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    matrix = load_matrix(tmp_path / "matrix.yaml")
    for python in matrix.python:
        header = ResultsHeader("r", python, "linux", matrix.digest, None, None, "2024-01-01T00:00Z")
        write_results(tmp_path / "results" / f"py{python}.jsonl", header, full_run(matrix, python))
    return tmp_path


def test_declared_rules_without_coverage_data_make_the_gate_incomplete(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gate", "results", "--json", "gate.json"]) == ExitCode.INCOMPLETE
    out = " ".join(capsys.readouterr().out.split())  # the report wraps at its width
    assert "coverage rule(s) (gates.coverage: legacy-unreached, legacy-used)" in out
    assert "--matrix-coverage" in out
    assert "--no-coverage-rules" in out
    assert "gate INCOMPLETE (exit 3)" in out
    report = json.loads((project / "gate.json").read_text(encoding="utf-8"))
    assert report["status"] == "incomplete"


def test_no_coverage_rules_skips_them_and_every_report_says_so(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # the width the closing line is judged at
    code = main(
        ["gate", "results", "--no-coverage-rules", "--json", "g.json", "--markdown", "g.md"]
    )
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    assert "not checked  legacy-unreached: not checked (--no-coverage-rules)" in out
    # The closing line is one line, short enough not to wrap; why is said above it.
    assert out.splitlines()[-1] == (
        "gate PASSED (exit 0): 12 as-expected, 4 reproduced; 2 coverage rule(s) not checked"
    )
    rules = json.loads((project / "g.json").read_text(encoding="utf-8"))["coverage"]["rules"]
    assert [(r["name"], r["skipped"]) for r in rules] == [
        ("legacy-unreached", True),
        ("legacy-used", True),
    ]
    assert "⚠️ not checked" in (project / "g.md").read_text(encoding="utf-8")


def test_a_failed_rule_is_named_in_the_closing_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project / "cov"
    folder.mkdir()
    data = coverage.CoverageData(basename=str(folder / ".coverage"), suffix="a")
    legacy = str(project / "src" / "legacy.py")
    data.set_context("golden_path/ssot/unit/py3.12")
    data.add_lines({legacy: [2]})
    data.set_context("golden_path/deprecated/unit/py3.12")
    data.add_lines({legacy: [2]})
    data.write()
    assert main(["gate", "results", "--coverage-dir", str(folder)]) == ExitCode.GATE_FAILED
    out = capsys.readouterr().out
    assert "FAILED  legacy-unreached: 1 file(s), 1 context(s)" in out
    assert "reached at src/legacy.py:2" in out
    assert " ".join(out.split()).endswith(
        "gate FAILED (exit 1): 12 as-expected, 4 reproduced; coverage rule(s) failed: "
        "legacy-unreached"
    )
