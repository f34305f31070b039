"""The gate: expectations x merged results -> verdicts and one exit code.

`judge` is a pure function of its arguments: it reads no files, no clock and no
environment, so the table-driven test in tests/migmatrix/test_gate.py can pin
every verdict.

Which (cell, test) pairs the plan expects a result for: the suites' tests are
only known from what was recorded, so the tests of a phase are the union of the
test ids recorded for any cell of that phase (plus any ids the caller knows from
elsewhere, `phase_tests`). Every selected cell must show every test of its
phase; a gap is `missing`, or `incomplete` when the cell's data came from an
incomplete results file (the gap is then most likely that file's cut-off end).
A selected cell with no records at all yields one verdict for the test `*`
instead of one per test. `missing` is never a pass.

Verdicts for a recorded outcome against its expectation:

- crashed / timeout outcomes are their own verdicts, whatever was expected;
- an `unavailable` outcome (the cell's environment could not be installed) is
  as expected where matrix.yaml expects `unavailable`, else the `unavailable`
  verdict, with the installer's message;
- an admitted outcome is `as-expected`, or `reproduced` for an expected failure,
  or `flaky` when the expectation is a set of two or more outcomes; but a failure
  or error whose exception type (`raises`) or message (`match`) differs from the
  expectation's is `wrong-reason`;
- a pass nobody expected is `unexpected-pass`; a failure, error or skip where a
  pass was expected is a `regression`; any other non-pass outcome where a
  different non-pass outcome was expected is `wrong-reason`.

Exit code: `INCOMPLETE` (3) when the data cannot be trusted (merge problems:
incomplete files, conflicts, digest mismatches, results for unknown cells);
otherwise `GATE_FAILED` (1) when a verdict is in `fail_on` or a coverage rule
failed; otherwise `OK` (0).

The gate only judges: what the reports count and how they word it is worked out
from its `GateResult` in `migmatrix.report.summary`.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from migmatrix.expect import expectation_for as default_expectation_for
from migmatrix.expect import selects_test
from migmatrix.merge import Merged
from migmatrix.model import (
    Cell,
    CellJudgement,
    CoverageVerdict,
    Expectation,
    ExpectRule,
    GateResult,
    Judged,
    JudgedItems,
    Matrix,
    Record,
    new_judged,
)
from migmatrix.outcomes import ExitCode, Expected, Outcome, Verdict
from migmatrix.plan import display_order

ExpectationFor = Callable[[Matrix, Cell, str], "tuple[Expectation, ExpectRule | None]"]

ALL_TESTS = "*"


# --------------------------------------------------------------------------- one verdict


def exc_type_matches(expected: str, seen: str | None) -> bool:
    """Compare exception class names, allowing dotted names on either side.

    `AssertionError` matches `builtins.AssertionError`; `errors.Violation`
    matches `Violation` and `pkg.errors.Violation`; two different dotted paths
    to one class name do not match.
    """
    if not seen:
        return False
    if expected == seen:
        return True
    return seen.endswith("." + expected) or expected.endswith("." + seen)


@functools.lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def reason_mismatch(expectation: Expectation, record: Record) -> str:
    """Why a failure is not the expected one ('' when it is, or nothing was asked)."""
    if expectation.raises and not exc_type_matches(expectation.raises, record.exc_type):
        return f"raised {record.exc_type or 'nothing'}, expected {expectation.raises}"
    if expectation.match and not _pattern(expectation.match).search(record.message or ""):
        return f"message does not match /{expectation.match}/"
    return ""


def verdict_for(expectation: Expectation, record: Record) -> tuple[Verdict, str]:
    """The verdict for one recorded outcome against its expectation, and a short detail."""
    outcome = record.outcome
    if outcome is Outcome.CRASHED:
        return Verdict.CRASHED, "the worker running this test crashed"
    if outcome is Outcome.TIMEOUT:
        return Verdict.TIMEOUT, "the test did not finish within the timeout"
    expected = expectation.outcomes
    if outcome is Outcome.UNAVAILABLE and Expected.UNAVAILABLE not in expected:
        # The installer's message says why: the first thing a reader needs.
        return Verdict.UNAVAILABLE, record.message or "the cell's environment was not installed"
    if any(e.admits(outcome) for e in expected):
        if outcome in (Outcome.FAILED, Outcome.ERROR):
            why = reason_mismatch(expectation, record)
            if why:
                return Verdict.WRONG_REASON, why
        if len(expected) > 1:
            return Verdict.FLAKY, f"{outcome.value}, within the declared set"
        if outcome is Outcome.FAILED:
            return Verdict.REPRODUCED, ""
        return Verdict.AS_EXPECTED, ""
    if outcome is Outcome.PASSED:
        return Verdict.UNEXPECTED_PASS, f"passed, expected {expectation.describe()}"
    if Expected.PASS in expected:
        return Verdict.REGRESSION, f"{outcome.value}, expected {expectation.describe()}"
    return Verdict.WRONG_REASON, f"{outcome.value}, expected {expectation.describe()}"


# --------------------------------------------------------------------------- whole gate


class _Expectations:
    """Expectations per (cell, test), asking `expect` once per cell for tests no test rule names.

    Rules without a `test` selector give every test of a cell the same
    expectation, so for a test that no rule's `test` glob matches, the answer for
    any other such test of the cell is reused. Tests that some `test` glob
    matches are asked for one by one.
    """

    def __init__(self, matrix: Matrix, expectation_for: ExpectationFor) -> None:
        self._matrix = matrix
        self._ask = expectation_for
        self._test_globs = tuple(rule.test for rule in matrix.rules if rule.test is not None)
        self._named: dict[str, bool] = {}
        self._per_cell: dict[str, Expectation] = {}
        self.rules_used: set[int] = set()

    def _is_named(self, test: str) -> bool:
        named = self._named.get(test)
        if named is None:
            named = any(selects_test(pattern, test) for pattern in self._test_globs)
            self._named[test] = named
        return named

    def named(self, tests: Iterable[str]) -> frozenset[str]:
        """The tests some rule's `test` glob selects: they get their own answer."""
        if not self._test_globs:
            return frozenset()
        return frozenset(test for test in tests if self._is_named(test))

    def ask(self, cell: Cell, test: str) -> Expectation:
        """Ask `expect` directly (the caller shares answers between unnamed tests)."""
        return self._ask_once(cell, test)

    def get(self, cell: Cell, test: str) -> Expectation:
        if self._test_globs and self._is_named(test):
            return self._ask_once(cell, test)
        cached = self._per_cell.get(cell.id)
        if cached is None:
            cached = self._ask_once(cell, test)
            self._per_cell[cell.id] = cached
        return cached

    def _ask_once(self, cell: Cell, test: str) -> Expectation:
        expectation, rule = self._ask(self._matrix, cell, test)
        if rule is not None:
            self.rules_used.add(rule.index)
        return expectation


def judge(
    matrix: Matrix,
    cells: Sequence[Cell],
    merged: Merged,
    *,
    planned: Collection[str] | None = None,
    phase_tests: Mapping[str, Iterable[str]] | None = None,
    coverage: Sequence[CoverageVerdict] = (),
    coverage_total: float | None = None,
    stale_rules: Sequence[ExpectRule] = (),
    expectation_for: ExpectationFor | None = None,
    display: tuple[tuple[str, ...], ...] | None = None,
    duration: float = 0.0,
) -> GateResult:
    """Judge every selected cell's tests and decide the exit code.

    `cells` are the planned cells selected for this gate; records of other
    cells are not judged. `planned` are the ids of all cells of the matrix's
    plan: records for a cell outside it are a problem (results of another
    matrix). `display` is (phases, adapters, envs, pythons) in report order
    (default: the matrix's declaration order, via `plan.display_order`).
    """
    ask = expectation_for or default_expectation_for
    expectations = _Expectations(matrix, ask)
    problems = list(merged.problems)

    by_cell = merged.cells
    if planned is not None:
        known = set(planned)
        unknown = sorted(cell_id for cell_id in by_cell if cell_id not in known)
        if unknown:
            shown = ", ".join(unknown[:5]) + (
                f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            )
            problems.append(
                f"results for {len(unknown)} cell(s) that matrix.yaml does not plan: {shown}; "
                "gate with the matrix that produced them"
            )

    # The tests each phase must show: the union over every recorded cell of the phase.
    phase_of = {cell.id: cell.phase for cell in cells}
    tests_of_phase: dict[str, set[str]] = {}
    for cell_id, tests in by_cell.items():
        phase = phase_of.get(cell_id) or cell_id.split("/", 1)[0]
        # A cell whose environment could not be installed has one record, for `*`.
        tests_of_phase.setdefault(phase, set()).update(t for t in tests if t != ALL_TESTS)
    # And what the runs say they collected: a collected test with no record is
    # judged `missing`, however many records were lost with it.
    for cell_id, named in merged.collected.items():
        phase = phase_of.get(cell_id) or cell_id.split("/", 1)[0]
        tests_of_phase.setdefault(phase, set()).update(named)
    for phase, extra in (phase_tests or {}).items():
        tests_of_phase.setdefault(phase, set()).update(extra)
    sorted_tests = {phase: sorted(tests) for phase, tests in tests_of_phase.items()}

    if display is None:
        display = display_order(matrix)
    phases, adapters, envs, pythons = display
    order = _cell_order(phases, adapters, envs, pythons)

    judge_cell = _CellJudge(expectations, sorted_tests, merged.incomplete_cells)
    blocks = [judge_cell(cell, by_cell.get(cell.id)) for cell in sorted(set(cells), key=order)]

    fail_on = matrix.gates.fail_on
    failed = _fails(blocks, fail_on) or any(not c.passed for c in coverage)
    if problems:
        exit_code = ExitCode.INCOMPLETE
    elif failed:
        exit_code = ExitCode.GATE_FAILED
    else:
        exit_code = ExitCode.OK
    return GateResult(
        judged=JudgedItems(blocks),
        exit_code=int(exit_code),
        fail_on=fail_on,
        problems=tuple(problems),
        stale_rules=tuple(sorted(stale_rules, key=lambda r: r.index)),
        coverage=tuple(coverage),
        coverage_total=coverage_total,
        phases=phases,
        adapters=adapters,
        envs=envs,
        pythons=pythons,
        duration=duration,
        sources=merged.sources,
    )


class _CellJudge:
    """Judges one cell at a time into a `CellJudgement`, sharing answers across cells.

    Per expectation (by identity) and outcome (by identity), the verdict and
    detail of the outcomes whose verdict depends on nothing else: nearly every
    item is one lookup. A failure whose verdict depends on its exception and
    message is judged once per (expectation, outcome, exception, message): the
    failures of one cause repeat both (shared strings). `keep` holds every
    expectation whose identity is a key, so no identity is reused.
    """

    def __init__(
        self,
        expectations: _Expectations,
        sorted_tests: Mapping[str, Sequence[str]],
        incomplete_cells: Collection[str],
    ) -> None:
        self.expectations = expectations
        self.sorted_tests = sorted_tests
        self.incomplete_cells = incomplete_cells
        self.named_of_phase = {
            phase: expectations.named(tests) for phase, tests in sorted_tests.items()
        }
        self.named_in_order = {
            phase: [test for test in tests if test in self.named_of_phase[phase]]
            for phase, tests in sorted_tests.items()
        }
        self.answers_of: dict[int, dict[int, tuple[Verdict, str]]] = {}
        self.by_reason: dict[tuple[int, int, str | None, str | None], tuple[Verdict, str]] = {}
        self.keep: list[Expectation] = []

    def _answers(self, expectation: Expectation) -> dict[int, tuple[Verdict, str]]:
        answers = self.answers_of.get(id(expectation))
        if answers is None:
            answers = self.answers_of[id(expectation)] = {}
            self.keep.append(expectation)
        return answers

    def _whole_cell(self, cell: Cell) -> tuple[Expectation, str]:
        """What a cell without any result expected: from its phase's tests, when known.

        The `*` item stands for every test of the phase, so it carries their
        expectation (the commonest, when they differ, and the detail counts each),
        not that of a test named `*`, which no rule names.
        """
        tests = self.sorted_tests.get(cell.phase, ())
        if not tests:
            return self.expectations.get(cell, ALL_TESTS), "no results for this cell"
        counts: dict[Expectation, int] = {}
        for test in tests:
            expectation = self.expectations.get(cell, test)
            counts[expectation] = counts.get(expectation, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].describe()))
        if len(ranked) == 1:
            # Named in the detail too: the reports group items by their detail.
            only = ranked[0][0]
            return only, f"no results for this cell, whose tests expect {only.describe()}"
        words = ", ".join(f"{expectation.describe()} ({n})" for expectation, n in ranked)
        return ranked[0][0], f"no results for this cell: its {len(tests)} test(s) expect {words}"

    def __call__(self, cell: Cell, recorded: Mapping[str, Record] | None) -> CellJudgement:
        expectations, new = self.expectations, new_judged
        gap = Verdict.INCOMPLETE if cell.id in self.incomplete_cells else Verdict.MISSING
        if not recorded:
            expectation, detail = self._whole_cell(cell)
            item = new((cell, ALL_TESTS, expectation, None, gap, detail))
            return CellJudgement(cell, (ALL_TESTS,), {}, None, {ALL_TESTS: item})
        whole = recorded.get(ALL_TESTS)
        if whole is not None and whole.outcome is Outcome.UNAVAILABLE and len(recorded) == 1:
            # Nothing ran: the cell's environment could not be made. One item, like a
            # cell with no records, but judged against what matrix.yaml expects of it.
            expectation = expectations.get(cell, ALL_TESTS)
            verdict, detail = verdict_for(expectation, whole)
            item = new((cell, ALL_TESTS, expectation, whole, verdict, detail))
            return CellJudgement(cell, (ALL_TESTS,), recorded, None, {ALL_TESTS: item})
        named = self.named_of_phase.get(cell.phase, frozenset())
        common: Expectation | None = None
        common_answers: dict[int, tuple[Verdict, str]] = {}
        # Only the items that are not plainly as expected under the common
        # expectation become objects (see CellJudgement).
        other: dict[str, Judged] = {}
        in_order: Sequence[str] = self.sorted_tests.get(cell.phase, ())
        visit = in_order
        # The first test no rule names asks for the common expectation.
        first = None
        if len(recorded) == len(in_order):
            first = next((test for test in in_order if test not in named), None)
        if first is not None:
            # Every test recorded: when each outcome the cell shows is plainly as
            # expected under the common expectation, so is every test no rule names,
            # and only the named ones are visited.
            common = expectations.ask(cell, first)
            common_answers = self._answers(common)
            if _all_as_expected(common, recorded, common_answers):
                visit = self.named_in_order[cell.phase]
        as_expected, by_reason = Verdict.AS_EXPECTED, self.by_reason
        for test in visit:
            if test in named:
                expectation = expectations.ask(cell, test)
                answers, usual = self._answers(expectation), False
            else:
                if common is None:
                    common = expectations.ask(cell, test)
                    common_answers = self._answers(common)
                expectation, answers, usual = common, common_answers, True
            found = recorded.get(test)
            if found is None:
                other[test] = new((cell, test, expectation, None, gap, "no result for this test"))
                continue
            outcome = found.outcome
            answer = answers.get(id(outcome))
            if answer is None:
                if _by_outcome_only(expectation, outcome):
                    answer = answers[id(outcome)] = verdict_for(expectation, found)
                else:
                    reason = (id(expectation), id(outcome), found.exc_type, found.message)
                    answer = by_reason.get(reason)
                    if answer is None:
                        answer = by_reason[reason] = verdict_for(expectation, found)
            verdict = answer[0]
            if verdict is not as_expected or not usual:
                other[test] = new((cell, test, expectation, found, verdict, answer[1]))
        return CellJudgement(cell, in_order, recorded, common, other)


def _fails(blocks: Sequence[CellJudgement], fail_on: frozenset[Verdict]) -> bool:
    """Whether any judged item has a verdict in `fail_on`.

    Decided from the items themselves (never from verdicts worked out along the
    way), comparing identities: hashing an enum member runs Python code.
    """
    failing = {id(verdict) for verdict in fail_on}
    usual_fails = id(Verdict.AS_EXPECTED) in failing
    for block in blocks:
        if usual_fails and len(block.other) < len(block.tests):
            return True
        for item in block.other.values():
            if id(item.verdict) in failing:
                return True
    return False


def _all_as_expected(
    expectation: Expectation,
    recorded: Mapping[str, Record],
    answers: dict[int, tuple[Verdict, str]],
) -> bool:
    """Whether every record's verdict is as expected, judged once per distinct outcome.

    Only outcomes whose verdict depends on nothing else count (`_by_outcome_only`);
    the distinct outcomes are found by identity in C-level passes over the records.
    """
    records = recorded.values()
    for key in set(map(id, map(_OUTCOME, records))):
        answer = answers.get(key)
        if answer is None:
            record = next(r for r in records if id(r.outcome) == key)
            if not _by_outcome_only(expectation, record.outcome):
                return False
            answer = answers[key] = verdict_for(expectation, record)
        if answer[0] is not Verdict.AS_EXPECTED:
            return False
    return True


_OUTCOME = operator.attrgetter("outcome")


def _by_outcome_only(expectation: Expectation, outcome: Outcome) -> bool:
    """Whether `verdict_for` depends on nothing but the outcome for this expectation."""
    if outcome is Outcome.FAILED or outcome is Outcome.ERROR:
        return not expectation.raises and not expectation.match
    return True


def _cell_order(
    phases: Sequence[str], adapters: Sequence[str], envs: Sequence[str], pythons: Sequence[str]
) -> Callable[[Cell], tuple[Any, ...]]:
    """Sort key for cells: display order of each axis, unknown values after known ones."""
    ranks = [{name: i for i, name in enumerate(axis)} for axis in (phases, adapters, envs, pythons)]

    def key(cell: Cell) -> tuple[Any, ...]:
        values = (cell.phase, cell.adapter, cell.env, cell.python)
        pairs = zip(ranks, values, strict=True)
        ranked = [(rank.get(value, len(rank)), value) for rank, value in pairs]
        return (*ranked, cell.id)

    return key
