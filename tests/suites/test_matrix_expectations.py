"""matrix.yaml's expectations follow the migrated components, in every swept state.

The partial adapter sweeps all 16 subsets of engine, factory, emitter and state.
No rule names a state: each expectation is a consequence of the state's features.
This file writes that consequence down once, as a table of which components each
reproduction and validation test needs before it passes, and checks the loaded
matrix (plan + `expect.expectation_for`) against it for every planned cell, so a
rule that drifts from the features (or a new state the rules do not cover) fails
here. It also checks `migmatrix plan` lists the states in rollout order and
`migmatrix explain` names the feature that decides.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from migmatrix.expect import expectation_for
from migmatrix.load import load_matrix
from migmatrix.outcomes import Expected
from migmatrix.plan import display_order, plan_cells

REPO = Path(__file__).resolve().parents[2]
COMPONENTS = ("engine", "factory", "emitter", "state")

# test id -> the components that must all be migrated before it passes (it fails before).
NEEDS: dict[str, frozenset[str]] = {
    "test_ssot_namespace_conflicts.py::test_execution_engine_namespace_conflicts": frozenset(
        {"engine"}
    ),
    "test_ssot_namespace_conflicts.py::test_import_resolution_consistency": frozenset({"engine"}),
    "test_factory_pattern_violations.py::test_multiple_execution_engine_factories": frozenset(
        {"engine", "factory"}
    ),
    "test_user_context_contamination.py::test_user_context_contamination_results": frozenset(
        {"state"}
    ),
    "test_user_context_contamination.py::test_user_context_contamination_events": frozenset(
        {"emitter"}
    ),
    "test_constructor_compatibility.py::test_create_from_legacy_bridge": frozenset(),
    "test_constructor_compatibility.py::test_legacy_constructor_compatibility": frozenset(
        {"engine"}
    ),
    "test_ssot_compliance_validation.py::test_execution_stats_isolated": frozenset({"state"}),
    "test_ssot_compliance_validation.py::test_single_execution_engine_import_source": frozenset(
        {"engine"}
    ),
    "test_ssot_compliance_validation.py::test_user_context_isolation_after_migration": frozenset(
        {"state"}
    ),
}
PHASE_OF = {
    test: ("validation" if "validation" in test or "constructor" in test else "reproduction")
    for test in NEEDS
}
# Must pass in every state, whatever is migrated.
ALWAYS = {
    "golden_path": "test_golden_path_protection.py::test_golden_path_login_to_ai_response",
    "websocket": "test_websocket_event_integrity.py::test_event_integrity_per_user",
    "business": "test_business_value_protection.py::test_chat_functionality_90_percent_value",
    "rollback": "test_rollback_validation.py::test_rollback_paths",
    "validation": "test_ssot_engine_promises.py::test_engine_refuses_runs_after_cleanup",
}
MIGRATED_BY_ADAPTER = {"deprecated": frozenset(), "ssot": frozenset(COMPONENTS)}


@pytest.fixture(scope="module")
def matrix():
    return load_matrix(REPO / "matrix.yaml")


def _migrated(cell) -> frozenset[str]:
    if cell.adapter_base == "partial":
        return frozenset(cell.components)
    return MIGRATED_BY_ADAPTER[cell.adapter]


def test_all_sixteen_states_are_planned_in_rollout_order(matrix) -> None:
    states = [s for s in display_order(matrix)[1] if s.startswith("partial[")]
    expected = [
        f"partial[{'+'.join(combo)}]"
        for size in range(len(COMPONENTS) + 1)
        for combo in itertools.combinations(COMPONENTS, size)
    ]
    assert states == expected
    assert len(states) == 16


@pytest.mark.parametrize("test", sorted(NEEDS))
def test_reproduction_and_validation_follow_the_features(matrix, test: str) -> None:
    cells = [c for c in plan_cells(matrix) if c.phase == PHASE_OF[test] and c.env != "staging"]
    assert len({c.adapter for c in cells}) == 18
    wrong = []
    for cell in cells:
        expected = Expected.PASS if NEEDS[test] <= _migrated(cell) else Expected.FAIL
        expectation, _rule = expectation_for(matrix, cell, test)
        if expectation.outcomes != frozenset({expected}):
            wrong.append(f"{cell.id}: {expectation.describe()} (table: {expected.value})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("phase", "test"), sorted(ALWAYS.items()))
def test_protected_phases_pass_in_every_state(matrix, phase: str, test: str) -> None:
    cells = [c for c in plan_cells(matrix) if c.phase == phase]
    assert cells
    for cell in cells:
        expectation, rule = expectation_for(matrix, cell, test)
        assert (expectation.outcomes, rule) == (frozenset({Expected.PASS}), None), cell.id


def _cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "migmatrix", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def test_plan_lists_the_partial_states_in_rollout_order() -> None:
    out = _cli(
        "plan", "--matrix", "matrix.yaml", "--python", "3.11", "--cells", "reproduction and unit"
    )
    positions = [
        out.find(f"reproduction/{s}/unit/py3.11")
        for s in (
            "deprecated",
            "partial[]",
            "partial[engine]",
            "partial[state]",
            "partial[engine+factory]",
            "partial[engine+factory+emitter+state]",
            "ssot",
        )
    ]
    assert -1 not in positions, out
    assert positions == sorted(positions), out


def test_explain_names_the_feature_that_decides() -> None:
    test = "test_user_context_contamination.py::test_user_context_contamination_results"
    out = _cli(
        "explain", "--matrix", "matrix.yaml", "reproduction/partial[engine]/unit/py3.11", test
    )
    assert "isolated-state" in out, out
    assert "CRITICAL SECURITY VIOLATION" in out, out
