"""Reruns (`--reruns N`): a test that did not do what its expectation says runs again,
in the same cell, and every attempt is recorded.

The engine is pytest-rerunfailures, not a loop of our own: it re-runs a test in
the same process (so the same cell, fixtures set up again) under xdist too, and
its reports of the attempts it repeats carry the outcome "rerun". It repeats a
test whose report failed, which with the marks the plugin gives each test
(`collect.expectation_marks`) means: did not do what its expectation says. An
expected failure is xfailed (not repeated); an expected failure that passes is
an XPASS(strict), which fails (repeated); a test expected to pass that fails is
repeated; a declared outcome set is a non-strict xfail, so none of its outcomes
is repeated and such sets keep working as before.

On the controller, the Recorder folds each report into its test's pending
state as usual; when the report is a "rerun" one, the attempt is over, and
`RerunAttempts` (after the Recorder: trylast) takes that state as the record
of the attempt. `with_attempts` numbers them in the results file: attempts
1..k-1, then the final record as attempt k. Merge and the gate do the rest
(`migmatrix.attempts`, `migmatrix.lifecycle.flaky`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pytest

from migmatrix.model import Record

if TYPE_CHECKING:  # record.py imports this module for `with_attempts`
    from migmatrix.plugin.record import Recorder

RERUN = "rerun"  # the outcome pytest-rerunfailures gives the report of a repeated attempt


class RerunAttempts:
    """The controller's record of every attempt that pytest-rerunfailures repeated.

    pytest-rerunfailures logs a repeated attempt's reports up to the "rerun" one
    and, in its recent versions, the teardown after it. The Recorder folds them
    into one record as for any test; taken out of the Recorder at the attempt's
    end, it is the attempt's record, and the next attempt starts afresh. An
    attempt that ends without a teardown report (older versions) ends when the
    next attempt's setup report arrives.
    """

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.repeated: set[str] = set()  # node ids whose current attempt will be repeated

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Before the Recorder: a setup report while an attempt is open starts the next one."""
        if report.when == "setup" and report.nodeid in self.repeated:
            self.repeated.discard(report.nodeid)
            state = self.recorder.pending.pop(report.nodeid, None)
            name = self.recorder.names.get(report.nodeid)
            if state is not None and name is not None:
                self._keep(state.record(name, report.nodeid))

    # A second impl of the hook (pytest reads only `pytest_` names; `specname` maps it).
    @pytest.hookimpl(trylast=True, specname="pytest_runtest_logreport")
    def pytest_runtest_logreport_after(self, report: pytest.TestReport) -> None:
        """After the Recorder: a "rerun" report marks the attempt; its teardown ends it."""
        if report.outcome == RERUN:
            self.repeated.add(report.nodeid)
        elif report.when == "teardown" and report.nodeid in self.repeated:
            self.repeated.discard(report.nodeid)
            name = self.recorder.names.get(report.nodeid)
            record = self.recorder.records.pop(name, None) if name is not None else None
            if record is not None:
                self._keep(record)

    def _keep(self, record: Record) -> None:
        earlier = self.recorder.earlier.setdefault(record.key, [])
        earlier.append(record._replace(attempt=len(earlier) + 1))


def with_attempts(
    records: Sequence[Record], earlier: Mapping[tuple[str, str], Sequence[Record]]
) -> list[Record]:
    """The records with each repeated test's earlier attempts before its last, numbered."""
    if not earlier:
        return list(records)
    out: list[Record] = []
    for record in records:
        before = earlier.get(record.key)
        if before:
            out.extend(before)
            out.append(record._replace(attempt=len(before) + 1))
        else:
            out.append(record)
    return out


def check_reruns(config: pytest.Config) -> None:
    """`--reruns` below 0 is a usage error (pytest-rerunfailures would run once, silently)."""
    reruns = getattr(config.option, "reruns", None)
    if isinstance(reruns, int) and reruns < 0:
        msg = f"--reruns must be 0 or more, got {reruns}"
        raise pytest.UsageError(msg)
