"""A service's keeper: the process between the controller and a service it starts.

`python -m migmatrix.keeper FD GRACE -- COMMAND...` starts COMMAND in its
own process group and watches file descriptor FD, the read
end of a pipe whose only write end stays open in the controller. A pipe closes
when its writer dies, whatever the reason: the controller's normal exit, Ctrl-C,
SIGTERM, a crash or SIGKILL. On that end-of-file, or on SIGTERM/SIGINT/SIGHUP to
the keeper itself (how the controller stops a service), the keeper sends SIGTERM
to the service, waits up to GRACE seconds, then SIGKILLs the whole group, which
reaches any process the service forked and the keeper last. When the service
exits on its own, the keeper exits with its code, so the controller and the
workers can keep treating the keeper's pid as the service's.

Why a pipe and not a parent-death signal (`prctl(PR_SET_PDEATHSIG)`): that signal
is Linux only, fires when the parent *thread* ends (the controller starts its
services from a thread pool, whose threads end long before the run), and needs a
`preexec_fn`, which is unsafe in a process with threads. A pipe is portable, is
closed by the kernel on every death of the controller, and the keeper is a
few lines of standard library that cannot itself be asked to block the signal.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from types import FrameType

_POLL = 0.1
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

KEEPER_MODULE = "migmatrix.keeper"


def keeper_command(python: str, fd: int, grace: float, command: list[str]) -> list[str]:
    """The argv that starts `command` under a keeper watching `fd`."""
    return [python, "-m", KEEPER_MODULE, str(fd), f"{grace:g}", "--", *command]


def parse_args(argv: list[str]) -> tuple[int, float, list[str]]:
    """(fd, grace, command) from the keeper's argv; ValueError names what is wrong."""
    if len(argv) < 4 or argv[2] != "--":
        msg = f"usage: python -m {KEEPER_MODULE} FD GRACE -- COMMAND...; got {argv!r}"
        raise ValueError(msg)
    return int(argv[0]), float(argv[1]), argv[3:]


def _peer_gone(fd: int) -> bool:
    """Whether the pipe's write end has closed (end-of-file or an error on the read end)."""
    readable, _, _ = select.select([fd], [], [], _POLL)
    if not readable:
        return False
    try:
        return os.read(fd, 4096) == b""
    except OSError:
        return True


def _stop(child: subprocess.Popen[bytes], grace: float, stop_asked: list[int]) -> None:
    """SIGTERM the service, wait up to `grace` (cut short by another stop signal), then
    SIGKILL its whole process group."""
    asked = len(stop_asked)
    deadline = time.monotonic() + grace
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
    while child.poll() is None and time.monotonic() < deadline and len(stop_asked) == asked:
        time.sleep(_POLL / 2)
    # What the service forked must not outlive it either. The group keeps the service's
    # pid as its id while any member lives, and the kernel gives no new process a pid
    # still in use as a group id, so this reaches only the service's own processes.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def keep(fd: int, grace: float, command: list[str]) -> int:
    """Run `command` until it exits, the pipe on `fd` closes or a stop signal arrives.

    A second stop signal while the service is being stopped SIGKILLs it at once (how
    `RunningService.stop` escalates). Returns the service's exit code; a service killed
    by a signal makes the keeper die of the same signal, so its parent sees the same.
    """
    stop_asked: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_asked.append(signum)

    for signum in _STOP_SIGNALS:
        signal.signal(signum, on_signal)
    try:
        # Its own group, so a stop reaches whatever the service forks.
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        print(f"migmatrix keeper: cannot start {command}: {exc}", file=sys.stderr)
        return 127
    while child.poll() is None:
        if stop_asked or _peer_gone(fd):
            _stop(child, grace, stop_asked)
            break
    code = child.returncode
    if code < 0:
        with contextlib.suppress(OSError, ValueError):  # SIGKILL has no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def main(argv: list[str] | None = None) -> int:
    try:
        fd, grace, command = parse_args(sys.argv[1:] if argv is None else argv)
    except ValueError as exc:
        print(f"migmatrix keeper: {exc}", file=sys.stderr)
        return 2
    return keep(fd, grace, command)


if __name__ == "__main__":
    sys.exit(main())
