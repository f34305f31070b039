"""The two-way ratchet: this gate's expectations and outcomes against a baseline's.

For every (cell, test) judged in both:

- **loosened**: the expectation now admits an outcome it did not (a test that
  passed in a state is now expected to fail there, or may), or asks less of a
  failure's reason (`raises` dropped or changed, `match` dropped or changed to a
  pattern that is not a longer form of the old one). A verdict of its own: it
  fails the gate, so a regression cannot be turned green by adding a rule quietly.
  An expectation that becomes exactly `pass` never loosens: nothing is stricter.
- **tightened**: the expectation admits less (an expected failure became a pass,
  a flaky set lost a member) or asks more of the reason: progress.
- **newly passing**: the test did not pass in the baseline and passes now: progress.

A (cell, test) in only one of the two (another selection, a new test) is not
compared. Changes are grouped by rule and expectation, with their cells and tests.
"""

from __future__ import annotations

import dataclasses
import enum

from migmatrix.lifecycle.snapshot import ExpKey, Snapshot, describe


class Change(enum.Enum):
    LOOSENED = "loosened"
    TIGHTENED = "tightened"
    NEWLY_PASSING = "newly-passing"


@dataclasses.dataclass(frozen=True)
class ChangeGroup:
    """One kind of change between the same before and after, with where it happened."""

    change: Change
    before: str
    after: str
    rule_before: int | None
    rule_after: int | None
    cells: tuple[str, ...]
    tests: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Comparison:
    groups: tuple[ChangeGroup, ...]
    compared: int  # (cell, test) pairs in both

    def of(self, change: Change) -> tuple[ChangeGroup, ...]:
        return tuple(group for group in self.groups if group.change is change)

    @property
    def loosened(self) -> bool:
        return any(group.change is Change.LOOSENED for group in self.groups)


_PASS = frozenset({"pass"})
_REASONED = frozenset({"fail", "error"})


def classify(before: ExpKey, after: ExpKey) -> Change | None:
    """Whether `after` is looser or tighter than `before` (None: neither, or the same)."""
    b_words, b_raises, b_match, _ = before
    a_words, a_raises, a_match, _ = after
    if (b_words, b_raises, b_match) == (a_words, a_raises, a_match):
        return None
    if a_words == _PASS:
        return Change.TIGHTENED
    if a_words - b_words:
        return Change.LOOSENED
    looser = tighter = False
    if a_words & _REASONED:
        if b_raises and a_raises != b_raises:
            looser = True
        elif a_raises and not b_raises:
            tighter = True
        if b_match and a_match != b_match:
            if a_match is not None and b_match in a_match:
                tighter = True
            else:
                looser = True
        elif a_match and not b_match:
            tighter = True
    if looser:
        return Change.LOOSENED
    if tighter or b_words - a_words:
        return Change.TIGHTENED
    return None


def compare(before: Snapshot, after: Snapshot) -> Comparison:
    """Every loosened or tightened expectation and every newly passing test, grouped."""
    found: dict[tuple[Change, str, str, int | None, int | None], tuple[set[str], set[str]]] = {}
    compared = 0
    for cell in sorted(before.judged_cells & after.judged_cells):
        tests = sorted(before.tests(cell) & after.tests(cell))
        was_failing, failing = (
            before.not_passed.get(cell, frozenset()),
            after.not_passed.get(cell, frozenset()),
        )
        for test in tests:
            compared += 1
            old, new = before.expectation(cell, test), after.expectation(cell, test)
            change = classify(old, new)
            if change is not None:
                key = (change, describe(old), describe(new), old[3], new[3])
                cells, names = found.setdefault(key, (set(), set()))
                cells.add(cell)
                names.add(test)
            if test in was_failing and test not in failing:
                key = (Change.NEWLY_PASSING, "", "", None, None)
                cells, names = found.setdefault(key, (set(), set()))
                cells.add(cell)
                names.add(test)
    order = list(Change)
    groups = [
        ChangeGroup(change, b, a, rb, ra, tuple(sorted(cells)), tuple(sorted(names)))
        for (change, b, a, rb, ra), (cells, names) in found.items()
    ]
    groups.sort(key=lambda g: (order.index(g.change), g.after, g.before, str(g.rule_after)))
    return Comparison(tuple(groups), compared)
