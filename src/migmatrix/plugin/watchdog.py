"""A hang the time limit cannot interrupt still ends: the worker dies, the test gets `timeout`.

`timeouts.time_limit` raises in the test's own thread, so it cannot stop a test
stuck in one long C call, a hang in fixture set-up or teardown, or a loop that
swallows the exception in a bare `except:`. This watchdog sits outside the stuck
thread: `faulthandler.dump_traceback_later(exit=True)` is a C thread that, past
`timeouts.watchdog_delay(limit)`, writes every thread's traceback and ends the
process. It is armed around each phase (set-up, call, teardown) of each test in an
xdist worker (`WorkerWatchdog`), in a file of the run's scratch folder named after
the worker, which first names the test and the phase.

xdist then reports the dead worker's running test as a crash (`when` "???"), starts
a new worker and goes on with the other tests, so no other result is lost. The
controller (`as_timeout`) finds the worker's file naming that test with a dump in
it, and records the test as a `timeout` carrying the traceback instead of a bare
crash.

Only in xdist workers: in a run of one process the same exit would end the
controller too, and with it the results of the whole run.
"""

from __future__ import annotations

import copy
import faulthandler
from collections.abc import Generator
from pathlib import Path
from typing import IO, Any

import pytest

from migmatrix.plugin.record import CRASH_WHEN, RAW_ATTR
from migmatrix.text import excerpt
from migmatrix.timeouts import QUALNAME, watchdog_delay

# What faulthandler writes first when its timer fires.
_DUMP_MARK = "Timeout ("


def watchdog_path(workdir: str, worker: str) -> Path:
    return Path(workdir) / f"watchdog-{worker}.txt"


class WorkerWatchdog:
    """Arms the faulthandler watchdog around each phase of each test of one worker."""

    def __init__(self, path: Path, limit: float) -> None:
        self.limit = limit
        self.delay = watchdog_delay(limit)
        # Open for the worker's life: faulthandler writes to its file descriptor.
        self._file: IO[str] = path.open("w", encoding="utf-8")

    def _arm(self, nodeid: str, when: str) -> None:
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{nodeid}\n{when}\n")
        self._file.flush()
        faulthandler.dump_traceback_later(self.delay, exit=True, file=self._file)

    def _guard(self, item: pytest.Item, when: str) -> Generator[None, None, None]:
        self._arm(item.nodeid, when)
        try:
            return (yield)
        finally:
            faulthandler.cancel_dump_traceback_later()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._guard(item, "setup"))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._guard(item, "call"))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, None, None]:
        return (yield from self._guard(item, "teardown"))

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        faulthandler.cancel_dump_traceback_later()
        self._file.close()


def stuck_dump(workdir: str | None, worker: str | None, nodeid: str) -> tuple[str, str] | None:
    """(phase, traceback) when `worker`'s watchdog fired while running `nodeid`, else None."""
    if workdir is None or worker is None:
        return None
    try:
        text = watchdog_path(workdir, worker).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    name, _, rest = text.partition("\n")
    when, _, dump = rest.partition("\n")
    if name != nodeid or not dump.startswith(_DUMP_MARK):
        return None
    return when, dump


def running_thread(dump: str) -> str:
    """The part of a faulthandler dump about the thread that ran the test (the one in
    pytest's frames), after the dump's first line; the whole dump if none is.

    A worker also has execnet's threads, whose tracebacks would push the stuck test's
    frames out of the recorded message.
    """
    first, _, threads = dump.partition("\n")
    for section in threads.split("\n\n"):
        if "_pytest" in section or "pluggy" in section:
            return f"{first}\n{section.strip()}"
    return dump


def as_timeout(report: Any, workdir: str | None, worker: str | None, limit: float) -> Any:
    """The report to record for a crashed worker's test: a `timeout` with the traceback when
    the watchdog killed the worker, else `report` itself (a crash of another cause).

    A copy: the terminal and other plugins still see xdist's crash report.
    """
    if getattr(report, "when", None) != CRASH_WHEN:
        return report
    found = stuck_dump(workdir, worker, report.nodeid)
    if found is None:
        return report
    when, dump = found
    dump = running_thread(dump)
    message = (
        f"test exceeded its time limit of {limit:g} s (matrix `timeout`) in {when} and did not "
        f"stop; the watchdog ended its worker after {watchdog_delay(limit):g} s:\n{dump}"
    )
    timed_out = copy.copy(report)
    # A teardown report closes the record in one step, as the crash report would have.
    timed_out.when = "teardown"
    raw = {"when": when, "outcome": "timeout", "exc_type": QUALNAME, "message": excerpt(message)}
    setattr(timed_out, RAW_ATTR, raw)
    return timed_out
