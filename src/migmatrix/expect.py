"""What each test must do in each cell: matrix.yaml's expectation rules, resolved.

A rule applies to a (cell, test) when every cell selector it sets matches the cell,
its `test` glob (if any) matches the test id, the cell has ALL of its `requires`
features and NONE of its `unless` features. Among the rules that apply, the most
specific wins: first a rule naming a test beats one that does not, then more cell
selectors beat fewer, then more feature conditions beat fewer, and a tie goes to
the rule written later (so a file reads top-down, general to particular). No rule
-> the matrix's default.

The gate asks this for every planned (cell, test), hundreds of thousands of times,
so the cell-only part (selectors and features) is worked out once per cell, and
cells with the same applicable rules share one answer cache per test id. The
functions stay pure: the caches are keyed by the matrix object and change nothing
observable.

A test glob matches the test id (`test_x.py::TestK::test_y[a]`), the id without
its parameters (`test_x.py::TestK::test_y`), or any `::` prefix of it
(`test_x.py`, `test_x.py::TestK`), like a pytest node id selects its children.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Collection, Iterable

from migmatrix._speed import IdentityCache
from migmatrix.match import adapter_matches, glob_match
from migmatrix.model import Cell, Expectation, ExpectRule, Matrix

CellKey = tuple[str, str, str, str]


def precedence(rule: ExpectRule) -> tuple[bool, int, int, int]:
    """Sort key: larger wins (has test, cell selectors, feature conditions, file position)."""
    return (
        rule.test is not None,
        rule.where.specificity,
        len(rule.requires) + len(rule.unless),
        rule.index,
    )


def selects_test(pattern: str, test_id: str) -> bool:
    """Whether a rule's `test` glob selects `test_id` (see the module docstring)."""
    if glob_match(pattern, test_id):
        return True
    return any(glob_match(pattern, candidate) for candidate in _test_prefixes(test_id))


def _test_prefixes(test_id: str) -> list[str]:
    out = []
    last = test_id.rfind("::")
    if test_id.endswith("]"):
        bracket = test_id.find("[", last + 2 if last >= 0 else 0)
        if bracket > 0:
            out.append(test_id[:bracket])
    parts = test_id.split("::")
    out.extend("::".join(parts[:n]) for n in range(len(parts) - 1, 0, -1))
    return out


def why_not(rule: ExpectRule, cell: Cell) -> str | None:
    """Why a rule's cell-side conditions exclude `cell`, or None if they admit it."""
    where = rule.where
    if where.phase is not None and not glob_match(where.phase, cell.phase):
        return f"phase {cell.phase!r} does not match {where.phase!r}"
    if where.adapter is not None and not adapter_matches(
        where.adapter, cell.adapter, cell.adapter_base
    ):
        return f"adapter {cell.adapter!r} does not match {where.adapter!r}"
    if where.env is not None and not glob_match(where.env, cell.env):
        return f"env {cell.env!r} does not match {where.env!r}"
    if where.python is not None and not glob_match(where.python, cell.python):
        return f"python {cell.python!r} does not match {where.python!r}"
    missing = [f for f in rule.requires if f not in cell.features]
    if missing:
        return f"the cell lacks required feature(s) {', '.join(missing)}"
    present = [f for f in rule.unless if f in cell.features]
    if present:
        return f"the cell has feature(s) {', '.join(present)} listed in `unless`"
    return None


def rule_expectation(rule: ExpectRule) -> Expectation:
    return Expectation(
        outcomes=rule.outcomes,
        raises=rule.raises,
        match=rule.match,
        bug=rule.bug,
        owner=rule.owner,
        reason=rule.reason,
        rule=rule.index,
    )


# --------------------------------------------------------------------------- cached lookup


@dataclasses.dataclass
class _Group:
    """The rules that apply to some cells before looking at the test, best first."""

    rules: tuple[ExpectRule, ...]
    default: tuple[Expectation, None]
    answers: dict[str, tuple[Expectation, ExpectRule | None]] = dataclasses.field(
        default_factory=dict
    )

    def lookup(self, test_id: str) -> tuple[Expectation, ExpectRule | None]:
        answer = self.answers.get(test_id)
        if answer is None:
            answer = self.default
            for rule in self.rules:
                if rule.test is None or selects_test(rule.test, test_id):
                    answer = (rule_expectation(rule), rule)
                    break
            self.answers[test_id] = answer
        return answer


class _Index:
    """Per matrix: which rules each axis value and each feature set admits, as bit masks.

    Bit k stands for the k-th rule in precedence order (best first). A cell's
    applicable rules are the AND of its phase, adapter, env, python and feature
    masks; each distinct mask gets one `_Group` and its per-test answer cache. A
    matrix has few distinct axis values and feature sets, so 10,000 cells cost a
    few hundred selector checks, not 10,000 x rules.
    """

    def __init__(self, matrix: Matrix) -> None:
        self.rules = tuple(sorted(matrix.rules, key=precedence, reverse=True))
        self.default: tuple[Expectation, None] = (Expectation(outcomes=matrix.default), None)
        self.by_cell: dict[CellKey, _Group] = {}
        self.groups: dict[int, _Group] = {}
        self.axis_masks: dict[tuple[str, str, str], int] = {}
        self.feature_masks: dict[frozenset[str], int] = {}

    def axis_mask(self, axis: str, value: str, base: str = "") -> int:
        key = (axis, value, base)
        mask = self.axis_masks.get(key)
        if mask is None:
            mask = 0
            for bit, rule in enumerate(self.rules):
                pattern = getattr(rule.where, axis)
                if pattern is None:
                    ok = True
                elif axis == "adapter":
                    ok = adapter_matches(pattern, value, base)
                else:
                    ok = glob_match(pattern, value)
                if ok:
                    mask |= 1 << bit
            self.axis_masks[key] = mask
        return mask

    def feature_mask(self, features: frozenset[str]) -> int:
        mask = self.feature_masks.get(features)
        if mask is None:
            mask = 0
            for bit, rule in enumerate(self.rules):
                if all(f in features for f in rule.requires) and not any(
                    f in features for f in rule.unless
                ):
                    mask |= 1 << bit
            self.feature_masks[features] = mask
        return mask

    def group(self, cell: Cell) -> _Group:
        key = (cell.phase, cell.adapter, cell.env, cell.python)
        group = self.by_cell.get(key)
        if group is None:
            mask = (
                self.axis_mask("phase", cell.phase)
                & self.axis_mask("adapter", cell.adapter, cell.adapter_base)
                & self.axis_mask("env", cell.env)
                & self.axis_mask("python", cell.python)
                & self.feature_mask(cell.features)
            )
            group = self.groups.get(mask)
            if group is None:
                rules = tuple(rule for bit, rule in enumerate(self.rules) if mask >> bit & 1)
                group = self.groups[mask] = _Group(rules, self.default)
            self.by_cell[key] = group
        return group


# Built once per matrix (keyed by identity, dropped with the matrix): every lookup
# of a run, in the plugin and in the gate, shares one index.
_index: IdentityCache[Matrix, _Index] = IdentityCache(_Index)


def expectation_for(
    matrix: Matrix, cell: Cell, test_id: str
) -> tuple[Expectation, ExpectRule | None]:
    """The expectation for `test_id` in `cell` and the rule that set it (None = the default)."""
    return _index(matrix).group(cell).lookup(test_id)


def explain(matrix: Matrix, cell: Cell, test_id: str | None = None) -> list[str]:
    """Human lines: every rule considered, whether it applies and why not, and the winner."""
    features = ", ".join(sorted(cell.features)) or "none"
    head = f"cell {cell.id} (features: {features})"
    lines = [head + (f", test {test_id}" if test_id else "")]
    applying: list[ExpectRule] = []
    for rule in matrix.rules:
        reason = why_not(rule, cell)
        if reason is None and rule.test is not None:
            if test_id is None:
                reason = f"it names test {rule.test!r} and no test was given"
            elif not selects_test(rule.test, test_id):
                reason = f"test {test_id!r} does not match {rule.test!r}"
        verdict = "applies" if reason is None else f"does not apply: {reason}"
        lines.append(f"  rule {rule.index} at {rule.location} ({_describe(rule)}): {verdict}")
        if reason is None:
            applying.append(rule)
    if not applying:
        default = Expectation(outcomes=matrix.default).describe()
        lines.append(f"  no rule applies: the default {default!r} holds")
        return lines
    best = max(applying, key=precedence)
    lines.append(f"  winner: rule {best.index} -> {rule_expectation(best).describe()}")
    for other in sorted(applying, key=precedence, reverse=True):
        if other is not best:
            lines.append(f"    over rule {other.index}: {_why_wins(best, other)}")
    return lines


def _describe(rule: ExpectRule) -> str:
    parts = [
        f"{axis}={value}"
        for axis, value in (
            ("phase", rule.where.phase),
            ("adapter", rule.where.adapter),
            ("env", rule.where.env),
            ("python", rule.where.python),
            ("test", rule.test),
        )
        if value is not None
    ]
    if rule.requires:
        parts.append(f"requires=[{', '.join(rule.requires)}]")
    if rule.unless:
        parts.append(f"unless=[{', '.join(rule.unless)}]")
    parts.append(f"-> {rule_expectation(rule).describe()}")
    return " ".join(parts)


def _why_wins(best: ExpectRule, other: ExpectRule) -> str:
    a, b = precedence(best), precedence(other)
    if a[0] != b[0]:
        return "it names a test"
    if a[1] != b[1]:
        return f"it sets more cell selectors ({a[1]} > {b[1]})"
    if a[2] != b[2]:
        return f"it has more feature conditions ({a[2]} > {b[2]})"
    return "equally specific, and it is written later"


def stale_rules(
    matrix: Matrix, cell_tests: Iterable[tuple[Cell, Collection[str]]]
) -> tuple[ExpectRule, ...]:
    """Rules that apply to no recorded (cell, test), in file order.

    `cell_tests` pairs each cell with the test ids recorded for it. Cells that
    the same rules select form one group: a test is checked against a group's
    `test` globs once, however many of its cells recorded it.
    """
    index = _index(matrix)
    unused = {rule.index for rule in matrix.rules}
    checked: dict[int, set[str]] = {}
    for cell, tests in cell_tests:
        if not unused:
            break
        if not tests:
            continue
        group = index.group(cell)
        globbed: list[tuple[int, str]] = []  # (rule index, test glob)
        for rule in group.rules:
            if rule.index not in unused:
                continue
            if rule.test is None:
                unused.discard(rule.index)  # it applies to every test of the cell
            else:
                globbed.append((rule.index, rule.test))
        if not globbed:
            continue
        done = checked.setdefault(id(group), set())
        for test_id in tests:
            if test_id in done:
                continue
            done.add(test_id)
            for number, pattern in globbed:
                if number in unused and selects_test(pattern, test_id):
                    unused.discard(number)
    return tuple(rule for rule in matrix.rules if rule.index in unused)


def expired_rules(matrix: Matrix, today: datetime.date) -> tuple[ExpectRule, ...]:
    """Rules whose `until:` day is before `today`, in file order.

    `until` names the last day a rule holds, so a rule until 2026-06-30 is
    expired from 2026-07-01 on. `today` is the caller's (the gate's `--today`, or
    the clock's date), so the function stays pure.
    """
    return tuple(rule for rule in matrix.rules if rule.until is not None and rule.until < today)
