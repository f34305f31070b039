"""Turn pytest reports into one `Record` per (cell, test): on the controller only.

A test's setup, call and teardown reports arrive one by one (from this process,
or from any xdist worker through `pytest_runtest_logreport`); the `Recorder`
folds them into one record when the teardown report arrives. The outcome is the
RAW outcome, whatever marks pytest applied: the worker side (`raw_outcome`,
called in `pytest_runtest_makereport`) reads it from the exception the phase
raised and attaches it to the report as `migmatrix_raw`, which xdist carries to
the controller with the report. So an xfailed test is `failed` with its
exception type, and a strict XPASS is `passed`.

Nothing is lost: a report xdist makes for a worker that died mid-test becomes a
`crashed` record, collection errors become `error` records for every cell of the
phase, and `finish` turns every collected item that never completed into a
`crashed` record ("never reported").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from migmatrix.model import Cell, Record
from migmatrix.outcomes import SEVERITY, Outcome
from migmatrix.plugin.collect import collection_test_id
from migmatrix.plugin.reruns import with_attempts
from migmatrix.text import excerpt
from migmatrix.timeouts import TimeLimitExceeded

if TYPE_CHECKING:
    from migmatrix.plugin.run_state import MatrixRun

RAW_ATTR = "migmatrix_raw"
CRASH_WHEN = "???"  # the `when` of the report xdist builds for a crashed worker's item


def exception_name(kind: type[BaseException]) -> str:
    """`AssertionError` for builtins, `package.module.Name` for the rest."""
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def raw_outcome(call: pytest.CallInfo[None]) -> dict[str, Any]:
    """What one phase really did, before xfail/skip marks rewrite the report (worker side).

    Plain strings only: xdist serializes it with the report.
    """
    excinfo = call.excinfo
    if excinfo is None:
        return {"when": call.when, "outcome": "passed", "exc_type": None, "message": None}
    value = excinfo.value
    if isinstance(value, pytest.skip.Exception):
        return {"when": call.when, "outcome": "skipped", "exc_type": None, "message": value.msg}
    if isinstance(value, TimeLimitExceeded):
        outcome = "timeout"
    elif call.when == "call":
        outcome = "failed"
    else:
        outcome = "error"
    return {
        "when": call.when,
        "outcome": outcome,
        "exc_type": exception_name(excinfo.type),
        "message": excerpt(str(value) or exception_name(excinfo.type)),
    }


def _report_raw(report: pytest.TestReport) -> dict[str, Any]:
    """The raw outcome of a report: the worker's note, or what the report itself says."""
    raw = getattr(report, RAW_ATTR, None)
    if isinstance(raw, Mapping):
        return dict(raw)
    # A report without our note (built by another plugin): undo pytest's xfail rewrite.
    bad = "failed" if report.when == "call" else "error"
    longrepr = report.longrepr
    if report.passed or (isinstance(longrepr, str) and longrepr.startswith("[XPASS(strict)]")):
        outcome = "passed"
    elif report.skipped:
        outcome = bad if hasattr(report, "wasxfail") else "skipped"
    else:
        outcome = bad
    message = None if outcome == "passed" else excerpt(report.longreprtext)
    return {"when": report.when, "outcome": outcome, "exc_type": None, "message": message}


def worker_of(report: Any) -> str | None:
    """The xdist worker id (`gw0`) that ran a report's test; None when run in-process."""
    node = getattr(report, "node", None)
    gateway = getattr(node, "gateway", None)
    ident = getattr(gateway, "id", None)
    return str(ident) if ident is not None else None


@dataclasses.dataclass
class _Pending:
    outcome: Outcome = Outcome.PASSED
    exc_type: str | None = None
    message: str | None = None
    duration: float = 0.0
    worker: str | None = None

    def record(self, name: tuple[str, str], nodeid: str) -> Record:
        """The record of the test `name` (cell, test id) as its phases so far tell it."""
        return Record(
            cell=name[0],
            test=name[1],
            outcome=self.outcome,
            duration=round(self.duration, 6),
            exc_type=self.exc_type,
            message=self.message,
            worker=self.worker,
            nodeid=nodeid,
        )


class Recorder:
    """Collects the records of one run on the controller.

    `expect(mapping)` registers collected node ids -> (cell id, test id); reports
    for other node ids are ignored (tests outside the matrix). Records are keyed
    by (cell, test): the first complete record of a key wins, so a duplicate report
    (a restarted worker) cannot overwrite it. `on_record`, when set, is called with
    each record as it closes (the journal appends it to the results file).
    """

    def __init__(self) -> None:
        self.names: dict[str, tuple[str, str]] = {}
        self.pending: dict[str, _Pending] = {}
        self.records: dict[tuple[str, str], Record] = {}
        self.on_record: Callable[[Record], None] | None = None
        # Earlier attempts of tests run again (`--reruns`): filled by plugin/reruns.py.
        self.earlier: dict[tuple[str, str], list[Record]] = {}

    def add(self, record: Record) -> None:
        """Keep a record made elsewhere (a resumed run's earlier ones); the first one wins."""
        if record.key not in self.records:
            self.records[record.key] = record
            if self.on_record is not None:
                self.on_record(record)

    def expect(self, mapping: Mapping[str, tuple[str, str]]) -> None:
        self.names.update(mapping)

    def report(self, report: pytest.TestReport) -> None:
        name = self.names.get(report.nodeid)
        if name is None or name in self.records:
            return
        state = self.pending.setdefault(report.nodeid, _Pending())
        state.duration += float(report.duration or 0.0)
        state.worker = worker_of(report) or state.worker
        if report.when == CRASH_WHEN:
            self._merge(state, Outcome.CRASHED, None, excerpt(report.longreprtext))
            self._close(report.nodeid, name, state)
            return
        raw = _report_raw(report)
        outcome = Outcome.from_str(raw["outcome"])
        if report.when == "teardown" and outcome is Outcome.FAILED:
            outcome = Outcome.ERROR
        self._merge(state, outcome, raw.get("exc_type"), raw.get("message"))
        if report.when == "teardown":
            self._close(report.nodeid, name, state)

    def collection_problem(
        self, cells: Iterable[Cell], test: str, outcome: Outcome, message: str | None
    ) -> None:
        """One record per cell for a file or folder that failed (or skipped) collection."""
        for cell in cells:
            self.add(
                Record(
                    cell=cell.id,
                    test=test,
                    outcome=outcome,
                    exc_type="CollectionError" if outcome is Outcome.ERROR else None,
                    message=excerpt(message),
                )
            )

    def collected(self) -> dict[str, list[str]]:
        """Cell id -> the test ids collected for it in this run (this shard's, after selection).

        Written into the results file, so the gate knows which tests to expect
        for a cell even when a record is lost on the way.
        """
        tests: dict[str, set[str]] = {}
        # The records' own keys too: a file that failed to collect has a record, no item.
        for cell_id, test in [*self.names.values(), *self.records]:
            tests.setdefault(cell_id, set()).add(test)
        return {cell_id: sorted(found) for cell_id, found in tests.items()}

    def finish(self) -> list[Record]:
        """All records, sorted by (cell, test); items that never completed become crashed."""
        for nodeid, name in self.names.items():
            if name in self.records:
                continue
            state = self.pending.get(nodeid)
            if state is None:
                note = "never reported: the run ended before this test ran (worker lost?)"
                state = _Pending(outcome=Outcome.CRASHED, message=note)
            else:
                note = "never finished: no teardown report arrived (worker lost mid-test?)"
                self._merge(state, Outcome.CRASHED, None, note)
            self._close(nodeid, name, state)
        records = [self.records[key] for key in sorted(self.records)]
        return with_attempts(records, self.earlier)

    @staticmethod
    def _merge(
        state: _Pending, outcome: Outcome, exc_type: str | None, message: str | None
    ) -> None:
        if SEVERITY[outcome] > SEVERITY[state.outcome]:  # the more telling outcome is kept
            state.outcome = outcome
            state.exc_type = exc_type
            state.message = message
        elif outcome is state.outcome and state.message is None:
            state.exc_type = state.exc_type or exc_type
            state.message = message

    def _close(self, nodeid: str, name: tuple[str, str], state: _Pending) -> None:
        self.pending.pop(nodeid, None)
        record = state.record(name, nodeid)
        self.records[name] = record
        if self.on_record is not None:
            self.on_record(record)


def collection_report(
    recorder: Recorder, report: pytest.CollectReport, rootpath: Path, run: MatrixRun
) -> None:
    """A file or folder of a phase that failed (or skipped) collection: a record per cell.

    The test id is the path relative to the phase folder. Under `--shard` every
    shard sees the same collection problem; only shard 1 records it, so the
    shards stay disjoint and together complete.
    """
    if report.passed or (run.shard is not None and run.shard[0] != 1):
        return
    found = collection_test_id(report.nodeid, rootpath, run)
    if found is None:
        return
    phase, test = found
    outcome = Outcome.ERROR if report.failed else Outcome.SKIPPED
    recorder.collection_problem(run.cells_of(phase), test, outcome, report.longreprtext)
