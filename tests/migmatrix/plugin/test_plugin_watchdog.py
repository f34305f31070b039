"""A hang the alarm cannot interrupt ends within the limit plus a slack, as a `timeout`.

Real xdist workers (slow): a fixture that hangs in set-up (where no alarm runs) and
a test that swallows the alarm's exception in a bare `except:` each get their
worker ended by the watchdog; the controller records a `timeout` carrying the
traceback, xdist starts a new worker, and every other test keeps its result.
"""

from __future__ import annotations

import sys
import time

import pytest
from pytester_matrix import records_of, write_project

from migmatrix.timeouts import watchdog_delay

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
pytestmark = [pytest.mark.usefixtures("no_ci_shard"), pytest.mark.slow]
LIMIT = 1.0

MATRIX = f"""
python: ["{PY}"]
timeout: {LIMIT}
phases: {{alpha: suites/alpha}}
adapters: {{old: {{object: "adapters.old:adapter"}}}}
envs: {{unit: {{features: []}}}}
"""

SUITE = """
import time
import pytest

@pytest.fixture
def stuck_resource():
    time.sleep(600)

def test_a_first(cell):
    pass

def test_hangs_in_setup(cell, stuck_resource):
    pass

def test_swallows_the_alarm(cell):
    while True:
        try:
            time.sleep(600)
        except BaseException:
            pass

def test_z_last(cell):
    pass
"""


def test_hangs_beyond_the_alarm_become_timeouts_and_lose_nothing_else(
    pytester: pytest.Pytester,
) -> None:
    write_project(pytester, MATRIX, {"alpha/test_w.py": SUITE})
    started = time.monotonic()
    result = pytester.runpytest_subprocess(
        "--matrix", "matrix.yaml", "-p", "no:cacheprovider", "-n", "2", timeout=300
    )
    elapsed = time.monotonic() - started
    records = records_of(pytester.path / "results" / f"py{PY}.jsonl")
    by_test = {test.split("::")[-1].split("[")[0]: r for (_, test), r in records.items()}
    outcomes = {name: r.outcome.value for name, r in by_test.items()}
    assert outcomes == {
        "test_a_first": "passed",
        "test_hangs_in_setup": "timeout",
        "test_swallows_the_alarm": "timeout",
        "test_z_last": "passed",
    }, result.stdout.str()
    setup = by_test["test_hangs_in_setup"].message
    assert "in setup" in setup
    assert "Timeout (" in setup
    assert "stuck_resource" in setup  # the traceback points at the hung fixture
    call = by_test["test_swallows_the_alarm"].message
    assert "in call" in call
    assert "test_swallows_the_alarm" in call
    # Each hang ends at its watchdog; far below the 600 s sleeps, even on a loaded machine.
    assert elapsed < 30 * watchdog_delay(LIMIT)
