"""The watchdog's decisions, without processes: when it fires and which crash is a timeout."""

from __future__ import annotations

import types
from pathlib import Path

from migmatrix.plugin.record import CRASH_WHEN, RAW_ATTR
from migmatrix.plugin.watchdog import (
    as_recorded,
    phase_of,
    read_fired,
    running_thread,
    watchdog_path,
)
from migmatrix.timeouts import watchdog_delay

DUMP = (
    "Timeout (0:00:03)!\n"
    "Thread 0x1 (most recent call first):\n"
    '  File "execnet/gateway_base.py", line 1 in _thread_receiver\n'
    "\n"
    "Thread 0x2 (most recent call first):\n"
    '  File "suite.py", line 7 in stuck_resource\n'
    '  File "_pytest/fixtures.py", line 9 in call_fixture_func\n'
    '  File "_pytest/runner.py", line 9 in pytest_runtest_setup\n'
)


def test_the_watchdog_fires_past_the_limit_with_a_slack() -> None:
    assert watchdog_delay(1) == 3
    assert watchdog_delay(100) == 110


def test_only_a_dump_makes_a_timeout(tmp_path: Path) -> None:
    crash = types.SimpleNamespace(when=CRASH_WHEN, nodeid="t.py::a", longreprtext="crashed")
    assert as_recorded(crash, str(tmp_path), "gw0", 1.0) is crash  # no file: a plain crash
    watchdog_path(str(tmp_path), "gw0").write_text("")
    assert as_recorded(crash, str(tmp_path), "gw0", 1.0) is crash  # armed, never fired
    watchdog_path(str(tmp_path), "gw0").write_text(DUMP)
    timed_out = as_recorded(crash, str(tmp_path), "gw0", 1.0)
    raw = getattr(timed_out, RAW_ATTR)
    assert raw["outcome"] == "timeout"
    assert raw["when"] == "setup"  # read from the hook in the traceback
    assert "stuck_resource" in raw["message"]
    assert "_thread_receiver" not in raw["message"]  # only the thread that ran the test
    assert timed_out.when == "teardown"
    assert crash.when == CRASH_WHEN  # the original report is left to the other plugins


def test_a_memory_note_makes_a_crash_that_says_so(tmp_path: Path) -> None:
    note = tmp_path / "note"
    note.write_text("Memory limit (2 GiB) exceeded: 2.1 GiB resident in call\n" + DUMP[19:])
    fired = read_fired(note, 1.0)
    assert fired is not None
    assert fired.outcome.value == "crashed"
    assert fired.when == "call"
    assert fired.message.startswith("memory limit 2 GiB exceeded (2.1 GiB resident in call")


def test_a_hang_at_import_names_the_module(tmp_path: Path) -> None:
    note = tmp_path / "note"
    note.write_text("collect\tsuites/a/test_x.py\n" + DUMP)
    fired = read_fired(note, 2.0)
    assert fired is not None
    assert (fired.collecting, fired.when) == ("suites/a/test_x.py", "collect")


def test_the_phase_is_the_innermost_phase_hook() -> None:
    assert phase_of(DUMP) == "setup"
    assert phase_of(DUMP.replace("pytest_runtest_setup", "other")) == "a phase"


def test_a_dump_without_pytest_frames_is_kept_whole() -> None:
    dump = 'Timeout (0:00:03)!\nThread 0x1 (most recent call first):\n  File "x.py"\n'
    assert running_thread(dump) == dump
