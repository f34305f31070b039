"""The watchdog's note beside a results file: why a run of one process was ended.

A run of one process that its watchdog ends (a hang past the time limit, a test past
its memory limit) cannot write a record for the test that was running: the process
is gone. What the watchdog wrote (the reason and every thread's traceback) stays in
this file beside the results file, `.NAME.watchdog`, until `migmatrix run` resumes
the run (`plugin.resume`), which turns it into the test's record; the reader names
it when it finds a results file cut off with this note beside it.
"""

from __future__ import annotations

import os
from pathlib import Path


def sidecar_path(results: str | os.PathLike[str]) -> Path:
    path = Path(results)
    return path.with_name(f".{path.name}.watchdog")


def first_line(results: str | os.PathLike[str]) -> str | None:
    """The watchdog note's first line (what ended the run), or None when there is none."""
    try:
        with sidecar_path(results).open(encoding="utf-8", errors="replace") as note:
            text = note.read(4096)
    except OSError:
        return None
    for line in text.splitlines():
        if line and not line.startswith("collect\t"):
            return line.strip()
    return None
