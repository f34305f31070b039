"""Resuming a run of one process that its watchdog ended: record the test it ran, run the rest.

Under xdist a worker the watchdog ends is replaced and the run goes on; in a run of
one process (`-n 0`, `-p no:xdist`) the process that ended was the whole run. What
it had done is in its results file, still a journal (`journal`): the collected
tests, every record, and a "began" line for the test that was running; why it
ended is in the watchdog's note beside it (`results.sidecar`).

`migmatrix run` then starts the same pytest command again with `MIGMATRIX_RESUME=1`
in its environment (`run.run_matrix`). The new controller, before it claims the
results file, reads the journal (`take`): it keeps the run's identity (run id,
start time) and its records, turns each test that began without a record into a
`timeout` or `crashed` record carrying the note's traceback, and leaves out of the
new collection the tests already recorded and a module that hung at import. The
run goes on appending to the same journal and ends with the usual sorted file, so a
resumed run's final file is the one an uninterrupted run would have written, with
the faulty test's record in it. Each resume records at least the test that was
running, so the resumes end.

Without `migmatrix run` (plain `pytest --matrix -n 0`) nothing resumes: the file
stays incomplete (the gate's exit 3) and the reader names the test and the note.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from migmatrix.errors import ResultsError
from migmatrix.model import Record
from migmatrix.outcomes import Outcome
from migmatrix.plugin.collect import collection_test_id
from migmatrix.plugin.run_state import MatrixRun
from migmatrix.plugin.watchdog import read_fired
from migmatrix.results import read_results
from migmatrix.timeouts import QUALNAME

RESUME_ENV = "MIGMATRIX_RESUME"
_NO_NOTE = (
    "the run's process ended while this test ran and its watchdog left no note "
    "(killed from outside, or a crash of the interpreter)"
)


@dataclasses.dataclass(frozen=True)
class Resumed:
    """What a resumed run takes over from its journal."""

    earlier: tuple[Record, ...]  # already in the journal
    new: tuple[Record, ...]  # the tests that were running, now recorded
    collected_written: bool
    hung_module: tuple[str, str, str] | None = None  # (phase, test id, message)


def take(
    run: MatrixRun,
    rootpath: Path,
    environ: Mapping[str, str] | None = None,
    *,
    collect_only: bool = False,
) -> Resumed | None:
    """The journal of the run to resume, when asked to and it is this run's; else None.

    Sets the run's identity and `done_nodeids` / `skip_modules` on `run`.
    """
    if (os.environ if environ is None else environ).get(RESUME_ENV) != "1" or collect_only:
        return None
    path = run.results_path()
    try:
        found = read_results(path)
    except ResultsError:
        return None
    header = found.header
    same = (header.python, header.shard, header.matrix_digest, header.selection) == (
        run.python,
        run.shard_text,
        run.matrix.digest,
        run.selection,
    )
    if found.footer is not None or not same:
        return None
    run.run_id, run.started = header.run_id, header.started
    note = run.watchdog_note()
    fired = read_fired(note, run.timeout)
    with contextlib.suppress(OSError):
        note.unlink()
    new = []
    for cell, test, nodeid in found.unfinished:
        if fired is not None and fired.collecting is None:
            outcome, message = fired.outcome, fired.message
            exc = QUALNAME if outcome is Outcome.TIMEOUT else "MemoryLimitExceeded"
        else:
            outcome, message, exc = Outcome.CRASHED, _NO_NOTE, None
        new.append(
            Record(cell, test, outcome, exc_type=exc, message=message, nodeid=nodeid or None)
        )
    hung = None
    skip = set(_hung_before(found.records, run))
    if fired is not None and fired.collecting is not None:
        located = collection_test_id(fired.collecting, rootpath, run)
        if located is not None:
            hung = (located[0], located[1], fired.message)
        skip.add(os.path.abspath(rootpath / fired.collecting))
    run.skip_modules = frozenset(skip)
    done = {r.nodeid for r in found.records if r.nodeid}
    done.update(n for _c, _t, n in found.unfinished if n)
    run.done_nodeids = frozenset(done)
    return Resumed(
        earlier=tuple(found.records),
        new=tuple(new),
        collected_written=bool(found.collected),
        hung_module=hung,
    )


def _hung_before(records: tuple[Record, ...] | list[Record], run: MatrixRun) -> list[str]:
    """The modules an earlier process of the run hung on at import (a file's `timeout`
    record): every later process must leave them out too."""
    phases = {cell.id: cell.phase for cell in run.cells}
    found = []
    for record in records:
        phase = phases.get(record.cell)
        if record.outcome is Outcome.TIMEOUT and "::" not in record.test and phase:
            folder = run.phase_paths.get(phase) or run.phase_dirs.get(phase)
            if folder is not None:
                found.append(os.path.abspath(folder / record.test))
    return found
