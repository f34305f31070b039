"""A run killed from outside keeps every record it had, and the gate says what is missing.

Real processes (slow): a pytest controller, one process or `-n 2`, runs a matrix of
two cells whose fourth test signals that it runs and then hangs. The test kills the
controller's whole process group with SIGKILL: nothing gets to clean up or write. The
results file, a journal while the run was under way, still holds every record of the
tests that finished; the gate then judges the file incomplete (exit 3) and lists, per
cell, what was recorded and what was not, and which test was running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytester_matrix import write_project

from migmatrix.cli import main
from migmatrix.outcomes import ExitCode
from migmatrix.results import read_results

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
pytestmark = [pytest.mark.usefixtures("no_ci_shard"), pytest.mark.slow]

MATRIX = f"""
python: ["{PY}"]
phases: {{alpha: suites/alpha}}
adapters: {{old: {{object: "adapters.old:adapter"}}, new: {{object: "adapters.new:adapter"}}}}
envs: {{unit: {{features: []}}}}
"""

SUITE = """
import os, pathlib, time

def test_1(cell): pass
def test_2(cell): pass
def test_3(cell): pass

def test_4_hangs(cell):
    pathlib.Path(os.environ["I20_READY"]).write_text("running")
    time.sleep(600)

def test_5(cell): pass
"""


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["one", "xdist"])
def test_sigkill_to_the_whole_run_keeps_every_finished_record(
    pytester: pytest.Pytester, workers: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(pytester, MATRIX, {"alpha/test_j.py": SUITE})
    ready = pytester.path / "ready"
    argv = [sys.executable, "-m", "pytest", "--matrix", "matrix.yaml", "-p", "no:cacheprovider"]
    env = {**os.environ, "I20_READY": str(ready)}
    proc = subprocess.Popen(
        [*argv, *workers, "-q"],
        cwd=pytester.path,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the hanging test never started"
        time.sleep(0.5)  # the other worker's tests, if any, finish meanwhile
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    path = pytester.path / "results" / f"py{PY}.jsonl"
    found = read_results(path)
    assert not found.complete
    recorded = {(r.cell.split("/")[1], r.test.split("::")[1]) for r in found.records}
    assert all(r.outcome.value == "passed" for r in found.records)
    # In one process, tests run in order: 1-3 of the first cell before its 4th hung.
    assert {("old", "test_1"), ("old", "test_2"), ("old", "test_3")} <= recorded or {
        ("new", "test_1"),
        ("new", "test_2"),
        ("new", "test_3"),
    } <= recorded
    assert {cell.split("/")[1] for cell in found.collected} == {"old", "new"}
    running = {(c.split("/")[1], t.split("::")[1]) for c, t, _ in found.unfinished}
    assert any(test == "test_4_hangs" for _, test in running)
    capsys.readouterr()
    code = main(["gate", str(path), "--matrix", str(pytester.path / "matrix.yaml")])
    out = capsys.readouterr().out
    assert code == ExitCode.INCOMPLETE
    assert "test_4_hangs began and has no record" in " ".join(out.split())
    assert "collected tests recorded; not recorded:" in " ".join(out.split())


def test_the_final_file_is_the_same_bytes_for_the_same_data(pytester: pytest.Pytester) -> None:
    """The journal only lives while the run does: two complete runs with one run id write
    files that differ only in their times."""
    write_project(pytester, MATRIX, {"alpha/test_j.py": SUITE.split("def test_4")[0]})
    texts = []
    for _ in range(2):
        result = pytester.runpytest_subprocess(
            "--matrix",
            "matrix.yaml",
            "-p",
            "no:xdist",
            "--run-id",
            "same",
            "-p",
            "no:cacheprovider",
        )
        result.assert_outcomes(passed=6)
        text = (pytester.path / "results" / "same.jsonl").read_text()
        assert '"began"' not in text
        texts.append(_without_times(text))
    assert texts[0] == texts[1]


def _without_times(text: str) -> str:
    import json

    lines = []
    for line in text.splitlines():
        obj = json.loads(line)
        for key in ("started", "finished", "duration", "platform"):
            obj.pop(key, None)
        lines.append(json.dumps(obj, sort_keys=True))
    return "\n".join(lines)


def test_an_unfinished_journal_names_the_watchdog_note(tmp_path: Path) -> None:
    """Unit level: what the reader says of a journal cut off by the watchdog."""
    header = (
        '{"kind": "header", "schema": "migmatrix-results/2", "run_id": "r", "python": "3.12",'
        ' "platform": "p", "matrix_digest": "d", "selection": null, "shard": null,'
        ' "started": "s"}\n'
    )
    collected = '{"kind": "collected", "cell": "c", "tests": ["t::a", "t::b", "t::c"]}\n'
    record = (
        '{"attempt": 1, "cell": "c", "duration": 0.1, "exc_type": null, "kind": "record",'
        ' "message": null, "nodeid": "n::a", "outcome": "passed", "test": "t::a", "worker": null}\n'
    )
    began = '{"cell": "c", "kind": "began", "nodeid": "n::b", "test": "t::b"}\n'
    path = tmp_path / "py3.12.jsonl"
    path.write_text(header + collected + record + began)
    (tmp_path / ".py3.12.jsonl.watchdog").write_text("Timeout (0:00:04)!\nThread 0x1:\n")
    found = read_results(path)
    assert [r.test for r in found.records] == ["t::a"]
    assert found.unfinished == (("c", "t::b", "n::b"),)
    text = "\n".join(found.problems)
    assert "c :: t::b began and has no record: the watchdog ended the run (Timeout" in text
    assert "cell c: 1 of 3 collected tests recorded; not recorded: t::b, t::c" in text
