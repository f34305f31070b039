"""The results file while the run is under way: an append-only journal, one line per event.

A run writes its results file twice. While it runs, the file is a journal: the
header (`results_file.claim_results`), then, as they happen, one "collected" line
per cell once collection is done, one "began" line when a test starts and one
record line when its record closes, each appended with a single `os.write` on a
descriptor opened with `O_APPEND`: the kernel holds every line the moment the call
returns, so a run killed from outside, even by SIGKILL to its whole process group,
keeps every record it had (only a power cut needs more). At the end of the run the
journal is replaced, atomically, by the final file (`results.write_results`):
sorted, with its footer, byte-identical for the same data; "began" lines never
reach it.

A journal has no footer, so the reader (`results.read`) judges it incomplete (the
gate's exit 3) and says, per cell, how many of the collected tests were recorded,
which were not, and which test was running when the run died (a "began" line
without its record). The same lines let `migmatrix run` resume a run of one
process that its watchdog ended (`resume`).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from migmatrix.model import Record
from migmatrix.results import collected_lines, record_to_dict

BEGAN = "began"


def _dumps(obj: Mapping[str, Any]) -> bytes:
    # The writer's own separators: a journal line reads exactly like a final file's line.
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
    return (text + "\n").encode("utf-8")


class Journal:
    """Appends lines to a run's results file as events happen (controller only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND)
        self._collected_written = False

    def _append(self, data: bytes) -> None:
        if self._fd is None:
            return
        # One call per line: lines of one writer never interleave or split on a kill.
        written = os.write(self._fd, data)
        while written < len(data):  # a short write (a full disk, a signal): finish it
            written += os.write(self._fd, data[written:])

    def collected(self, collected: Mapping[str, Iterable[str]]) -> None:
        """The collected lines, once per run (xdist's workers each report the same set)."""
        if self._collected_written:
            return
        self._collected_written = True
        self._append(b"".join(_dumps(line) for line in collected_lines(collected)))

    def began(self, cell: str, test: str, nodeid: str) -> None:
        self._append(_dumps({"kind": BEGAN, "cell": cell, "test": test, "nodeid": nodeid}))

    def record(self, record: Record) -> None:
        self._append(_dumps(record_to_dict(record)))

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
