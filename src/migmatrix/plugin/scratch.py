"""A run's scratch folder in the temp directory, and the sweep of those whose run died.

Everything a run puts in the temp directory lives in one folder,
`migmatrix-<run id>-<random>`: the services' working folders and the hand-off file
(`handoff.save`). The controller removes it on every exit it lives through (normal
end, Ctrl-C, SIGTERM: `release`). A SIGKILLed controller cannot, so the folder holds
a lock file on which the controller keeps an exclusive `flock` for its whole life;
the kernel drops that lock when the process dies, however it dies. The next run's
controller (`sweep`) removes every such folder whose lock it can take: its owner is
gone. A lock, not a pid, so a reused pid or a run in another pid namespace sharing
the temp directory never makes a live run's folder look dead.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "migmatrix-"
LOCK_NAME = ".owner.lock"


@dataclasses.dataclass
class Scratch:
    """A run's scratch folder and the open lock file that marks it as in use."""

    path: str
    lock_fd: int | None


def make(run_id: str, parent: str | None = None) -> Scratch:
    """A new scratch folder for `run_id`, locked by this process until `release`."""
    path = tempfile.mkdtemp(prefix=f"{PREFIX}{run_id}-", dir=parent)
    fd = os.open(os.path.join(path, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return Scratch(path=path, lock_fd=fd)


def release(scratch: Scratch) -> None:
    """Remove the folder, then drop its lock (idempotent)."""
    shutil.rmtree(scratch.path, ignore_errors=True)
    if scratch.lock_fd is not None:
        with contextlib.suppress(OSError):
            os.close(scratch.lock_fd)
        scratch.lock_fd = None


def sweep(parent: str | None = None) -> list[str]:
    """Remove the scratch folders in `parent` (the temp directory) whose controller died.

    A folder counts as orphaned when it has the lock file and nobody holds its lock;
    a folder without one (being made right now, or not ours) is left alone, and so
    is one owned by another user. Returns the folders removed.
    """
    root = Path(parent or tempfile.gettempdir())
    removed: list[str] = []
    try:
        candidates = [entry for entry in root.iterdir() if entry.name.startswith(PREFIX)]
    except OSError:
        return removed
    uid = os.getuid()
    for folder in candidates:
        try:
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != uid:
                continue
            fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # its controller is alive
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
        finally:
            os.close(fd)
    return removed
