"""What every report counts and words the same way, worked out once per gate result.

The judge (`migmatrix.gate`) hands the reports a `GateResult`; this module
turns its judged items into what the terminal, Markdown, JSON, JUnit and HTML
reports all show: a summary per cell, the per-Python matrix tables, totals per
verdict, the unexpected items, and the words for the gate's status, a stale
rule, an outcome (`got`) and a message (`migmatrix.text.one_line`). The counts are made in one
pass and kept per result (a result is immutable), so five reports cost one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from migmatrix._speed import IdentityCache
from migmatrix.gate import ALL_TESTS
from migmatrix.model import Cell, CellJudgement, ExpectRule, GateResult, Judged, JudgedItems
from migmatrix.outcomes import UNEXPECTED_VERDICTS, ExitCode, Verdict


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


def unexpected(result: GateResult) -> list[Judged]:
    """The judged items that are not as planned, in report order."""
    return list(_facts(result).unexpected)


STATUS = {
    int(ExitCode.OK): "passed",
    int(ExitCode.GATE_FAILED): "failed",
    int(ExitCode.INCOMPLETE): "incomplete",
}


def status(result: GateResult) -> str:
    """'passed', 'failed' or 'incomplete' for the gate's exit code."""
    return STATUS.get(result.exit_code, "error")


def coverage_words(result: GateResult) -> str:
    """What a gate's closing line says of the coverage rules: failed and unchecked ones, or ''."""
    failed = [c.rule.name for c in result.coverage if not c.passed]
    skipped = [c.rule.name for c in result.coverage if c.skipped]
    parts = []
    if failed:
        parts.append(f"coverage rule(s) failed: {', '.join(failed)}")
    if skipped:
        # Why is in the coverage section; the closing line stays short enough not to wrap.
        parts.append(f"{len(skipped)} coverage rule(s) not checked")
    return "; ".join(parts)


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
