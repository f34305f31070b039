"""The `migmatrix` command: gate, plan, explain, schema, run; exit codes; errors as one line."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gate_data import full_run, write_project

from migmatrix.cli import build_parser, main
from migmatrix.load import load_matrix
from migmatrix.model import Record, ResultsHeader
from migmatrix.outcomes import ExitCode, Outcome
from migmatrix.results import write_results


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


def write_run(project: Path, python: str, *, break_one: bool = False) -> Path:
    matrix = load_matrix(project / "matrix.yaml")
    records = full_run(matrix, python, duration=0.1)
    if break_one:
        records[-1] = Record(records[-1].cell, records[-1].test, Outcome.FAILED, 0.1, "KeyError")
    header = ResultsHeader("r", python, "linux", matrix.digest, None, None, "2024-01-01T00:00:00Z")
    path = project / "results" / f"py{python}.jsonl"
    write_results(path, header, records)
    return path


def test_gate_passes_and_writes_every_report(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_run(project, "3.12")
    write_run(project, "3.13")
    code = main(["gate", "results", "--json", "r.json", "--junit", "j.xml", "--markdown", "s.md"])
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    assert "gate PASSED (exit 0)" in out
    assert json.loads((project / "r.json").read_text(encoding="utf-8"))["status"] == "passed"
    assert ET.parse(project / "j.xml").getroot().get("tests") == "16"
    assert (project / "s.md").read_text(encoding="utf-8").startswith("## migmatrix gate: ✅ passed")


def test_a_python_that_never_ran_is_missing_unless_narrowed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_run(project, "3.12")
    assert main(["gate", "results"]) == ExitCode.GATE_FAILED
    out = capsys.readouterr().out
    # the four cells of 3.13 are two causes, by what each cell expected
    assert "  missing (3)  *\n      expected pass, got no result\n" in out
    assert (
        "missing (1) * expected fail raises AssertionError match /SSOT/, got no result "
        "no results for this cell, whose tests expect fail raises AssertionError match /SSOT/ "
        "reproduction/deprecated/unit/py3.13"
    ) in " ".join(out.split())
    assert main(["gate", "results", "--python", "3.12"]) == ExitCode.OK


def test_a_regression_fails_and_the_step_summary_is_appended(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_run(project, "3.12", break_one=True)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(project / "summary.md"))
    assert main(["gate", "results", "--python", "3.12"]) == ExitCode.GATE_FAILED
    assert "regression" in capsys.readouterr().out
    assert "❌ failed" in (project / "summary.md").read_text(encoding="utf-8")


def test_an_incomplete_file_exits_3(project: Path) -> None:
    path = write_run(project, "3.12")
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    assert main(["gate", "results", "--python", "3.12"]) == ExitCode.INCOMPLETE


def test_errors_become_one_line_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gate", "nowhere/"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("migmatrix gate: error: results path 'nowhere/' does not exist")
    (project / "bad.jsonl").write_text("not json\n", encoding="utf-8")
    assert main(["gate", "bad.jsonl"]) == ExitCode.USAGE
    assert "not a migmatrix results file" in capsys.readouterr().err
    assert main(["plan", "--python", "2.7"]) == ExitCode.USAGE
    assert "python 2.7 is not in the matrix" in capsys.readouterr().err
    assert main(["explain", "reproduction/deprecated/unit/py3.21"]) == ExitCode.USAGE
    assert "did you mean reproduction/deprecated/unit/py3.1" in capsys.readouterr().err


def test_plan_lists_cells_json_and_ci_jobs(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--python", "3.12"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "reproduction/deprecated/unit/py3.12",
        "reproduction/ssot/unit/py3.12",
        "golden_path/deprecated/unit/py3.12",
        "golden_path/ssot/unit/py3.12",
    ]
    assert main(["plan", "--json", "--cells", "golden_path/ssot/*"]) == 0
    cells = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in cells] == [
        "golden_path/ssot/unit/py3.12",
        "golden_path/ssot/unit/py3.13",
    ]
    assert cells[0]["features"] == ["in-memory", "ssot-engine"]
    assert main(["plan", "--ci-jobs", "--shards", "2"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "include": [
            {"python": py, "environment": "default", "session": f"run-{py}", "shard": shard}
            for py in ("3.12", "3.13")
            for shard in ("1/2", "2/2")
        ]
    }


def test_explain_names_the_rule(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "reproduction/deprecated/unit/py3.12", "t.py::a"]) == 0
    out = capsys.readouterr().out
    assert "reproduction/deprecated/unit/py3.12" in out
    assert "fail" in out


def test_schema_prints_the_matrix_schema(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert "properties" in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("command", ["run", "gate", "plan", "explain", "check", "schema"])
def test_every_help_has_an_example_that_names_the_command(command: str) -> None:
    sub = build_parser()._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    assert f"migmatrix {command}" in (sub.epilog or "")


def test_console_entry_runs_as_a_module(project: Path) -> None:
    # A real process: `python -m migmatrix` with the exit code passed through.
    write_run(project, "3.12", break_one=True)
    done = subprocess.run(
        [sys.executable, "-m", "migmatrix", "gate", "results", "--python", "3.12"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == ExitCode.GATE_FAILED
    assert "gate FAILED (exit 1)" in done.stdout


def test_two_gates_over_the_same_results_write_the_same_bytes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every report is a function of the data: nothing from the gate's own clock
    # (the run time shown is the span written in the results files).
    write_run(project, "3.12")
    write_run(project, "3.13")
    outputs = []
    for name in ("a", "b"):
        args = ["gate", "results", "--json", f"{name}.json", "--junit", f"{name}.xml"]
        args += ["--markdown", f"{name}.md", "--html", f"{name}.html"]
        assert main(args) == ExitCode.OK
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    for suffix in ("json", "xml", "md", "html"):
        assert (project / f"a.{suffix}").read_bytes() == (project / f"b.{suffix}").read_bytes()


def test_the_run_time_is_the_span_written_in_the_results_files(project: Path) -> None:
    matrix = load_matrix(project / "matrix.yaml")
    for python, started, finished in (
        ("3.12", "2024-01-01T00:00:00+00:00", "2024-01-01T00:01:00+00:00"),
        ("3.13", "2024-01-01T00:00:30+00:00", "2024-01-01T00:02:30.500+00:00"),
    ):
        header = ResultsHeader("r", python, "linux", matrix.digest, None, None, started)
        records = full_run(matrix, python)
        write_results(project / "results" / f"py{python}.jsonl", header, records, finished=finished)
    assert main(["gate", "results", "--json", "r.json"]) == ExitCode.OK
    report = json.loads((project / "r.json").read_text(encoding="utf-8"))
    assert report["run_seconds"] == 150.5
