"""SIGTERM (and SIGHUP) to the controller ends the run the way Ctrl-C does.

pytest turns a KeyboardInterrupt into an orderly end: the session finishes (the
results file is written by the interruption rules), `pytest_unconfigure` runs (the
services stop, the scratch folder and the hand-off file go) and xdist shuts its
workers down. SIGTERM, what CI runners, `timeout` and process supervisors send,
would otherwise kill the controller on the spot and skip all of it; so would SIGHUP,
what a closed terminal sends and what `migmatrix run` passes on. So while a matrix
run is configured, the controller's SIGTERM or SIGHUP raises KeyboardInterrupt in its
main thread, once: a second one during that clean-up is ignored rather than
cutting the clean-up short (SIGKILL remains for a run that must die now, and the
services' keepers and the next run's sweep cover that case).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

_TERMINATING = (signal.SIGTERM, signal.SIGHUP)


def terminate_as_interrupt() -> Callable[[], None]:
    """Make SIGTERM and SIGHUP raise KeyboardInterrupt; returns the function that restores
    the handlers.

    Outside the main thread (pytest run from a thread) signals cannot be handled, and
    nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {signum: signal.getsignal(signum) for signum in _TERMINATING}
    fired: list[int] = []

    def on_terminate(signum: int, frame: FrameType | None) -> None:
        if fired:
            return
        fired.append(signum)
        raise KeyboardInterrupt

    for signum in _TERMINATING:
        signal.signal(signum, on_terminate)

    def restore() -> None:
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)

    return restore
