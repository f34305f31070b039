"""Which rules make the observed outcomes the expected ones: a pure function of its inputs.

Only what was observed counts. A (cell, test) the results do not hold keeps its
expectation: every proposal is checked against the plan, and one that would
change an unobserved cell's expectation is narrowed (env and python selectors
for the values the results cover) or given up for rules that name the cells.

For each test that did not do what its expectation says (crashed and timed-out
tests excepted: those are verdicts of their own, never an expectation), the
observed outcome becomes the wanted one, with `raises` from the exception type
and `match` from the stable part of the messages (`stable`). Then, per phase:

1. a feature rule: one `unless: [F]`, `requires: [F]` or `requires: [A]` with
   `unless: [B]` whose cells are exactly explained by the flip: it covers every
   observed cell that must change, and only cells that showed the wanted outcome.
   The tests of one file with the same rule share it (`test: "file.py::*"`) when
   the rule then covers every test of that file;
2. otherwise, rules with cell selectors (one per adapter state).

Every proposal is verified by judging the observed records again under the
edited rules (`expect.expectation_for`), so precedence between the new rule and
the existing ones never has to be predicted.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence

from migmatrix.expect import expectation_for, selects_test, why_not
from migmatrix.gate import verdict_for
from migmatrix.model import Cell, CellFilter, Expectation, ExpectRule, Matrix, Record
from migmatrix.outcomes import Expected, Outcome
from migmatrix.update.stable import stable_match

WANTED = {
    Outcome.PASSED: Expected.PASS,
    Outcome.FAILED: Expected.FAIL,
    Outcome.ERROR: Expected.ERROR,
    Outcome.SKIPPED: Expected.SKIP,
}
"""The expectation an observed outcome asks for; crashed and timeout ask for none."""


@dataclasses.dataclass(frozen=True)
class NewRule:
    """A rule to add, as it will be written, with the comment that explains it."""

    phase: str
    test: str
    outcome: Expected
    env: str | None = None
    python: str | None = None
    adapter: str | None = None
    requires: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    raises: str | None = None
    match: str | None = None
    comment: str = ""

    def as_rule(self, index: int) -> ExpectRule:
        return ExpectRule(
            index=index,
            where=CellFilter(
                phase=self.phase, adapter=self.adapter, env=self.env, python=self.python
            ),
            test=self.test,
            requires=self.requires,
            unless=self.unless,
            outcomes=frozenset({self.outcome}),
            raises=self.raises,
            match=self.match,
        )


@dataclasses.dataclass(frozen=True)
class Proposal:
    """Rules to add, stale rules (removed only when asked), and what was left alone."""

    added: tuple[NewRule, ...]
    stale: tuple[ExpectRule, ...]
    left_alone: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.added and not self.stale


@dataclasses.dataclass(frozen=True)
class _Want:
    """What one observed (cell, test) showed and needs: outcome word, type, record."""

    cell: Cell
    test: str
    outcome: Expected
    raises: str | None
    record: Record


def propose(
    matrix: Matrix,
    planned: Sequence[Cell],
    observed: Mapping[str, Mapping[str, Record]],
    collected: Mapping[str, Collection[str]] | None = None,
    flaky: Collection[tuple[str, str]] = (),
) -> Proposal:
    """The rules to add so every observed outcome is expected, and the stale rules.

    `observed` maps cell ids to their records by test id (`merge.Merged.cells`);
    `collected` the test ids each cell's run collected (`Merged.collected`).
    Records of cells outside `planned` are ignored. `flaky` (cell id, test id)
    pairs showed mixed outcomes over their attempts (`--reruns`): flakiness is a
    verdict, not an expectation, so they are left alone.
    """
    by_id = {cell.id: cell for cell in planned}
    seen = {cell_id: tests for cell_id, tests in observed.items() if cell_id in by_id}
    tests_of_phase: dict[str, set[str]] = {}
    for cell_id, tests in itertools.chain(seen.items(), (collected or {}).items()):
        if cell_id in by_id:
            tests_of_phase.setdefault(by_id[cell_id].phase, set()).update(tests)
    left_alone: list[str] = []
    wants: dict[tuple[str, str], list[_Want]] = {}
    for cell_id in sorted(seen):
        cell = by_id[cell_id]
        for test in sorted(seen[cell_id]):
            record = seen[cell_id][test]
            if (cell_id, test) in flaky:
                left_alone.append(f"{cell_id} {test}: flaky over its attempts, not an expectation")
                continue
            expectation, _ = expectation_for(matrix, cell, test)
            if verdict_for(expectation, record)[0].expected:
                continue
            word = WANTED.get(record.outcome)
            if word is None:
                left_alone.append(f"{cell_id} {test}: {record.outcome.value}, not an expectation")
                continue
            raises = record.exc_type if word in (Expected.FAIL, Expected.ERROR) else None
            wants.setdefault((cell.phase, test), []).append(_Want(cell, test, word, raises, record))
    context = _Context(matrix, planned, seen, tests_of_phase)
    added: list[NewRule] = []
    for phase in sorted({phase for phase, _ in wants}):
        per_test = {test: found for (p, test), found in wants.items() if p == phase}
        added.extend(context.rules_for_phase(phase, per_test))
    return Proposal(tuple(added), _stale(matrix, planned, seen), tuple(left_alone))


class _Context:
    """The plan and the observations one proposal is worked out against."""

    def __init__(
        self,
        matrix: Matrix,
        planned: Sequence[Cell],
        seen: Mapping[str, Mapping[str, Record]],
        tests_of_phase: Mapping[str, Collection[str]],
    ) -> None:
        self.matrix = matrix
        self.planned = planned
        self.seen = seen
        self.tests_of_phase = tests_of_phase
        self.accepted: list[NewRule] = []

    # ------------------------------------------------------------------ per phase

    def rules_for_phase(self, phase: str, wants: Mapping[str, list[_Want]]) -> list[NewRule]:
        """Feature rules where a feature explains the flip, shared per file; else per state."""
        candidates: dict[str, list[NewRule]] = {}
        for test in sorted(wants):
            by_kind: dict[tuple[Expected, str | None], list[_Want]] = {}
            for want in wants[test]:
                by_kind.setdefault((want.outcome, want.raises), []).append(want)
            rules = []
            for (word, raises), group in sorted(by_kind.items(), key=lambda kv: str(kv[0])):
                rules.extend(self.feature_rules(phase, test, word, raises, group))
            candidates[test] = rules
        out: list[NewRule] = []
        for file, tests in itertools.groupby(sorted(candidates), key=_file_of):
            names = list(tests)
            shared = self.per_file(phase, file, names, candidates)
            if shared is not None:
                out.extend(self.accept(shared))
                continue
            for test in names:
                found = candidates[test]
                if found and self.verify(found, phase, [test]):
                    out.extend(self.accept(found))
                else:
                    out.extend(self.accept(self.per_state(phase, test, wants[test])))
        return out

    def accept(self, rules: list[NewRule]) -> list[NewRule]:
        """Keep `rules`: later proposals are verified on top of them."""
        self.accepted.extend(rules)
        return rules

    def per_file(
        self, phase: str, file: str, tests: list[str], candidates: Mapping[str, list[NewRule]]
    ) -> list[NewRule] | None:
        """One `file::*` rule set for tests whose rules differ only in test and match."""
        every = sorted(t for t in self.tests_of_phase.get(phase, ()) if _file_of(t) == file)
        if not every or every != sorted(tests):
            return None
        shapes = {tuple(_shape(rule) for rule in candidates[test]) for test in tests}
        if len(shapes) != 1 or not next(iter(shapes)):
            return None
        merged = []
        for position, rule in enumerate(candidates[tests[0]]):
            messages = [
                record.message
                for test in tests
                for record in self.records_of(phase, test)
                if _covers(candidates[test][position], record)
            ]
            merged.append(
                dataclasses.replace(
                    rule,
                    test=f"{file}::*",
                    match=stable_match(messages) if rule.raises or rule.match else None,
                )
            )
        return merged if self.verify(merged, phase, every) else None

    # ------------------------------------------------------------------ one test

    def feature_rules(
        self, phase: str, test: str, word: Expected, raises: str | None, group: list[_Want]
    ) -> list[NewRule]:
        """Feature rules for one wanted outcome of one test, one per observed scope."""
        observed = list(self.cells_with(phase, test))
        rules = []
        for env, python in self.scopes(phase, observed):
            scope = [
                cell
                for cell in self.planned
                if cell.phase == phase
                and (env is None or cell.env == env)
                and (python is None or cell.python == python)
            ]
            records = {cell.id: self.seen.get(cell.id, {}).get(test) for cell in scope}
            if any(record is None for record in records.values()):
                return []  # a cell of the scope was not observed: no feature rule
            must = {want.cell.id for want in group if want.cell in scope}
            if not must:
                continue
            fits = {
                cell.id
                for cell in scope
                if WANTED.get(records[cell.id].outcome) is word  # type: ignore[union-attr]
                and (raises is None or records[cell.id].exc_type == raises)  # type: ignore[union-attr]
            }
            found = _explaining(scope, must, fits)
            if found is None:
                return []
            requires, unless, covered = found
            messages = [records[cell_id].message for cell_id in sorted(covered)]  # type: ignore[union-attr]
            rules.append(
                NewRule(
                    phase=phase,
                    test=test,
                    outcome=word,
                    env=env,
                    python=python,
                    requires=requires,
                    unless=unless,
                    raises=raises,
                    match=stable_match(messages) if raises else None,
                    comment=_feature_comment(word, requires, unless, len(covered), len(scope)),
                )
            )
        return rules

    def per_state(self, phase: str, test: str, group: list[_Want]) -> list[NewRule]:
        """The fallback: one rule per adapter state (and env and python where needed)."""
        out = []
        by_state: dict[tuple[str, Expected, str | None], list[_Want]] = {}
        for want in group:
            by_state.setdefault((want.cell.adapter, want.outcome, want.raises), []).append(want)
        observed = list(self.cells_with(phase, test))
        for (adapter, word, raises), wants in sorted(by_state.items(), key=lambda kv: str(kv[0])):
            messages = [want.record.message for want in wants]
            base = NewRule(
                phase=phase,
                test=test,
                outcome=word,
                adapter=adapter,
                raises=raises,
                match=stable_match(messages) if raises else None,
                comment=(
                    f"update-expectations: {word.value} in state {adapter}:\n"
                    "no feature explains the flip across states, so the rule names the state"
                ),
            )
            scoped = [
                dataclasses.replace(base, env=env, python=python)
                for env, python in self.scopes(phase, observed)
            ]
            if self.verify(scoped, phase, [test]):
                out.extend(scoped)
                continue
            out.extend(
                dataclasses.replace(base, env=want.cell.env, python=want.cell.python)
                for want in wants
            )
        return out

    # ------------------------------------------------------------------ helpers

    def cells_with(self, phase: str, test: str) -> Iterable[Cell]:
        for cell in self.planned:
            if cell.phase == phase and test in self.seen.get(cell.id, {}):
                yield cell

    def records_of(self, phase: str, test: str) -> Iterable[Record]:
        for cell in self.cells_with(phase, test):
            yield self.seen[cell.id][test]

    def scopes(self, phase: str, observed: Sequence[Cell]) -> list[tuple[str | None, str | None]]:
        """(env, python) selectors: None where the results cover every value of the phase."""
        cells = [cell for cell in self.planned if cell.phase == phase]
        envs = sorted({cell.env for cell in observed})
        pythons = sorted({cell.python for cell in observed})
        env_all = set(envs) == {cell.env for cell in cells}
        python_all = set(pythons) == {cell.python for cell in cells}
        return [
            (None if env_all else env, None if python_all else python)
            for env in ([None] if env_all else envs)
            for python in ([None] if python_all else pythons)
        ]

    def verify(self, rules: Sequence[NewRule], phase: str, tests: Sequence[str]) -> bool:
        """Whether, with `rules` added, every observed record of `tests` is expected and no
        unobserved (cell, test) of the phase changes expectation."""
        base, count = self.matrix.rules, len(self.matrix.rules)
        before = dataclasses.replace(
            self.matrix,
            rules=(*base, *(rule.as_rule(count + i) for i, rule in enumerate(self.accepted))),
        )
        extra = [*self.accepted, *rules]
        after = dataclasses.replace(
            self.matrix, rules=(*base, *(rule.as_rule(count + i) for i, rule in enumerate(extra)))
        )
        # Every test of the phase a new rule's glob selects, not only those it was made for
        # (`t.py::test_a` selects `t.py::test_a[1]` too).
        checked = set(tests) | {
            test
            for test in self.tests_of_phase.get(phase, ())
            if any(selects_test(rule.test, test) for rule in rules)
        }
        for cell in self.planned:
            if cell.phase != phase:
                continue
            recorded = self.seen.get(cell.id, {})
            for test in sorted(checked):
                record = recorded.get(test)
                new, _ = expectation_for(after, cell, test)
                if record is None:
                    old, _ = expectation_for(before, cell, test)
                    if _words(old) != _words(new):
                        return False
                elif record.outcome in WANTED and not verdict_for(new, record)[0].expected:
                    return False
        return True


def _explaining(
    scope: Sequence[Cell], must: set[str], fits: set[str]
) -> tuple[tuple[str, ...], tuple[str, ...], set[str]] | None:
    """(requires, unless, cells) of the simplest feature condition covering `must` within `fits`."""
    features = sorted({feature for cell in scope for feature in cell.features})
    options: list[tuple[tuple[int, int, int], tuple[str, ...], tuple[str, ...], set[str]]] = []

    def consider(requires: tuple[str, ...], unless: tuple[str, ...], rank: int) -> None:
        covered = {
            cell.id
            for cell in scope
            if all(f in cell.features for f in requires)
            and not any(f in cell.features for f in unless)
        }
        if must <= covered <= fits:
            options.append(
                ((len(requires) + len(unless), rank, len(covered)), requires, unless, covered)
            )

    for feature in features:
        consider((), (feature,), 0)
        consider((feature,), (), 1)
    if not options:
        for a, b in itertools.permutations(features, 2):
            consider((a,), (b,), 2)
    if not options:
        return None
    _, requires, unless, covered = min(options, key=lambda o: (o[0], o[1], o[2]))
    return requires, unless, covered


def _feature_comment(
    word: Expected, requires: tuple[str, ...], unless: tuple[str, ...], covered: int, scope: int
) -> str:
    verb = {Expected.PASS: "passes", Expected.FAIL: "fails", Expected.ERROR: "errors"}.get(
        word, "is skipped"
    )
    where = " and ".join(
        [*(f"{f} is present" for f in requires), *(f"{f} is absent" for f in unless)]
    )
    return (
        f"update-expectations: {verb} wherever {where} ({covered} of {scope} observed cells):\n"
        "the flip across states follows the feature(s), so one rule rather than one per state"
    )


def _shape(rule: NewRule) -> tuple[object, ...]:
    return (
        rule.env,
        rule.python,
        rule.adapter,
        rule.requires,
        rule.unless,
        rule.outcome,
        rule.raises,
    )


def _covers(rule: NewRule, record: Record) -> bool:
    return WANTED.get(record.outcome) is rule.outcome and (
        rule.raises is None or record.exc_type == rule.raises
    )


def _file_of(test: str) -> str:
    return test.split("::", 1)[0]


def _words(expectation: Expectation) -> tuple[object, ...]:
    return (expectation.outcomes, expectation.raises, expectation.match)


def _stale(
    matrix: Matrix, planned: Sequence[Cell], seen: Mapping[str, Mapping[str, Record]]
) -> tuple[ExpectRule, ...]:
    """Rules that select no observed (cell, test) although every cell they could select ran.

    A rule whose cells were not all in the results may still apply where they
    were not run: it is not called stale on partial evidence.
    """
    from migmatrix.expect import stale_rules

    candidates = stale_rules(matrix, [(cell, seen[cell.id]) for cell in planned if cell.id in seen])
    out = []
    for rule in candidates:
        admitted = [cell for cell in planned if why_not(rule, cell) is None]
        if all(cell.id in seen for cell in admitted):
            out.append(rule)
    return tuple(out)
