"""A per-test time limit enforced with SIGALRM, so a hung test becomes a `timeout` result.

The limit interrupts the test where it is stuck: `signal.setitimer` arms a real
timer and its handler raises `TimeLimitExceeded` in the main thread, which is where
pytest and xdist workers (execnet's `main_thread_only` model) run tests. The
exception derives from BaseException, not Exception, so a test's own
`except Exception:` cannot swallow it; pytest still reports it as a failure of
the test, and the recorder turns it into a `timeout` record.

A hang the alarm cannot interrupt (a long C call, a swallowed exception, a hung
fixture) is ended in xdist workers by the watchdog of `plugin.watchdog`, at
`watchdog_delay(limit)`. Where no alarm is available (Windows, or a test run outside
the main thread) the limit is enforced by that watchdog alone, or not at all in a
run of one process.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class TimeLimitExceeded(BaseException):
    """Raised inside a test that ran past its time limit."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"test exceeded its time limit of {seconds:g} s (matrix `timeout`)")


QUALNAME = f"{TimeLimitExceeded.__module__}.{TimeLimitExceeded.__qualname__}"


# Past the limit, the time the alarm's exception gets to end a test before the watchdog
# (`plugin.watchdog`) ends its worker: room for a slow teardown of the interrupted call.
WATCHDOG_SLACK = 2.0
WATCHDOG_SLACK_SHARE = 0.1


def watchdog_delay(seconds: float) -> float:
    """When the watchdog fires for a phase limited to `seconds`: the limit plus a slack of
    2 s or a tenth of the limit, whichever is more."""
    return seconds + max(WATCHDOG_SLACK, seconds * WATCHDOG_SLACK_SHARE)


def alarm_available() -> bool:
    """Whether a SIGALRM timer can be armed from here (POSIX, main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise `TimeLimitExceeded` in the body if it runs longer than `seconds`.

    `None` or a non-positive value means no limit. Any previous SIGALRM handler
    and timer are restored on exit, so nesting under another plugin's alarm
    leaves that plugin working after the test.
    """
    if seconds is None or seconds <= 0 or not alarm_available():
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise TimeLimitExceeded(seconds)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if old_delay:
            signal.setitimer(signal.ITIMER_REAL, old_delay, old_interval)
