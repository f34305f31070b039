"""The phase suites, adapters and matrix.yaml catch what they are there to catch.

Each test copies the repository's src/, reference/netra_backend/src/, adapters/,
suites/ and matrix.yaml into a temporary folder, optionally breaks the copy's
netra_backend on purpose, runs the matrix on the copy (`python -m pytest --matrix
matrix.yaml --cells unit -n 2`, with PYTHONPATH so the COPY's netra_backend is the
one imported) and gates the results (`python -m migmatrix gate`). The gate's JSON
report then says which (cell, test) pairs changed verdict:

- untouched, the gate passes with the seed's pattern (reproduced failures on the
  old states, passes on ssot);
- with UserExecutionEngine's bookkeeping shared between instances, the gate fails
  with regressions in exactly the ssot cells' isolation tests;
- with the deprecated engine made correct (the cache keyed by user, events routed
  by their own run), the reproduction test of contamination shows unexpected-pass
  in exactly the states where the feature rules expected it to fail;
- with a bug only the intermediate states with the emitter but not the state
  migrated have (an event dropped), the gate reports regressions in exactly those
  4 of the 16 swept states (golden_path and websocket among them), nowhere else.

Only the unit env and the running interpreter are used, to keep each run to about
15 s on two cores (18 states x 6 phases); the four runs make this file slow (~70 s),
hence the `slow` mark.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from repo_copy import PY, copy_env, copy_repository, patch
from repo_copy import run_and_gate as repo_copy_run

pytestmark = pytest.mark.slow

UNIT_ADAPTERS = ("deprecated", "partial[engine+factory]", "ssot")
COMPONENTS = ("engine", "factory", "emitter", "state")
# Every swept state as (name, migrated components), plus the two plain adapters.
STATES: list[tuple[str, frozenset[str]]] = [
    (f"partial[{'+'.join(c)}]", frozenset(c))
    for n in range(5)
    for c in itertools.combinations(COMPONENTS, n)
] + [("deprecated", frozenset()), ("ssot", frozenset(COMPONENTS))]


def states_where(test: Any) -> list[str]:
    return [name for name, migrated in STATES if test(migrated)]


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    copy = copy_repository(tmp_path / "repo")
    probe = subprocess.run(
        [sys.executable, "-c", "import netra_backend; print(netra_backend.__file__)"],
        cwd=copy,
        env=copy_env(copy),
        capture_output=True,
        text=True,
        check=True,
    )
    # The whole point: the copy's (possibly broken) backend is the one under test.
    assert Path(probe.stdout.strip()).is_relative_to(copy), probe.stdout
    return copy


def run_and_gate(copy: Path) -> tuple[int, dict[str, Any], str]:
    """Run the unit cells of the running Python on the copy; return the gate's code and JSON."""
    code, report, _, text = repo_copy_run(copy, "unit")
    return code, report, text


def verdicts(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(cell, test) -> verdict for every judged pair that is not plainly as-expected."""
    return {(r["cell"], r["test"]): r["verdict"] for r in report["results"]}


def cell_counts(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    """cell id -> {verdict: count}, for the cells that have results."""
    return {c["id"]: dict(c["verdicts"]) for c in report["cells"] if not c["no_results"]}


def unexpected(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    expected = {"as-expected", "reproduced", "flaky"}
    return {key: v for key, v in verdicts(report).items() if v not in expected}


def cell(phase: str, adapter: str) -> str:
    return f"{phase}/{adapter}/unit/py{PY}"


def test_untouched_copy_passes_the_gate_with_the_seed_pattern(repo_copy: Path) -> None:
    code, report, text = run_and_gate(repo_copy)
    assert code == 0, text
    assert unexpected(report) == {}
    seen = verdicts(report)
    results = "test_user_context_contamination.py::test_user_context_contamination_results"
    events = "test_user_context_contamination.py::test_user_context_contamination_events"
    for test in (results, events):
        assert seen[(cell("reproduction", "deprecated"), test)] == "reproduced"
        assert seen[(cell("reproduction", "partial[engine+factory]"), test)] == "reproduced"
    # One failure mode per test: the events are judged where the results leak too.
    assert seen[(cell("reproduction", "partial[state]"), events)] == "reproduced"
    counts = cell_counts(report)
    # The seed's pattern: every reproduction test fails (for its reason) on deprecated and
    # passes on ssot; the partial state reproduces only what its features leave broken.
    assert counts[cell("reproduction", "deprecated")] == {"reproduced": 5}
    assert counts[cell("validation", "deprecated")] == {"as-expected": 17, "reproduced": 4}
    assert counts[cell("reproduction", "ssot")] == {"as-expected": 5}
    assert counts[cell("validation", "ssot")] == {"as-expected": 21}
    assert counts[cell("reproduction", "partial[engine+factory]")] == {
        "as-expected": 3,
        "reproduced": 2,
    }
    # Every phase that runs in the unit env has results in every one of its cells.
    phases = {cell_id.split("/")[0] for cell_id in counts}
    assert phases == {
        "reproduction",
        "validation",
        "golden_path",
        "websocket",
        "rollback",
        "business",
    }
    # 18 states (deprecated, the 16 partial ones, ssot); rollback has no deprecated or partial[].
    assert len(counts) == 6 * 18 - 2


def test_shared_ssot_bookkeeping_is_caught_as_regressions_in_ssot_cells(repo_copy: Path) -> None:
    engine = (
        repo_copy
        / "reference/netra_backend/src/netra_backend/app/agents/supervisor/user_execution_engine.py"
    )
    # One RunBook for every UserExecutionEngine: stats, history, active runs shared.
    patch(engine, "        self._book = RunBook()\n", "        self._book = _SHARED_BOOK\n")
    patch(
        engine,
        "DEFAULT_MAX_CONCURRENT = 5\n",
        "DEFAULT_MAX_CONCURRENT = 5\n_SHARED_BOOK = RunBook()\n",
    )

    code, report, text = run_and_gate(repo_copy)
    assert code == 1, text
    # Only where the state is isolated does an engine's own book matter, and only a
    # UserExecutionEngine (engine migrated) has one: those states' stats tests; and the
    # rollbacks from ssot into an isolated-state target check per-user stats too.
    isolated = states_where(lambda migrated: {"engine", "state"} <= migrated)
    expected = {
        (
            cell("validation", name),
            "test_ssot_compliance_validation.py::test_execution_stats_isolated",
        ): "regression"
        for name in isolated
    }
    expected[(cell("rollback", "ssot"), "test_rollback_validation.py::test_rollback_paths")] = (
        "regression"
    )
    assert unexpected(report) == expected, text
    assert "engine stats list" in text, text


def test_correct_deprecated_engine_shows_unexpected_pass_in_reproduction(repo_copy: Path) -> None:
    run_core = (
        repo_copy / "reference/netra_backend/src/netra_backend/app/agents/supervisor/run_core.py"
    )
    routing = repo_copy / "reference/netra_backend/src/netra_backend/app/legacy/routing.py"
    # The shared cache keyed by who asked, and events routed by their own run: the two
    # deprecated bugs the contamination reproduction exists to show, fixed in place.
    patch(
        run_core,
        "        return (ctx.agent_name, ctx.user_input)\n",
        "        return (ctx.user_id, ctx.thread_id, ctx.agent_name, ctx.user_input)\n",
    )
    patch(routing, "        return current_run() or self.own\n", "        return self.own\n")

    code, report, text = run_and_gate(repo_copy)
    assert code == 1, text
    results = "test_user_context_contamination.py::test_user_context_contamination_results"
    events = "test_user_context_contamination.py::test_user_context_contamination_events"
    isolation = "test_ssot_compliance_validation.py::test_user_context_isolation_after_migration"
    # Leaked results were expected wherever state is deprecated, misrouted events wherever
    # the emitter is; the isolation check (results per user) wherever state is.
    expected = {
        (cell("reproduction", name), results): "unexpected-pass"
        for name in states_where(lambda migrated: "state" not in migrated)
    }
    expected.update(
        {
            (cell("reproduction", name), events): "unexpected-pass"
            for name in states_where(lambda migrated: "emitter" not in migrated)
        }
    )
    expected.update(
        {
            (cell("validation", name), isolation): "unexpected-pass"
            for name in states_where(lambda migrated: "state" not in migrated)
        }
    )
    assert unexpected(report) == expected, text


def test_an_intermediate_state_that_drops_an_event_is_caught_in_exactly_its_cells(
    repo_copy: Path,
) -> None:
    run_core = (
        repo_copy / "reference/netra_backend/src/netra_backend/app/agents/supervisor/run_core.py"
    )
    # A bug only an intermediate state has: the per-user emitter, on the shared state's
    # code path, loses every `agent_thinking` event. Neither end state has it.
    patch(
        run_core,
        "        self.step += 1\n",
        "        self.step += 1\n"
        "        migration = current_migration()\n"
        '        if migration.is_migrated("emitter") and not migration.is_migrated("state"):\n'
        "            return\n",
    )

    code, report, text = run_and_gate(repo_copy)
    assert code == 1, text
    broken = set(states_where(lambda migrated: "emitter" in migrated and "state" not in migrated))
    assert len(broken) == 4
    found = unexpected(report)
    assert set(found.values()) == {"regression"}, text
    # Outside rollback, the regressions are in exactly the broken states...
    in_place = {
        cell_id.split("/")[1] for cell_id, _ in found if not cell_id.startswith("rollback/")
    }
    assert in_place == broken, text
    # ...and a rollback cell fails only where it is, or rolls back into, a broken state:
    # a state with the emitter migrated (ssot -> partial[engine+factory+emitter], ...).
    with_emitter = set(states_where(lambda migrated: "emitter" in migrated))
    rolled = {cell_id.split("/")[1] for cell_id, _ in found if cell_id.startswith("rollback/")}
    assert broken <= rolled <= with_emitter, text
    # ...and each broken state shows it where the events are checked: golden path and websocket.
    for name in broken:
        phases = {cell_id.split("/")[0] for cell_id, _ in found if cell_id.split("/")[1] == name}
        assert {"golden_path", "websocket"} <= phases, (name, phases)
