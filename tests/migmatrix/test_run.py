"""The `run` step: the pytest command it builds, its exit codes, and real runs of a tiny matrix."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest

from migmatrix.cli import main
from migmatrix.errors import UsageError
from migmatrix.outcomes import ExitCode
from migmatrix.results import read_results
from migmatrix.run import (
    RunSummary,
    build_command,
    call_forwarding_signals,
    find_python,
    run_matrix,
    summarize,
)

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
pytestmark = pytest.mark.usefixtures("no_ci_shard")  # conftest.py: no CI may shard these runs


@pytest.mark.parametrize(
    ("kwargs", "tail"),
    [
        # defaults: all cells, xdist with as many workers as cores
        ({}, ["-n", "auto"]),
        # workers=0: in-process, xdist not even loaded
        ({"workers": 0}, ["-p", "no:xdist"]),
        # selection, shard, durations, manifest, coverage and pass-through args, in that order
        (
            {
                "cells": "alpha and new",
                "shard": "2/3",
                "durations": "old/",
                "manifest": "m.json",
                "workers": 2,
                "coverage_dir": "results/coverage",
                "extra_args": ["-x", "-q"],
            },
            [
                "--cells",
                "alpha and new",
                "--shard",
                "2/3",
                "--matrix-durations",
                "old/",
                "--matrix-manifest=m.json",
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


def write_tiny_matrix(folder: Path, *, extra_suite: str = "") -> None:
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
gates:
  coverage:
    - {{name: old-code-unreached-from-new, files: ["suites/alpha/oldcode.py"],
        cells: "*/new/*/*", max_lines: 0}}
"""
    )
    (folder / "tinyadapters.py").write_text(
        "def old():\n    return 1\n\ndef new():\n    return 2\n"
    )
    suite = folder / "suites" / "alpha"
    suite.mkdir(parents=True)
    (suite / "oldcode.py").write_text("def old_path():\n    return 1\n")
    (suite / "test_a.py").write_text(
        "def test_fix(cell):\n    assert cell.adapter_object() == 2\n\n"
        "def test_ok(cell):\n    pass\n" + extra_suite
    )


@pytest.mark.slow
def test_run_matrix_runs_pytest_and_writes_results_with_cell_coverage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tiny_matrix(tmp_path)
    monkeypatch.chdir(tmp_path)
    summary = run_matrix(
        "matrix.yaml", workers=0, coverage_dir="results/coverage", extra_args=["-q"]
    )
    # Expected failures are strict xfails, so pytest itself is green.
    assert (summary.pytest_code, summary.exit_code) == (0, ExitCode.OK)
    assert summary.results == tmp_path / "results" / f"py{PY}.jsonl"
    assert (summary.records, summary.complete, summary.shard) == (4, True, None)
    found = read_results(summary.results)
    assert found.complete
    assert {(r.cell, r.test, r.outcome.value) for r in found.records} == {
        (f"alpha/old/unit/py{PY}", "test_a.py::test_fix", "failed"),
        (f"alpha/old/unit/py{PY}", "test_a.py::test_ok", "passed"),
        (f"alpha/new/unit/py{PY}", "test_a.py::test_fix", "passed"),
        (f"alpha/new/unit/py{PY}", "test_a.py::test_ok", "passed"),
    }
    import coverage

    data_files = sorted((tmp_path / "results" / "coverage").rglob(".coverage.*"))
    assert data_files
    data = coverage.CoverageData(basename=str(data_files[0]))
    data.read()
    assert {f"alpha/old/unit/py{PY}", f"alpha/new/unit/py{PY}"} <= data.measured_contexts()
    adapters = str(tmp_path / "tinyadapters.py")
    data.set_query_contexts([f"alpha/new/unit/py{PY}"])
    assert data.lines(adapters) == [5]  # `return 2`: only the new adapter ran in its cell


@pytest.mark.slow
def test_cell_coverage_under_workers_feeds_the_gates_coverage_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The new cells call old() once a marker file exists: the coverage rule
    # "old code unreached from new cells" must then fail, from data measured in
    # two xdist workers, combined by the gate.
    write_tiny_matrix(
        tmp_path,
        extra_suite=(
            "\nimport os\nimport oldcode\n\ndef test_maybe_old(cell):\n"
            "    if os.environ.get('LEAK') and 'fixed' in cell.features:\n"
            "        oldcode.old_path()\n"
        ),
    )
    monkeypatch.chdir(tmp_path)
    import coverage

    verdicts = {}
    for leak in ("", "1"):
        monkeypatch.setenv("LEAK", leak)
        results = f"results{leak}"
        summary = run_matrix(
            "matrix.yaml", workers=2, coverage_dir=f"{results}/coverage", results_dir=results
        )
        assert summary.exit_code == ExitCode.OK
        folder = tmp_path / results / "coverage"
        files = sorted(folder.rglob(".coverage.*"))
        assert len(files) >= 2, "one data file per worker process"
        contexts: set[str] = set()
        for path in files:
            part = coverage.CoverageData(basename=str(path))
            part.read()
            contexts |= part.measured_contexts()
        # One dynamic context per cell id, whichever worker ran its tests.
        assert contexts - {""} == {f"alpha/old/unit/py{PY}", f"alpha/new/unit/py{PY}"}
        capsys.readouterr()
        code = main(["gate", results, "--coverage-dir", str(folder), "--json", f"{results}.json"])
        report = json.loads((tmp_path / f"{results}.json").read_text())
        (rule,) = report["coverage"]["rules"]
        assert rule["name"] == "old-code-unreached-from-new"
        verdicts[leak] = (code, rule["passed"])
    assert verdicts == {"": (ExitCode.OK, True), "1": (ExitCode.GATE_FAILED, False)}


@pytest.mark.slow
def test_run_matrix_passes_selection_and_shard_to_pytest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tiny_matrix(tmp_path)
    monkeypatch.chdir(tmp_path)
    summary = run_matrix(
        "matrix.yaml",
        cells="new",
        shard="1/1",
        results_dir="out",
        workers=0,
        pytest_args=["--run-id", "named"],
    )
    assert summary.exit_code == ExitCode.OK
    assert summary.results == tmp_path / "out" / "named.jsonl"
    lines = (tmp_path / "out" / "named.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    assert (header["selection"], header["shard"]) == ("new", "1/1")
    assert json.loads(lines[-1])["records"] == 2


@pytest.mark.slow
def test_unexpected_failures_still_exit_0_and_the_run_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # A regression makes pytest exit 1; the results file is complete, so `run`
    # exits 0 (nox must not skip the gate) and leaves the verdict to the gate.
    write_tiny_matrix(tmp_path, extra_suite="\ndef test_regressed(cell):\n    assert False\n")
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--workers", "0", "--", "-q", "-p", "no:cacheprovider"])
    out, _ = capfd.readouterr()
    assert code == ExitCode.OK
    line = out.strip().splitlines()[-1]
    assert line == (
        f"migmatrix run: pytest exited 1; results in results/py{PY}.jsonl "
        "(6 records, complete); the gate decides pass/fail"
    )
    assert main(["gate", "results", "--no-coverage-rules"]) == ExitCode.GATE_FAILED


@pytest.mark.slow
def test_a_pytest_usage_error_exits_2_and_says_no_results_were_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    write_tiny_matrix(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--workers", "0", "--cells", "nothing_like_this"])
    _, err = capfd.readouterr()
    assert code == ExitCode.USAGE
    assert "matches no cell" in err
    assert "migmatrix run: pytest exited 4; no results file was written; exit 2" in err
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_allow_empty_runs_nothing_for_a_selection_without_cells_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tiny_matrix(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--allow-empty", "--cells", "nothing_like_this"]) == ExitCode.OK
    assert "ran nothing" in capsys.readouterr().out
    assert not (tmp_path / "results").exists()
    # A malformed expression is still an error, not an empty selection.
    with pytest.raises(UsageError):
        run_matrix("matrix.yaml", cells="(new", allow_empty=True)


@pytest.mark.parametrize(
    ("summary", "code"),
    [
        (RunSummary(0, complete=True), ExitCode.OK),
        (RunSummary(1, complete=True), ExitCode.OK),  # tests failed: the gate judges
        (RunSummary(5, complete=True), ExitCode.OK),  # nothing collected: gate sees missing
        (RunSummary(2, complete=True), ExitCode.INCOMPLETE),  # interrupted
        (RunSummary(3, complete=True), ExitCode.INCOMPLETE),  # pytest internal error
        (RunSummary(1, complete=False), ExitCode.INCOMPLETE),  # damaged file
        (RunSummary(1), ExitCode.INCOMPLETE),  # no file at all
        (RunSummary(4), ExitCode.USAGE),
        (RunSummary(0, nothing_to_run=True), ExitCode.OK),
    ],
)
def test_exit_code_of_a_run(summary: RunSummary, code: ExitCode) -> None:
    assert summary.exit_code == code


def test_summarize_without_a_manifest_or_with_a_damaged_file(tmp_path: Path) -> None:
    assert summarize(1, tmp_path / "absent.json") == RunSummary(1)
    damaged = tmp_path / "r.jsonl"
    damaged.write_text('{"kind": "header"}\n{"kind": "record", "cell": \n')
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"results": str(damaged), "shard": None}))
    summary = summarize(0, manifest)
    assert summary.results == damaged
    assert summary.exit_code == ExitCode.INCOMPLETE


@pytest.mark.slow
def test_a_run_that_dies_leaves_an_incomplete_file_not_the_previous_complete_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first, complete run; then one whose only process dies in a test (in-process,
    # so nothing survives to write the final file). The earlier file must not stand in
    # for the dead run: the gate has to see an incomplete file (the journal) and exit 3.
    write_tiny_matrix(tmp_path)
    monkeypatch.chdir(tmp_path)
    first = run_matrix("matrix.yaml", workers=0, extra_args=["-q"])
    assert first.complete
    with (tmp_path / "suites" / "alpha" / "test_a.py").open("a") as suite:
        suite.write("\ndef test_dies(cell):\n    import os\n    os._exit(9)\n")
    second = run_matrix("matrix.yaml", workers=0, extra_args=["-q"])
    assert second.exit_code == ExitCode.INCOMPLETE
    found = read_results(tmp_path / "results" / f"py{PY}.jsonl")
    assert found.header is not None
    assert not found.complete
    # The journal keeps what finished before the death, and names the test that died.
    assert "test_dies" not in {r.test.split("::")[-1] for r in found.records}
    assert {test.split("::")[-1] for _cell, test, _ in found.unfinished} == {"test_dies"}
    code = main(["gate", "results", "--matrix", "matrix.yaml", "--python", PY])
    assert code == ExitCode.INCOMPLETE


@pytest.mark.slow
def test_coverage_data_of_an_earlier_run_is_not_combined_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parallel data files carry no run name: each run keeps its own folder and
    # empties it first, so a re-run replaces its data instead of adding to it.
    write_tiny_matrix(tmp_path)
    monkeypatch.chdir(tmp_path)
    run_matrix("matrix.yaml", workers=0, coverage_dir="results/coverage", extra_args=["-q"])
    folder = tmp_path / "results" / "coverage" / f"py{PY}"
    first = sorted(p.name for p in folder.glob(".coverage.*"))
    assert first
    run_matrix("matrix.yaml", workers=0, coverage_dir="results/coverage", extra_args=["-q"])
    second = sorted(p.name for p in folder.glob(".coverage.*"))
    assert second
    assert not set(first) & set(second)


@pytest.mark.slow  # starts a subprocess
def test_the_child_runs_with_forwarding_and_the_handlers_are_restored() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    # The child signals its parent (this process): the handler passes SIGTERM back to it.
    child = (
        "import os, signal, time; signal.signal(signal.SIGTERM, lambda *a: os._exit(42)); "
        "os.kill(os.getppid(), signal.SIGTERM); time.sleep(60)"
    )
    assert call_forwarding_signals([sys.executable, "-c", child]) == 42
    assert {s: signal.getsignal(s) for s in before} == before
