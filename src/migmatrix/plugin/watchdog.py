"""A hang the time limit cannot interrupt, or a test past its memory limit, still ends.

`timeouts.time_limit` raises in the test's own thread, so it cannot stop a test
stuck in one long C call that holds the interpreter, a hang in fixture set-up or
teardown, or a loop that swallows the exception in a bare `except:`. This
watchdog sits outside the stuck thread, in every process that runs tests (each
xdist worker, or the one process of `-n 0` / `-p no:xdist`):

- Time. `faulthandler.dump_traceback_later(exit=True)` is a C thread that needs no
  interpreter lock: past its delay it writes every thread's traceback to the
  watchdog file and ends the process. Arming it costs a thread start (about 45 µs),
  so it is not re-armed at every phase: at a phase's start it is re-armed only when
  the armed deadline is earlier than the phase needs (`watchdog_delay(limit)` from
  now), and then with `_ROOM` more, so a run of short tests re-arms about once per
  `_ROOM` seconds. A phase therefore ends at most `watchdog_delay(limit) + _ROOM`
  after it started. Between tests nothing may fire: the monitor thread (`_Monitor`)
  cancels the timer when it comes due while no test runs (an xdist worker waiting
  for work).
- Memory. With a `memory:` limit for the running test's cell, the monitor samples
  the process's resident size (/proc/self/statm) every `_SAMPLE` seconds; past the
  limit it writes why, and every thread's traceback, to the watchdog file and ends
  the process. A process ended, not an exception raised: a `MemoryError` could be
  swallowed by the test and turn into a pass.
- Collection. Importing each test module runs under the same time limit (the
  alarm first, the watchdog behind it), so a module that hangs at import is an
  error of that file, not a run that never ends.

Then, under xdist, xdist reports the dead worker's running test as a crash (`when`
"???"), starts a new worker and goes on, so no other result is lost; the
controller (`as_recorded`) reads the dead worker's file and records the test as a
`timeout` (or `crashed`, "memory limit ... exceeded") carrying the traceback. In a
run of one process, the process itself ends: its results file is a journal
(`journal`) whose last "began" line names the test, and its watchdog file sits
beside it (`results.sidecar`); `migmatrix run` starts the run again where it
stopped (`resume`), which records that test from the file and runs the rest.
"""

from __future__ import annotations

import copy
import dataclasses
import faulthandler
import os
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import IO, Any

import pytest

from migmatrix.outcomes import Outcome
from migmatrix.plugin.record import CRASH_WHEN, RAW_ATTR
from migmatrix.sizes import format_size
from migmatrix.text import excerpt
from migmatrix.timeouts import QUALNAME, time_limit, watchdog_delay

# What faulthandler writes first when its timer fires.
_DUMP_MARK = "Timeout ("
_MEMORY_MARK = "Memory limit ("
_COLLECT_MARK = "collect\t"
# How much later than needed the timer may be armed, so that it is re-armed rarely.
_ROOM = 1.0
# How often the monitor samples the resident size while a memory limit applies.
_SAMPLE = 0.05
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# The hooks that run a phase, as they appear in a traceback.
_PHASE_FRAMES = (
    ("in pytest_runtest_setup", "setup"),
    ("in pytest_runtest_call", "call"),
    ("in pytest_runtest_teardown", "teardown"),
)


def watchdog_path(workdir: str, worker: str) -> Path:
    return Path(workdir) / f"watchdog-{worker}.txt"


def resident_bytes(statm: int) -> int | None:
    """The resident size of this process, from an open /proc/self/statm; None if unreadable."""
    try:
        fields = os.pread(statm, 128, 0).split()
        return int(fields[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class WorkerWatchdog:
    """The time and memory watchdog of one process that runs tests.

    `memory_of(item)` gives the memory limit in bytes for a test (None: none).
    """

    def __init__(
        self,
        path: Path,
        limit: float | None,
        memory_of: Callable[[pytest.Item], int | None],
        *,
        rearm_always: bool = False,
    ) -> None:
        # pytest's own `faulthandler_timeout` cancels the one process-wide timer after
        # each test: then the lazy re-arming would trust a timer that is gone.
        self.rearm_always = rearm_always
        self.limit = limit  # None: memory only, no time limit (`--matrix-timeout 0`)
        self.delay = watchdog_delay(limit) if limit is not None else 0.0
        self.memory_of = memory_of
        self.path = path
        # Open for the process's life: faulthandler writes to its file descriptor.
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self._lock = threading.Lock()
        self._armed_until: float | None = None
        self._busy = False
        self.phase = ""
        self.memory: int | None = None
        self._monitor = _Monitor(self)
        self._monitor.start()

    # ------------------------------------------------------------------ time

    def _enter(self, phase: str) -> None:
        self.phase = phase
        if self.limit is None:
            self._busy = True
            return
        now = time.monotonic()
        with self._lock:
            self._busy = True
            armed = self._armed_until
            if armed is None or armed < now + self.delay or self.rearm_always:
                faulthandler.dump_traceback_later(self.delay + _ROOM, exit=True, file=self._file)
                self._armed_until = now + self.delay + _ROOM

    def cancel_if_idle(self, now: float, *, force: bool = False) -> None:
        """Cancel the timer when no test runs (the monitor calls this as it comes due)."""
        with self._lock:
            if self._armed_until is not None and (force or not self._busy):
                faulthandler.cancel_dump_traceback_later()
                self._armed_until = None

    @property
    def armed_until(self) -> float | None:
        return self._armed_until

    @property
    def busy(self) -> bool:
        return self._busy

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.memory = self.memory_of(item)
        if self.memory is not None:
            self._monitor.wake()
        self._enter("setup")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        self._enter("call")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        self._enter("teardown")

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self._busy = False
        self.phase = ""

    # ------------------------------------------------------------------ collection

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator[None, Any, Any]:
        if not isinstance(collector, pytest.Module) or self.limit is None:
            return (yield)
        # The module is imported inside this call: bounded like a test's phase.
        with self._lock:
            self._file.seek(0)
            self._file.truncate()
            self._file.write(f"{_COLLECT_MARK}{collector.nodeid}\n")
            self._file.flush()
            self._busy = True
            faulthandler.dump_traceback_later(self.delay, exit=True, file=self._file)
            self._armed_until = time.monotonic() + self.delay
        try:
            with time_limit(self.limit):
                return (yield)
        finally:
            with self._lock:
                faulthandler.cancel_dump_traceback_later()
                self._armed_until = None
                self._busy = False
                self._file.seek(0)
                self._file.truncate()
                self._file.flush()

    # ------------------------------------------------------------------ memory

    def over_memory(self, resident: int, limit: int) -> None:
        """End this process: a test went past its memory limit (from the monitor thread)."""
        with self._lock:
            self._file.write(
                f"{_MEMORY_MARK}{format_size(limit)}) exceeded: {format_size(resident)} "
                f"resident in {self.phase or 'a phase'}\n"
            )
            self._file.flush()
            faulthandler.dump_traceback(file=self._file, all_threads=True)
            self._file.flush()
            os._exit(1)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._monitor.stop()
        self.cancel_if_idle(time.monotonic(), force=True)
        self._file.close()
        # An empty file is a run that was never stopped; only a dump is worth keeping.
        try:
            if self.path.stat().st_size == 0:
                self.path.unlink()
        except OSError:
            pass


class _Monitor(threading.Thread):
    """Cancels the time watchdog between tests and samples memory during them."""

    def __init__(self, owner: WorkerWatchdog) -> None:
        super().__init__(name="migmatrix-watchdog", daemon=True)
        self.owner = owner
        self._event = threading.Event()
        self._stopped = False
        try:
            self._statm: int | None = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            self._statm = None

    def wake(self) -> None:
        self._event.set()

    def stop(self) -> None:
        self._stopped = True
        self._event.set()

    def run(self) -> None:
        owner = self.owner
        while not self._stopped:
            now = time.monotonic()
            armed = owner.armed_until
            wait = 3600.0 if armed is None else armed - _ROOM / 2 - now
            if armed is not None and wait <= 0:
                owner.cancel_if_idle(now)
                wait = _SAMPLE  # busy near its deadline: look again shortly
            limit = owner.memory if owner.busy else None
            if limit is not None and self._statm is not None:
                resident = resident_bytes(self._statm)
                if resident is not None and resident > limit:
                    owner.over_memory(resident, limit)
                wait = min(wait, _SAMPLE)
            self._event.wait(max(wait, 0.005))
            self._event.clear()
        if self._statm is not None:
            os.close(self._statm)


# --------------------------------------------------------------------------- reading


@dataclasses.dataclass(frozen=True)
class Fired:
    """What a watchdog file says ended its process: `outcome`, the phase, the message."""

    outcome: Outcome
    when: str
    message: str
    collecting: str | None = None  # the module's node id when it died at import


def read_fired(path: Path, limit: float) -> Fired | None:
    """The watchdog file's verdict, or None when it holds no dump (nothing fired)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    collecting = None
    if text.startswith(_COLLECT_MARK):
        first, _, text = text.partition("\n")
        collecting = first[len(_COLLECT_MARK) :]
    if text.startswith(_DUMP_MARK):
        when = "collect" if collecting else phase_of(text)
        message = (
            f"test exceeded its time limit of {limit:g} s (matrix `timeout`) in {when} and did "
            f"not stop; the watchdog ended its process:\n{running_thread(text)}"
        )
        return Fired(Outcome.TIMEOUT, when, excerpt(message) or "", collecting)
    if text.startswith(_MEMORY_MARK):
        first, _, dump = text.partition("\n")
        what = first[len(_MEMORY_MARK) :]
        size, _, rest = what.partition(") exceeded: ")
        when = rest.rpartition(" in ")[2] or "a phase"
        message = (
            f"memory limit {size} exceeded ({rest}; matrix `memory`); the watchdog ended "
            f"its process:\n{running_thread(chr(10) + dump).strip()}"
        )
        return Fired(Outcome.CRASHED, when, excerpt(message) or "", collecting)
    return None


def phase_of(dump: str) -> str:
    """The phase a traceback was in: the innermost of pytest's phase hooks it shows."""
    section = running_thread(dump)
    for line in section.splitlines():
        for frame, phase in _PHASE_FRAMES:
            if line.rstrip().endswith(frame):
                return phase
    return "a phase"


def running_thread(dump: str) -> str:
    """The part of a faulthandler dump about the thread that ran the test (the one in
    pytest's frames), after the dump's first line; the whole dump if none is.

    A worker also has execnet's and the monitor's threads, whose tracebacks would push
    the stuck test's frames out of the recorded message.
    """
    first, _, threads = dump.partition("\n")
    for section in threads.split("\n\n"):
        if "_pytest" in section or "pluggy" in section:
            return f"{first}\n{section.strip()}"
    return dump


def as_recorded(report: Any, workdir: str | None, worker: str | None, limit: float) -> Any:
    """The report to record for a crashed worker's test: a `timeout` (or a `crashed` past the
    memory limit) with the traceback when the watchdog ended the worker, else `report`
    itself (a crash of another cause).

    A copy: the terminal and other plugins still see xdist's crash report.
    """
    if getattr(report, "when", None) != CRASH_WHEN or workdir is None or worker is None:
        return report
    fired = read_fired(watchdog_path(workdir, worker), limit)
    if fired is None:
        return report
    recorded = copy.copy(report)
    # A teardown report closes the record in one step, as the crash report would have.
    recorded.when = "teardown"
    raw = {
        "when": fired.when,
        "outcome": fired.outcome.value,
        "exc_type": QUALNAME if fired.outcome is Outcome.TIMEOUT else "MemoryLimitExceeded",
        "message": fired.message,
    }
    setattr(recorded, RAW_ATTR, raw)
    return recorded
