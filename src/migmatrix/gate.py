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
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from migmatrix._speed import IdentityCache
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
from migmatrix.outcomes import (
    UNEXPECTED_VERDICTS,
    ExitCode,
    Expected,
    Outcome,
    Verdict,
)
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
        tests_of_phase.setdefault(phase, set()).update(tests)
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

    def __call__(self, cell: Cell, recorded: Mapping[str, Record] | None) -> CellJudgement:
        expectations, new = self.expectations, new_judged
        gap = Verdict.INCOMPLETE if cell.id in self.incomplete_cells else Verdict.MISSING
        if not recorded:
            expectation = expectations.get(cell, ALL_TESTS)
            item = new((cell, ALL_TESTS, expectation, None, gap, "no results for this cell"))
            return CellJudgement(cell, (ALL_TESTS,), {}, None, {ALL_TESTS: item})
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


def unexpected(result: GateResult) -> list[Judged]:
    """The judged items that are not as planned, in report order."""
    return list(_facts(result).unexpected)


# --------------------------------------------------------------------------- summaries for reports


class CellSummary:
    """Counts for one cell, as every report shows them."""

    __slots__ = ("cell", "failing", "ok", "star", "total", "unexpected", "verdicts")

    def __init__(self, cell: Cell) -> None:
        self.cell = cell
        self.total = 0
        self.ok = 0
        self.unexpected = 0
        self.failing = 0  # unexpected verdicts that are in fail_on
        self.verdicts: dict[Verdict, int] = {}
        self.star = False  # judged as a whole: the cell has no records at all

    def copy(self) -> CellSummary:
        twin = CellSummary(self.cell)
        twin.total, twin.ok, twin.unexpected = self.total, self.ok, self.unexpected
        twin.failing, twin.star, twin.verdicts = self.failing, self.star, dict(self.verdicts)
        return twin

    @property
    def no_results(self) -> bool:
        """The cell has no records at all (its one verdict is for the test `*`)."""
        return self.star and self.total == 1

    def text(self) -> str:
        """'12/12 ok', '3 unexpected' or 'no results'."""
        if self.no_results:
            return "no results"
        if self.unexpected:
            return f"{self.unexpected} unexpected"
        return f"{self.ok}/{self.total} ok"


def summarize(result: GateResult) -> list[CellSummary]:
    """One summary per judged cell, in report order (each call gets its own copies)."""
    return [summary.copy() for summary in _facts(result).summaries]


class MatrixTable:
    """One Python's matrix as the reports draw it: a row per phase, a column per adapter/env.

    `columns` are the (adapter, env) pairs judged for this Python and `rows` pair
    each phase with its summary per column (None: no such cell was judged).
    Phases, adapters and envs come in the result's display order, any others
    after them sorted.
    """

    __slots__ = ("columns", "python", "rows")

    def __init__(
        self,
        python: str,
        columns: list[tuple[str, str]],
        rows: list[tuple[str, list[CellSummary | None]]],
    ) -> None:
        self.python = python
        self.columns = columns
        self.rows = rows


def matrix_tables(result: GateResult) -> list[MatrixTable]:
    """The per-Python matrix tables of the terminal and Markdown reports, in order."""
    summaries = summarize(result)
    tables = []
    for python in _ordered(result.pythons, [s.cell.python for s in summaries]):
        here = {
            (s.cell.phase, s.cell.adapter, s.cell.env): s
            for s in summaries
            if s.cell.python == python
        }
        present = {key[1:] for key in here}
        adapters = _ordered(result.adapters, [adapter for adapter, _ in present])
        envs = _ordered(result.envs, [env for _, env in present])
        columns = [(a, e) for a in adapters for e in envs if (a, e) in present]
        rows = [
            (phase, [here.get((phase, adapter, env)) for adapter, env in columns])
            for phase in _ordered(result.phases, [key[0] for key in here])
        ]
        tables.append(MatrixTable(python, columns, rows))
    return tables


def _ordered(given: Sequence[str], seen: Iterable[str]) -> list[str]:
    """Values seen, in the given display order, then unknown ones sorted."""
    present = set(seen)
    known = [value for value in given if value in present]
    return known + sorted(present - set(given))


class _Facts:
    """What every report counts over all judged items, worked out in one pass."""

    __slots__ = ("summaries", "totals", "unexpected")

    def __init__(
        self, summaries: list[CellSummary], totals: dict[Verdict, int], unexpected: list[Judged]
    ) -> None:
        self.summaries = summaries
        self.totals = totals
        self.unexpected = unexpected


def _count(result: GateResult) -> _Facts:
    summaries: list[CellSummary] = []
    totals = dict.fromkeys(Verdict, 0)
    items: list[Judged] = []
    fail_on = result.fail_on
    as_expected = Verdict.AS_EXPECTED
    plain = 0
    # A block's usual items, nearly all of them, are only counted (no enum hashing).
    for block in judgements(result):
        summary = CellSummary(block.cell)
        summaries.append(summary)
        ok = len(block.tests) - len(block.other)
        for judged in block.other.values():
            verdict = judged.verdict
            if verdict is as_expected:
                ok += 1
                continue
            totals[verdict] += 1
            summary.total += 1
            summary.verdicts[verdict] = summary.verdicts.get(verdict, 0) + 1
            if verdict in UNEXPECTED_VERDICTS:
                items.append(judged)
                summary.unexpected += 1
                if verdict in fail_on:
                    summary.failing += 1
                if judged.test == ALL_TESTS and judged.record is None:
                    summary.star = True
            else:
                summary.ok += 1
        _close(summary, ok)
        plain += ok
    totals[as_expected] = plain
    return _Facts(_merge_same_cells(summaries), totals, items)


def judgements(result: GateResult) -> tuple[CellJudgement, ...]:
    """The result's items as cell blocks, in report order, for reports that walk them.

    The gate's own result holds them (`JudgedItems`); for a result built by hand
    from any sequence of items they are worked out once: a block per run of
    items with the same cell, every item kept as it is.
    """
    judged = result.judged
    if isinstance(judged, JudgedItems):
        return judged.blocks
    return _grouped(result)


def _blocks_of(result: GateResult) -> tuple[CellJudgement, ...]:
    blocks: list[CellJudgement] = []
    cell: Cell | None = None
    tests: list[str] = []
    other: dict[str, Judged] = {}
    for judged in result.judged:
        # A new cell, or a test repeated within one cell's run, starts a block.
        if judged.cell is not cell or judged.test in other:
            if cell is not None:
                blocks.append(CellJudgement(cell, tests, {}, None, other))
            cell, tests, other = judged.cell, [], {}
        tests.append(judged.test)
        other[judged.test] = judged
    if cell is not None:
        blocks.append(CellJudgement(cell, tests, {}, None, other))
    return tuple(blocks)


_grouped: IdentityCache[GateResult, tuple[CellJudgement, ...]] = IdentityCache(_blocks_of)


# Each report needs the same counts; a gate result is immutable, so they are worked
# out once per result (keyed by identity, dropped with the result) rather than once
# per report over hundreds of thousands of items.
_facts: IdentityCache[GateResult, _Facts] = IdentityCache(_count)


def _close(summary: CellSummary, as_expected: int) -> None:
    if as_expected:
        summary.total += as_expected
        summary.ok += as_expected
        summary.verdicts[Verdict.AS_EXPECTED] = as_expected


def _merge_same_cells(summaries: list[CellSummary]) -> list[CellSummary]:
    """Join summaries of equal cells that were not adjacent (a hand-built, unsorted result)."""
    if len({s.cell.id for s in summaries}) == len(summaries):
        return summaries
    joined: dict[str, CellSummary] = {}
    for part in summaries:
        whole = joined.setdefault(part.cell.id, CellSummary(part.cell))
        whole.total += part.total
        whole.ok += part.ok
        whole.unexpected += part.unexpected
        whole.failing += part.failing
        whole.star = whole.star or part.star
        for verdict, n in part.verdicts.items():
            whole.verdicts[verdict] = whole.verdicts.get(verdict, 0) + n
    return list(joined.values())


def verdict_totals(result: GateResult) -> dict[Verdict, int]:
    """How many judged items have each verdict (every verdict listed, in enum order)."""
    return dict(_facts(result).totals)


STATUS = {
    int(ExitCode.OK): "passed",
    int(ExitCode.GATE_FAILED): "failed",
    int(ExitCode.INCOMPLETE): "incomplete",
}


def status(result: GateResult) -> str:
    """'passed', 'failed' or 'incomplete' for the gate's exit code."""
    return STATUS.get(result.exit_code, "error")


_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")


def excerpt(text: str | None, limit: int = 200) -> str:
    """The first line of a message without terminal escapes, cut to `limit` characters."""
    if not text:
        return ""
    text = _CONTROL.sub("", text).strip()
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


def got(judged: Judged) -> str:
    """What happened, in words: the outcome and exception type, or why nothing happened."""
    record = judged.record
    if record is None:
        return "no result"
    if record.exc_type:
        return f"{record.outcome.value} ({record.exc_type})"
    return record.outcome.value


def rule_words(rule: ExpectRule) -> str:
    """A stale rule, as reports name it: its position, place in the file and selectors."""
    where = rule.where
    parts = [
        f"{name}={value}"
        for name, value in (
            ("phase", where.phase),
            ("adapter", where.adapter),
            ("env", where.env),
            ("python", where.python),
            ("test", rule.test),
        )
        if value is not None
    ]
    selectors = " ".join(parts) or "(every cell)"
    return f"rule #{rule.index + 1} at {rule.location}: {selectors}"
