"""The migration map: what each adapter state did in each phase and env, at a glance.

A migration lead asks one question of a run: where along the rollout does each
phase flip from "fails, as it must" to "passes"? The map answers it. Its rows
are the adapter states in rollout order (the gate's adapter order: deprecated,
the partial states as planned, ssot, then any environment adapters), its
columns the phases with their envs inside, and each position one `Mark`.

Pythons that behave alike would repeat the same map, so they are grouped: the
largest group of Pythons with one pattern is drawn, and every other group is
told only where it differs. Everything here is a pure function of the judged
result; the terminal and Markdown reports only draw it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

from migmatrix._speed import IdentityCache
from migmatrix.model import Cell, CellJudgement, Expectation, GateResult, Judged
from migmatrix.outcomes import UNEXPECTED_VERDICTS, Expected, Outcome, Verdict
from migmatrix.report.summary import judgements


class Mark(enum.Enum):
    """What one (state, phase, env) position shows; the value is its name in words."""

    PASSED = "passed as expected"
    REPRODUCED = "failed as expected (reproduced)"
    UNEXPECTED = "unexpected"
    FLAKY = "flaky"
    UNAVAILABLE = "unavailable"
    NOT_PLANNED = "not planned"


# One character each, readable without colour. The Unicode set needs an encoding
# that can show it; the ASCII set is for every other stream.
UNICODE_MARKS = {
    Mark.PASSED: "✓",
    Mark.REPRODUCED: "✗",
    Mark.UNEXPECTED: "!",
    Mark.FLAKY: "≈",
    Mark.UNAVAILABLE: "∅",
    Mark.NOT_PLANNED: "·",
}
ASCII_MARKS = {
    Mark.PASSED: "+",
    Mark.REPRODUCED: "x",
    Mark.UNEXPECTED: "!",
    Mark.FLAKY: "~",
    Mark.UNAVAILABLE: "u",
    Mark.NOT_PLANNED: ".",
}

# When one cell's items are split over several blocks (a hand-built result), the
# cell shows the mark that most needs a look: the first of this order it has.
_PRECEDENCE = (Mark.UNEXPECTED, Mark.FLAKY, Mark.REPRODUCED, Mark.PASSED, Mark.UNAVAILABLE)
Position = tuple[str, str, str]  # (state, phase, env)
Grid = dict[Position, Mark]


class Difference:
    """One position where a group of Pythons differs from the drawn map."""

    __slots__ = ("env", "mine", "phase", "shown", "state")

    def __init__(self, position: Position, shown: Mark, mine: Mark) -> None:
        self.state, self.phase, self.env = position
        self.shown = shown
        self.mine = mine


class PythonGroup:
    """Pythons that give one and the same pattern, and where it differs from the map's."""

    __slots__ = ("differences", "pythons")

    def __init__(self, pythons: tuple[str, ...], differences: list[Difference]) -> None:
        self.pythons = pythons
        self.differences = differences


class MigrationMap:
    """The map as the reports draw it.

    `states` are the rows, `columns` each phase with its envs, `grid` the drawn
    pattern (a position absent from it is not planned), `shown` the Pythons that
    give exactly that pattern and `others` every other group of Pythons with the
    positions where it differs.
    """

    __slots__ = ("columns", "grid", "others", "pythons", "shown", "states")

    def __init__(
        self,
        states: list[str],
        columns: list[tuple[str, tuple[str, ...]]],
        grid: Grid,
        pythons: tuple[str, ...],
        shown: tuple[str, ...],
        others: list[PythonGroup],
    ) -> None:
        self.states = states
        self.columns = columns
        self.grid = grid
        self.pythons = pythons
        self.shown = shown
        self.others = others

    def mark(self, state: str, phase: str, env: str) -> Mark:
        return self.grid.get((state, phase, env), Mark.NOT_PLANNED)


def cell_mark(block: CellJudgement) -> Mark:
    """The mark of one block of a cell's judged items.

    Any unexpected verdict makes it unexpected; else a flaky test makes it
    flaky, a reproduced failure "failed as expected". A cell none of whose tests
    could run there, as planned, is unavailable: every test expected to skip
    and skipped, or recorded as `unavailable` (a state that does not install on
    that Python). Anything else passed as expected.
    """
    verdicts = {judged.verdict for judged in block.other.values()}
    if verdicts & UNEXPECTED_VERDICTS:
        return Mark.UNEXPECTED
    if Verdict.FLAKY in verdicts:
        return Mark.FLAKY
    if Verdict.REPRODUCED in verdicts:
        return Mark.REPRODUCED
    # The usual items are as expected under the block's expectation, so its words
    # say what they did without looking at each record.
    usual = len(block.tests) > len(block.other)
    cannot_run = all(_could_not_run(judged) for judged in block.other.values()) and (
        not usual or _cannot_run(block.expectation)
    )
    return Mark.UNAVAILABLE if cannot_run and block.tests else Mark.PASSED


# The expectations that say a test cannot run in a cell: skipped there, or its
# state cannot be installed on that Python (issue 15).
_CANNOT_RUN = (frozenset({Expected.SKIP}), frozenset({Expected.UNAVAILABLE}))


def _cannot_run(expectation: Expectation | None) -> bool:
    """An expectation that the test cannot run here: skip, or unavailable."""
    if expectation is None:
        return False
    return expectation.outcomes in _CANNOT_RUN


def _could_not_run(judged: Judged) -> bool:
    record = judged.record
    return (
        _cannot_run(judged.expectation)
        or (record is not None and record.outcome is Outcome.UNAVAILABLE)
        or judged.verdict is Verdict.UNAVAILABLE
    )


def cell_marks(result: GateResult) -> dict[Cell, Mark]:
    """Every judged cell's mark (blocks of one cell joined by precedence).

    Worked out once per result: the map and the HTML page's data both ask.
    """
    return dict(_marks(result))


def _cell_marks(result: GateResult) -> dict[Cell, Mark]:
    marks: dict[Cell, Mark] = {}
    for block in judgements(result):
        mark = cell_mark(block)
        before = marks.get(block.cell)
        if before is None or _PRECEDENCE.index(mark) < _PRECEDENCE.index(before):
            marks[block.cell] = mark
    return marks


_marks: IdentityCache[GateResult, dict[Cell, Mark]] = IdentityCache(_cell_marks)


def build_map(result: GateResult) -> MigrationMap:
    """The migration map of a judged result."""
    marks = cell_marks(result)
    cells = list(marks)
    pythons = tuple(ordered(result.pythons, (c.python for c in cells)))
    states = ordered(result.adapters, (c.adapter for c in cells))
    envs = ordered(result.envs, (c.env for c in cells))
    columns = []
    for phase in ordered(result.phases, (c.phase for c in cells)):
        here = {c.env for c in cells if c.phase == phase}
        columns.append((phase, tuple(env for env in envs if env in here)))
    grids: dict[str, Grid] = {python: {} for python in pythons}
    for cell, mark in marks.items():
        grids[cell.python][(cell.adapter, cell.phase, cell.env)] = mark
    groups = group_pythons(pythons, grids)
    shown_pythons, shown = max(groups, key=lambda group: len(group[0]))
    positions = [(s, p, e) for s in states for p, es in columns for e in es]
    others = [
        PythonGroup(group, differences(positions, shown, grid))
        for group, grid in groups
        if group != shown_pythons
    ]
    return MigrationMap(states, columns, shown, pythons, shown_pythons, others)


def group_pythons(
    pythons: Sequence[str], grids: dict[str, Grid]
) -> list[tuple[tuple[str, ...], Grid]]:
    """Pythons with identical patterns, grouped, in the order of their first Python."""
    groups: list[tuple[list[str], Grid]] = []
    for python in pythons:
        grid = grids[python]
        for members, seen in groups:
            if seen == grid:
                members.append(python)
                break
        else:
            groups.append(([python], grid))
    if not groups:
        return [((), {})]
    return [(tuple(members), grid) for members, grid in groups]


def differences(positions: Iterable[Position], shown: Grid, mine: Grid) -> list[Difference]:
    """The positions, in map order, where `mine` shows another mark than `shown`."""
    found = []
    for position in positions:
        a = shown.get(position, Mark.NOT_PLANNED)
        b = mine.get(position, Mark.NOT_PLANNED)
        if a is not b:
            found.append(Difference(position, a, b))
    return found


def python_span(group: Sequence[str], pythons: Sequence[str]) -> str:
    """Pythons named compactly: 'py3.10-3.13' for a run of the result's order, else a list."""
    if not group:
        return "no Python"
    at = [pythons.index(p) for p in group]
    if len(group) > 1 and at == list(range(at[0], at[0] + len(group))):
        return f"py{group[0]}-{group[-1]}"
    return ", ".join(f"py{p}" for p in group)


def pythons_line(found: MigrationMap) -> str:
    """What the drawn map stands for, e.g. 'py3.10-3.13 identical'."""
    span = python_span(found.shown, found.pythons)
    if len(found.shown) > 1 and not found.others:
        return f"{span} identical"
    if not found.others:
        return span
    rest = "; ".join(
        f"{python_span(g.pythons, found.pythons)} differs at {len(g.differences)} position(s)"
        for g in found.others
    )
    return f"{span}{' identical' if len(found.shown) > 1 else ''}; {rest} (listed below)"


def env_labels(envs: Sequence[str]) -> dict[str, str]:
    """The shortest prefix of each env's name that no other env shares (u, i, s)."""
    labels = {}
    for env in envs:
        size = 1
        while size < len(env) and any(o != env and o.startswith(env[:size]) for o in envs):
            size += 1
        labels[env] = env[:size]
    return labels


def ordered(given: Sequence[str], seen: Iterable[str]) -> list[str]:
    """Values seen, in the given display order, then unknown ones sorted."""
    present = set(seen)
    known = [value for value in given if value in present]
    return known + sorted(present - set(given))
