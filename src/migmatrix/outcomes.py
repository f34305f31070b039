"""The closed vocabularies of the harness: outcomes, expectations, verdicts, exit codes.

Every other module speaks in these enums rather than in strings, so a typo is a
type error and not a silently different report. Each enum serializes to the
short lower-case word used in matrix.yaml, the results files and the reports.
"""

from __future__ import annotations

import enum


class Outcome(enum.Enum):
    """What one test did in one cell, as recorded in a results file."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    CRASHED = "crashed"
    TIMEOUT = "timeout"

    def serialize(self) -> str:
        return self.value

    @classmethod
    def from_str(cls, text: str) -> Outcome:
        try:
            return cls(text)
        except ValueError:
            allowed = ", ".join(o.value for o in cls)
            msg = f"unknown outcome {text!r}; expected one of: {allowed}"
            raise ValueError(msg) from None


# Higher is worse. Where two outcomes of one test must become one, the worse is
# kept: the phases of one run (a teardown error does not hide a timeout, a
# passing teardown does not hide a failing call) and a test's results in two
# files being merged (on a conflict the worse outcome is the one judged).
SEVERITY = {
    Outcome.PASSED: 0,
    Outcome.SKIPPED: 1,
    Outcome.FAILED: 2,
    Outcome.ERROR: 3,
    Outcome.TIMEOUT: 4,
    Outcome.CRASHED: 5,
}


class Expected(enum.Enum):
    """An outcome matrix.yaml can ask for. A set of two or more means 'flaky'."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"

    def serialize(self) -> str:
        return self.value

    @classmethod
    def from_str(cls, text: str) -> Expected:
        try:
            return cls(text)
        except ValueError:
            allowed = ", ".join(o.value for o in cls)
            msg = f"unknown expected outcome {text!r}; expected one of: {allowed}"
            raise ValueError(msg) from None

    def admits(self, outcome: Outcome) -> bool:
        """Whether a recorded outcome is this expectation seen happening."""
        return _ADMITS[self] is outcome


_ADMITS = {
    Expected.PASS: Outcome.PASSED,
    Expected.FAIL: Outcome.FAILED,
    Expected.ERROR: Outcome.ERROR,
    Expected.SKIP: Outcome.SKIPPED,
}


class Verdict(enum.Enum):
    """Expectation x result for one (cell, test)."""

    AS_EXPECTED = "as-expected"
    REPRODUCED = "reproduced"
    UNEXPECTED_PASS = "unexpected-pass"
    REGRESSION = "regression"
    WRONG_REASON = "wrong-reason"
    FLAKY = "flaky"
    MISSING = "missing"
    CRASHED = "crashed"
    TIMEOUT = "timeout"
    INCOMPLETE = "incomplete"

    def serialize(self) -> str:
        return self.value

    @classmethod
    def from_str(cls, text: str) -> Verdict:
        try:
            return cls(text)
        except ValueError:
            allowed = ", ".join(v.value for v in cls)
            msg = f"unknown verdict {text!r}; expected one of: {allowed}"
            raise ValueError(msg) from None

    @property
    def expected(self) -> bool:
        """True for the verdicts that mean 'the cell behaved as planned'."""
        return self in EXPECTED_VERDICTS


EXPECTED_VERDICTS = frozenset({Verdict.AS_EXPECTED, Verdict.REPRODUCED, Verdict.FLAKY})
UNEXPECTED_VERDICTS = frozenset(v for v in Verdict if v not in EXPECTED_VERDICTS)


class ExitCode(enum.IntEnum):
    """Named process exit codes of the `migmatrix` command and the gate."""

    OK = 0
    GATE_FAILED = 1
    USAGE = 2
    INCOMPLETE = 3
