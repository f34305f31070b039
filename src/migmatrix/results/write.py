"""Writing results files (JSON Lines, docs/contracts.md "Results files").

A results file is a header line, one "collected" line per cell (the test ids the
run collected for it, so the gate knows what to expect from outside the records),
one record line per (cell, test) and a footer line with the record count. The
writer makes the file appear whole or not at all (a temporary file in the same
folder, then `os.replace`), with sorted keys so the same records give the same
bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from typing import Any

from migmatrix.model import Record, ResultsHeader

# The header's own keys, in ResultsHeader's field order; `schema`, `kind` and any
# `extra` keys sit beside them. The reader takes the same keys back.
HEADER_KEYS = ("run_id", "python", "platform", "matrix_digest", "selection", "shard", "started")
_RECORD_FIELDS = Record._fields


def header_to_dict(header: ResultsHeader) -> dict[str, Any]:
    """The header line as a JSON object; `extra` keys sit beside the known ones."""
    line: dict[str, Any] = dict(header.extra)
    line.update({key: getattr(header, key) for key in HEADER_KEYS})
    line["schema"] = header.schema
    line["kind"] = "header"
    return line


def record_to_dict(record: Record) -> dict[str, Any]:
    """A record line as a JSON object: every field, `None` included, so lines share one shape."""
    line: dict[str, Any] = {name: getattr(record, name) for name in _RECORD_FIELDS}
    line["outcome"] = record.outcome.value
    line["kind"] = "record"
    return line


def collected_lines(collected: Mapping[str, Iterable[str]]) -> list[dict[str, Any]]:
    """The "collected" lines of a results file: per cell, its sorted, distinct test ids."""
    return [
        {"kind": "collected", "cell": cell, "tests": sorted(set(collected[cell]))}
        for cell in sorted(collected)
    ]


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def write_results(
    path: str | os.PathLike[str],
    header: ResultsHeader,
    records: Iterable[Record],
    finished: str | None = None,
    collected: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """Write a complete results file atomically: header, records, footer with the count.

    `finished` is the footer's ISO-8601 time; it defaults to the header's
    `started`, so callers that care about the end time pass it (the writer never
    reads a clock, which keeps its output a pure function of its arguments).
    The parent folder is created if needed. `collected` (cell id -> test ids)
    becomes one "collected" line per cell, sorted, right after the header.
    """
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jsonl", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(_dumps(header_to_dict(header)) + "\n")
            for line in collected_lines(collected or {}):
                out.write(_dumps(line) + "\n")
            count = 0
            for record in records:
                out.write(_dumps(record_to_dict(record)) + "\n")
                count += 1
            footer = {"kind": "footer", "records": count, "finished": finished or header.started}
            out.write(_dumps(footer) + "\n")
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates 0600; a results file is an artifact other users and CI
        # steps read, so give it the mode any new file gets under the umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        # Leave no half-written temporary file behind; the target is untouched.
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
