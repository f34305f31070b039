"""`--reruns N`: every attempt recorded, mixed attempts judged `flaky`, never a silent pass.

Real runs of the toy migration (toy_migration.py) with pytest-rerunfailures under
`-n 2`, plus the pure steps (merge's split of attempts, the gate's flaky step).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from toy_migration import migmatrix, run_toy, write_toy

from migmatrix.attempts import split_attempts
from migmatrix.model import Record
from migmatrix.outcomes import Outcome
from migmatrix.results import read_results

# Seeded flakiness: the first attempt of a cell fails, every later one passes. The
# seed file lives in the project folder, so each run starts from the same state.
FLAKY = """\
from pathlib import Path


def test_sometimes(cell):
    seen = Path("seed") / cell.adapter
    seen.parent.mkdir(exist_ok=True)
    if not seen.exists():
        seen.write_text("first attempt")
        raise AssertionError(f"first attempt in {cell.adapter}")


def test_always_broken(cell):
    if cell.adapter == "old":
        raise AssertionError("broken every time")
"""

DECLARED = """\
    # A declared outcome set: either is fine, nothing is run again.
    - phase: golden
      test: "test_flaky.py::test_sometimes"
      outcome: [pass, fail]

    # golden: the default"""


@pytest.fixture
def flaky_toy(tmp_path: Path) -> Path:
    write_toy(tmp_path)
    (tmp_path / "suites" / "golden" / "test_flaky.py").write_text(FLAKY)
    return tmp_path


def records(folder: Path) -> list[Record]:
    (path,) = (folder / "results").glob("*.jsonl")
    found = read_results(path)
    assert found.complete, found.problems
    return list(found.records)


@pytest.mark.slow
@pytest.mark.usefixtures("no_ci_shard")
def test_a_seeded_flaky_test_is_flaky_with_its_attempts_under_xdist(flaky_toy: Path) -> None:
    done = run_toy(flaky_toy, "-n", "2", "--reruns", "2")
    assert "rerun" in done.stdout, done.stdout + done.stderr
    written = records(flaky_toy)
    sometimes = [r for r in written if r.test == "test_flaky.py::test_sometimes"]
    old = sorted((r for r in sometimes if "/old/" in r.cell), key=lambda r: r.attempt)
    assert [(r.attempt, r.outcome) for r in old] == [(1, Outcome.FAILED), (2, Outcome.PASSED)]
    broken = [r for r in written if r.test == "test_flaky.py::test_always_broken"]
    assert sorted(r.attempt for r in broken if "/old/" in r.cell) == [1, 2, 3]  # N = 2 reruns
    assert {r.attempt for r in broken if "/old/" not in r.cell} == {1}  # passed: run once

    gate = migmatrix(flaky_toy, "gate", "results", "--json", "g.json")
    assert gate.returncode == 1  # the always-broken test is a regression
    report = json.loads((flaky_toy / "g.json").read_text())
    flaky = [r for r in report["results"] if r["verdict"] == "flaky"]
    assert len(flaky) == 6  # every state's golden cell
    detail = next(r["detail"] for r in flaky if r["cell"].startswith("golden/old/"))
    assert detail == (
        "mixed outcomes over 2 attempts: attempt 1: failed (AssertionError: first attempt "
        "in old); attempt 2: passed"
    )
    regression = next(r for r in report["results"] if r["verdict"] == "regression")
    assert "attempt 3: failed" in regression["detail"]
    # Flakiness is a verdict, not an expectation: update-expectations leaves it alone.
    update = migmatrix(flaky_toy, "update-expectations", "results")
    assert "test_sometimes" not in update.stdout
    assert "test_sometimes: flaky over its attempts" in update.stderr
    assert "test_always_broken" in update.stdout


@pytest.mark.slow
@pytest.mark.usefixtures("no_ci_shard")
def test_fail_on_decides_whether_flakiness_fails(flaky_toy: Path) -> None:
    (flaky_toy / "suites" / "golden" / "test_flaky.py").write_text(
        FLAKY.split("\n\n\ndef test_always")[0] + "\n"
    )
    run_toy(flaky_toy, "-n", "2", "--reruns", "1")
    assert migmatrix(flaky_toy, "gate", "results").returncode == 0
    path = flaky_toy / "matrix.yaml"
    path.write_text(path.read_text().replace("fail_on: [regression", "fail_on: [flaky, regression"))
    assert migmatrix(flaky_toy, "gate", "results").returncode == 1


@pytest.mark.slow
@pytest.mark.usefixtures("no_ci_shard")
def test_declared_outcome_sets_are_not_run_again(flaky_toy: Path) -> None:
    path = flaky_toy / "matrix.yaml"
    path.write_text(path.read_text().replace("\n    # golden: the default", "\n" + DECLARED))
    run_toy(flaky_toy, "-p", "no:xdist", "--reruns", "2")
    sometimes = [r for r in records(flaky_toy) if r.test == "test_flaky.py::test_sometimes"]
    assert {r.attempt for r in sometimes} == {1}
    report = migmatrix(flaky_toy, "gate", "results", "--json", "g.json")
    verdicts = {r["verdict"] for r in json.loads((flaky_toy / "g.json").read_text())["results"]
                if r["test"] == "test_flaky.py::test_sometimes"}  # fmt: skip
    assert verdicts == {"flaky"}, report.stdout


@pytest.mark.usefixtures("no_ci_shard")
def test_reruns_below_zero_is_exit_2(tmp_path: Path) -> None:
    write_toy(tmp_path)
    run = migmatrix(tmp_path, "run", "--reruns", "-1")
    assert run.returncode == 2
    assert "--reruns: must be a whole number, 0 or more" in run.stderr
    direct = subprocess.run(
        [sys.executable, "-m", "pytest", "--matrix", "matrix.yaml", "--reruns", "-1",
         "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert direct.returncode == 4  # pytest's usage error
    assert "--reruns must be 0 or more, got -1" in direct.stderr


def test_merge_judges_the_worst_attempt_and_keeps_them_all() -> None:
    first = Record("c", "t", Outcome.FAILED, exc_type="E", message="m", attempt=1)
    last = Record("c", "t", Outcome.PASSED, attempt=2)
    other = Record("c", "u", Outcome.PASSED)
    judged, attempts = split_attempts([first, other, last])
    assert sorted(judged) == sorted([first, other])
    assert attempts == {("c", "t"): (first, last)}
    plain = [other]
    assert split_attempts(plain) == (plain, {})
