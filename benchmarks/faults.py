"""The fault table: how a matrix run ends under each fault, before and after, side by side.

Each fault is a small matrix project (one cell, `timeout: 2`, `memory: 512MiB` where the
code knows the key) with a passing test before and after the faulty one, run through
`migmatrix run` under `-n 2` and in one process (`--workers 0`):

- setup / call / teardown: a fixture or test that sleeps for ten minutes, where the
  alarm cannot reach (set-up, teardown) or swallows it (`except BaseException: pass`
  around the sleep, the "bare-except" row);
- c-call: one C call that holds the interpreter lock (`sum(itertools.repeat(...))`);
- import: a test module whose import retries a sleep in a bare `except:` loop;
- memory: an allocation without bound that swallows `MemoryError`;
- sigkill: SIGKILL to the whole run's process group while a test hangs, after three
  passed.

Every run is capped (`--cap` seconds, then its process group is killed) and held to a
4 GiB address space, so a fault the code does not bound still ends. A row says the wall
time, the records the results file kept, and the verdict: `ok` when the run ended by
itself with the faulty test's own record (`timeout`, or `crashed` past the memory
limit), the tests around it passed and nothing else was lost; for `sigkill`, `ok` when
the finished tests' records survived in a file the gate refuses as incomplete.

The baseline is main's code before issue 20's part 2 (commit c91f377, checked out as a
git worktree), or any folder holding a `src/migmatrix` given with `--baseline`:

    .venv/bin/python benchmarks/faults.py [--baseline DIR] [--cap 30] [--only FAULT,...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
BASE_COMMIT = "c91f377"
PY = f"{sys.version_info.major}.{sys.version_info.minor}"
LIMIT = 2

HEAD = """
import itertools, os, pathlib, time
import pytest

def test_a_before(cell):
    pass

def test_z_after(cell):
    pass
"""

FAULTS = {
    "setup": """
@pytest.fixture
def stuck():
    time.sleep(600)

def test_m_fault(cell, stuck):
    pass
""",
    "call": """
def test_m_fault(cell):
    time.sleep(600)
""",
    "teardown": """
@pytest.fixture
def stuck():
    yield
    time.sleep(600)

def test_m_fault(cell, stuck):
    pass
""",
    "bare-except": """
def test_m_fault(cell):
    while True:
        try:
            time.sleep(600)
        except:  # noqa: E722 - the fault under test
            pass
""",
    "c-call": """
def test_m_fault(cell):
    sum(itertools.repeat(1, 10**13))
""",
    "memory": """
def test_m_fault(cell):
    held = []
    while True:
        try:
            held.append(bytearray(64 << 20))
        except MemoryError:
            pass
""",
    "import": "",
    "sigkill": """
def test_m_fault(cell):
    pathlib.Path(os.environ["FAULTS_READY"]).write_text("running")
    time.sleep(600)
""",
}

HANGS_AT_IMPORT = """
import time
while True:
    try:
        time.sleep(600)
    except:  # noqa: E722 - the fault under test
        pass

def test_never(cell):
    pass
"""


def write_project(root: Path, fault: str, *, memory: bool) -> None:
    limit = "memory: 512MiB\n" if memory else ""
    (root / "matrix.yaml").write_text(
        f'python: ["{PY}"]\ntimeout: {LIMIT}\n{limit}phases: {{alpha: suites/alpha}}\n'
        'adapters: {old: {object: "adapters:adapter"}}\nenvs: {unit: {features: []}}\n'
    )
    (root / "adapters.py").write_text("adapter = 'old'\n")
    suites = root / "suites" / "alpha"
    suites.mkdir(parents=True)
    (suites / "test_fault.py").write_text(HEAD + FAULTS[fault])
    if fault == "import":
        (suites / "test_hangs.py").write_text(HANGS_AT_IMPORT)


def _limit_memory() -> None:
    os.setsid()
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def run_one(src: Path, fault: str, workers: str, cap: float, *, memory: bool) -> dict[str, str]:
    """Run one fault in a fresh project; the row of the table."""
    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        root = Path(folder)
        write_project(root, fault, memory=memory)
        ready = root / "ready"
        env = {**os.environ, "PYTHONPATH": str(src), "FAULTS_READY": str(ready)}
        argv = [sys.executable, "-m", "migmatrix", "run", "--workers", workers]
        argv += ["--", "-p", "no:cacheprovider", "-q"]
        started = time.monotonic()
        proc = subprocess.Popen(
            argv,
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_limit_memory,  # a new session and a memory cap
        )
        ended = "itself"
        try:
            if fault == "sigkill":
                while not ready.exists() and time.monotonic() - started < cap:
                    time.sleep(0.05)
                time.sleep(0.5)
                os.killpg(proc.pid, signal.SIGKILL)
                ended = "sigkill"
            proc.wait(timeout=max(cap - (time.monotonic() - started), 0.1))
        except subprocess.TimeoutExpired:
            ended = "cap"
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        wall = time.monotonic() - started
        return {"wall": f"{wall:.1f}", **judge(root, fault, ended)}


def judge(root: Path, fault: str, ended: str) -> dict[str, str]:
    # Imported from whichever migmatrix is first on the path: the branch's reader reads both.
    from migmatrix.errors import ResultsError
    from migmatrix.results import read_results

    path = root / "results" / f"py{PY}.jsonl"
    try:
        found = read_results(path)
    except (ResultsError, OSError):
        return {"records": "0", "verdict": f"no results file (ended: {ended})"}
    outcomes = {r.test.split("::")[-1].split("[")[0]: r.outcome.value for r in found.records}
    kept = str(len(found.records))
    around = outcomes.get("test_a_before") == "passed" and outcomes.get("test_z_after") == "passed"
    if fault == "sigkill":
        ok = outcomes.get("test_a_before") == "passed" and not found.complete
        return {"records": kept, "verdict": "ok" if ok else f"lost records ({outcomes})"}
    if ended == "cap":
        return {"records": kept, "verdict": "never ended: killed at the cap"}
    faulty = outcomes.get("test_hangs.py" if fault == "import" else "test_m_fault")
    wanted = "crashed" if fault == "memory" else "timeout"
    if faulty == wanted and around and found.complete:
        return {"records": kept, "verdict": "ok"}
    return {
        "records": kept,
        "verdict": f"fault recorded {faulty or 'nowhere'}, around {'kept' if around else 'LOST'}"
        f"{'' if found.complete else ', file incomplete'}",
    }


def baseline_dir(given: str | None) -> Path:
    if given:
        return Path(given).resolve()
    folder = Path(tempfile.gettempdir()) / f"migmatrix-faults-{BASE_COMMIT}"
    if not folder.exists():
        subprocess.run(
            ["git", "-C", str(HERE), "worktree", "add", "--detach", str(folder), BASE_COMMIT],
            check=True,
            capture_output=True,
        )
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a folder holding the baseline's src/migmatrix")
    parser.add_argument("--cap", type=float, default=30.0, help="seconds before a run is killed")
    parser.add_argument("--only", help="comma-separated faults (default: all)")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    faults = args.only.split(",") if args.only else list(FAULTS)
    codes = [("branch", HERE / "src", True)]
    if not args.skip_baseline:
        codes.insert(0, ("baseline", baseline_dir(args.baseline) / "src", False))
    print(f"timeout {LIMIT} s, memory 512MiB (branch only), cap {args.cap:g} s, Python {PY}")
    print(f"{'code':9} {'fault':12} {'mode':6} {'wall s':>7} {'records':>7}  verdict")
    for name, src, memory in codes:
        for fault in faults:
            for mode, workers in (("-n 2", "2"), ("-n 0", "0")):
                row = run_one(src, fault, workers, args.cap, memory=memory)
                print(
                    f"{name:9} {fault:12} {mode:6} {row['wall']:>7} {row['records']:>7}  "
                    f"{row['verdict']}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
