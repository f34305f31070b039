"""The closed vocabularies of the harness: outcomes, expectations, verdicts, exit codes.

Every other module speaks in these enums rather than in strings, so a typo is a
type error and not a silently different report. Each enum serializes to the
short lower-case word used in matrix.yaml, the results files and the reports.
"""

from __future__ import annotations

import enum
from typing import TypeVar

_W = TypeVar("_W", bound="_Word")


class _Word(enum.Enum):
    """An enum of the words the files use: each member serializes to its value."""

    def serialize(self) -> str:
        return str(self.value)

    @classmethod
    def _parse(cls: type[_W], text: str, noun: str) -> _W:
        """The member spelled `text`, or a ValueError naming `noun` and every spelling."""
        try:
            return cls(text)
        except ValueError:
            allowed = ", ".join(member.value for member in cls)
            msg = f"unknown {noun} {text!r}; expected one of: {allowed}"
            raise ValueError(msg) from None


class Outcome(_Word):
    """What one test did in one cell, as recorded in a results file."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    CRASHED = "crashed"
    TIMEOUT = "timeout"
    # The cell's environment could not be made (a release that does not install on
    # this interpreter): nothing ran; the record carries the installer's message.
    UNAVAILABLE = "unavailable"

    @classmethod
    def from_str(cls, text: str) -> Outcome:
        return cls._parse(text, "outcome")


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
    # Worst: a file that says a test ran and one that says it could not are a conflict
    # the merge reports; the verdict that stays must not read as a result.
    Outcome.UNAVAILABLE: 6,
}


class Expected(_Word):
    """An outcome matrix.yaml can ask for. A set of two or more means 'flaky'."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"
    UNAVAILABLE = "unavailable"

    @classmethod
    def from_str(cls, text: str) -> Expected:
        return cls._parse(text, "expected outcome")

    def admits(self, outcome: Outcome) -> bool:
        """Whether a recorded outcome is this expectation seen happening."""
        return _ADMITS[self] is outcome


_ADMITS = {
    Expected.PASS: Outcome.PASSED,
    Expected.FAIL: Outcome.FAILED,
    Expected.ERROR: Outcome.ERROR,
    Expected.SKIP: Outcome.SKIPPED,
    Expected.UNAVAILABLE: Outcome.UNAVAILABLE,
}


class Verdict(_Word):
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
    # The cell's environment could not be installed, and matrix.yaml did not expect it.
    UNAVAILABLE = "unavailable"

    @classmethod
    def from_str(cls, text: str) -> Verdict:
        return cls._parse(text, "verdict")

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


class MutantOutcome(_Word):
    """What became of one mutant under `migmatrix mutate` (cosmic-ray's classes + not covered)."""

    KILLED = "killed"
    SURVIVED = "survived"
    TIMEOUT = "timeout"
    NOT_COVERED = "not-covered"
    INCOMPETENT = "incompetent"

    @property
    def detected(self) -> bool:
        """Whether the matrix told this mutant from the original (a timeout counts, as in
        cosmic-ray)."""
        return self in (MutantOutcome.KILLED, MutantOutcome.TIMEOUT)
