"""Judged results shaped like a real migration, for the migration map's tests.

`migration_result` is this repository's demo matrix as the gate judges it: the
deprecated adapter, every partial state of four components in rollout order,
ssot; seven phases; unit and integration everywhere, staging for five states;
four Pythons. The reproduction phase fails as it must until every component is
in, validation until engine and state are; rollback is not planned on
deprecated. Options plant what the tests look for: a bug that breaks 64 cells
(two tests) with varying numbers in its message, and one Python that differs in one place.
`synthetic_result` is a bigger, plainer matrix (any number of states, phases and
Pythons) for the width checks.
"""

from __future__ import annotations

import itertools

from migmatrix.model import Cell, Expectation, GateResult, Judged, Record
from migmatrix.outcomes import Expected, Outcome, Verdict

COMPONENTS = ("engine", "factory", "emitter", "state")
PHASES = (
    "reproduction",
    "validation",
    "golden_path",
    "websocket",
    "rollback",
    "business",
    "staging",
)
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
STAGED = {"deprecated", "partial[engine]", "partial[engine+factory+emitter]", "ssot"}
STAGED_PHASES = {"golden_path", "rollback", "business", "staging"}
TESTS = tuple(f"test_{phase}.py::test_{i}" for phase in PHASES for i in range(3))

_PASS = Expectation(frozenset({Expected.PASS}))
_FAIL = Expectation(
    frozenset({Expected.FAIL}), raises="AssertionError", match="SSOT VIOLATION", rule=0, bug="#620"
)


def states() -> list[str]:
    """deprecated, partial[] and every combination of the components by size, ssot."""
    partial = [
        f"partial[{'+'.join(combo)}]"
        for size in range(len(COMPONENTS) + 1)
        for combo in itertools.combinations(COMPONENTS, size)
    ]
    return ["deprecated", *partial, "ssot"]


def _has(state: str, *components: str) -> bool:
    if state == "ssot":
        return True
    inside = state.partition("[")[2].rstrip("]").split("+")
    return all(c in inside for c in components)


def _fails(phase: str, state: str) -> bool:
    if phase == "reproduction":
        return not _has(state, *COMPONENTS)
    if phase == "validation":
        return not _has(state, "engine", "state")
    if phase == "staging":
        return not _has(state, "engine", "factory", "emitter")
    return False


def _planned(phase: str, state: str, env: str) -> bool:
    if env == "staging" and (state not in STAGED or phase not in STAGED_PHASES):
        return False
    if phase == "staging":
        return env == "staging"
    return not (phase == "rollback" and state == "deprecated")


def migration_result(*, bug: bool = False, odd_python: str | None = None) -> GateResult:
    """The demo migration, judged; with `bug` 64 cells regress; `odd_python` differs once."""
    judged: list[Judged] = []
    envs = ("unit", "integration", "staging")
    for phase, state, env, python in itertools.product(PHASES, states(), envs, PYTHONS):
        if not _planned(phase, state, env):
            continue
        cell = Cell(phase, state, env, python, adapter_base=state.partition("[")[0])
        # The planted bug: the first test of two phases on the first four states, every
        # Python, unit and integration: 2 x 4 x 2 x 4 = 64 cells.
        hit = bug and phase in ("golden_path", "websocket") and env != "staging"
        hit = hit and states().index(state) < 4
        for test in (t for t in TESTS if t.startswith(f"test_{phase}.py")):
            judged.append(_item(cell, test, hit and test.endswith("_0"), odd_python))
    return _result(judged, states(), PHASES, envs, PYTHONS)


def _item(cell: Cell, test: str, bug: bool, odd_python: str | None) -> Judged:
    if bug:
        message = f"user {len(cell.id)} received the event of user {len(test) * 7}"
        record = Record(cell.id, test, Outcome.FAILED, 0.1, "AssertionError", message)
        return Judged(cell, test, _PASS, record, Verdict.REGRESSION, "failed, expected pass")
    odd = cell.python == odd_python and cell.id.startswith("staging/deprecated/")
    if _fails(cell.phase, cell.adapter) and not odd:
        record = Record(cell.id, test, Outcome.FAILED, 0.1, "AssertionError", "SSOT VIOLATION")
        return Judged(cell, test, _FAIL, record, Verdict.REPRODUCED)
    if _fails(cell.phase, cell.adapter):
        record = Record(cell.id, test, Outcome.PASSED, 0.1)
        return Judged(cell, test, _FAIL, record, Verdict.UNEXPECTED_PASS, "passed, expected fail")
    return Judged(
        cell, test, _PASS, Record(cell.id, test, Outcome.PASSED, 0.1), Verdict.AS_EXPECTED
    )


def synthetic_result(n_states: int, n_phases: int, n_pythons: int) -> GateResult:
    """A plain matrix: phase i fails as expected on the first i*4 states, then passes."""
    state_names = [f"partial[component_{i:02d}+component_{i + 1:02d}]" for i in range(n_states)]
    phases = [f"phase_{i}_{'x' * (i % 4)}" for i in range(n_phases)]
    pythons = [f"3.{10 + i}" for i in range(n_pythons)]
    envs = ("unit", "integration")
    judged = []
    for (p, phase), (s, state), env, python in itertools.product(
        enumerate(phases), enumerate(state_names), envs, pythons
    ):
        cell = Cell(phase, state, env, python, adapter_base="partial")
        test = f"t_{phase}.py::test"
        if s < p * 4:
            record = Record(cell.id, test, Outcome.FAILED, 0.1, "AssertionError", "SSOT")
            judged.append(Judged(cell, test, _FAIL, record, Verdict.REPRODUCED))
        else:
            record = Record(cell.id, test, Outcome.PASSED, 0.1)
            judged.append(Judged(cell, test, _PASS, record, Verdict.AS_EXPECTED))
    return _result(judged, state_names, phases, envs, pythons)


def _result(
    judged: list[Judged],
    adapters: list[str],
    phases: tuple[str, ...] | list[str],
    envs: tuple[str, ...],
    pythons: tuple[str, ...] | list[str],
) -> GateResult:
    failing = any(not j.verdict.expected for j in judged)
    return GateResult(
        judged=tuple(judged),
        exit_code=1 if failing else 0,
        fail_on=frozenset({Verdict.REGRESSION, Verdict.UNEXPECTED_PASS, Verdict.MISSING}),
        problems=(),
        stale_rules=(),
        coverage=(),
        coverage_total=None,
        phases=tuple(phases),
        adapters=tuple(adapters),
        envs=envs,
        pythons=tuple(pythons),
        duration=1.0,
        sources=(),
    )
