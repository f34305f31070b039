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
    """The controller's record of every attempt that pytest-rerunfailures repeated."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.outcome != RERUN:
            return
        recorder = self.recorder
        name = recorder.names.get(report.nodeid)
        state = recorder.pending.pop(report.nodeid, None)
        if name is None or state is None:
            return
        earlier = recorder.earlier.setdefault(name, [])
        earlier.append(
            Record(
                cell=name[0],
                test=name[1],
                outcome=state.outcome,
                duration=round(state.duration, 6),
                exc_type=state.exc_type,
                message=state.message,
                worker=state.worker,
                attempt=len(earlier) + 1,
                nodeid=report.nodeid,
            )
        )


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
