"""Every fault ends within its limit plus a slack, with its own record, and loses nothing else.

Real processes (slow), under `-n 2` and in one process, through `migmatrix run`: a
fixture that hangs in set-up (where no alarm runs), a call that holds the interpreter
lock in one C call, a test that swallows the alarm's exception in a bare `except:`, a
fixture that hangs in teardown, an allocation without bound past the `memory:` limit,
and a module that hangs at import in a bare `except:` loop. Each gets its worker (or
the one process) ended by the watchdog: the test is recorded `timeout` (or `crashed`,
"memory limit ... exceeded") with the traceback, the module an error of its file, and
the tests around them keep their results. In one process, `migmatrix run` resumes the
run after each fault (`plugin.resume`).
"""

from __future__ import annotations

import sys
import time

import pytest
from pytester_matrix import records_of, write_project

from migmatrix.plugin.watchdog import _ROOM
from migmatrix.run import run_matrix
from migmatrix.timeouts import watchdog_delay

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
pytestmark = [pytest.mark.usefixtures("no_ci_shard"), pytest.mark.slow]
LIMIT = 1.0

MATRIX = f"""
python: ["{PY}"]
timeout: {LIMIT}
memory: 256MiB
phases: {{alpha: suites/alpha}}
adapters: {{old: {{object: "adapters.old:adapter"}}}}
envs: {{unit: {{features: []}}}}
"""

SUITE = """
import itertools
import time
import pytest

@pytest.fixture
def stuck_resource():
    time.sleep(600)

@pytest.fixture
def stuck_teardown():
    yield
    time.sleep(600)

def test_a_first(cell):
    pass

def test_hangs_in_setup(cell, stuck_resource):
    pass

def test_holds_the_interpreter(cell):
    sum(itertools.repeat(1, 10**13))

def test_swallows_the_alarm(cell):
    while True:
        try:
            time.sleep(600)
        except BaseException:
            pass

def test_hangs_in_teardown(cell, stuck_teardown):
    pass

def test_takes_all_memory(cell):
    held = []
    while True:
        try:
            held.append(bytearray(32 << 20))
        except MemoryError:
            pass  # swallowed: must not become a pass

def test_z_last(cell):
    pass
"""

HANGS_AT_IMPORT = """
import time
while True:
    try:
        time.sleep(600)
    except BaseException:
        pass

def test_never(cell):
    pass
"""

FAULTS = 6  # the faulty tests and the module


@pytest.mark.parametrize("workers", ["2", "0"], ids=["xdist", "one-process"])
def test_every_fault_ends_as_its_own_record_and_loses_nothing_else(
    pytester: pytest.Pytester, workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(
        pytester, MATRIX, {"alpha/test_w.py": SUITE, "alpha/test_import.py": HANGS_AT_IMPORT}
    )
    monkeypatch.chdir(pytester.path)
    started = time.monotonic()
    summary = run_matrix("matrix.yaml", workers=workers, pytest_args=["-p", "no:cacheprovider"])
    elapsed = time.monotonic() - started
    assert summary.complete
    records = records_of(pytester.path / "results" / f"py{PY}.jsonl")
    by_test = {test.split("::")[-1].split("[")[0]: r for (_, test), r in records.items()}
    outcomes = {name: r.outcome.value for name, r in by_test.items()}
    assert outcomes == {
        "test_a_first": "passed",
        "test_hangs_in_setup": "timeout",
        "test_holds_the_interpreter": "timeout",
        "test_swallows_the_alarm": "timeout",
        "test_hangs_in_teardown": "timeout",
        "test_takes_all_memory": "crashed",
        "test_z_last": "passed",
        "test_import.py": "timeout",
    }
    assert "in setup" in by_test["test_hangs_in_setup"].message
    assert "stuck_resource" in by_test["test_hangs_in_setup"].message  # the traceback
    assert "in call" in by_test["test_holds_the_interpreter"].message
    assert "test_swallows_the_alarm" in by_test["test_swallows_the_alarm"].message
    assert "in teardown" in by_test["test_hangs_in_teardown"].message
    memory = by_test["test_takes_all_memory"].message
    assert memory.startswith("memory limit 256 MiB exceeded")
    assert "test_takes_all_memory" in memory
    assert "in collect" in by_test["test_import.py"].message
    # Each fault ends at its watchdog: far below the 600 s sleeps, even on a loaded machine.
    assert elapsed < FAULTS * 10 * (watchdog_delay(LIMIT) + _ROOM)
