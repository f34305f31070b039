"""update-expectations on real results of a small migration (the plugin runs it).

Each test edits a copy of the toy project's matrix.yaml or its behaviour and
checks the proposal: nothing on matching results, one feature rule for a
deleted rule and for a rollout step, no edit outside the observed cells, stale
rules listed and pruned, and the edit written in place without touching any
other line.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from toy_migration import (
    IMPORTS_RULE,
    comments,
    drop_rule,
    migmatrix,
    run_toy,
    write_toy,
)

from migmatrix.expect import expectation_for
from migmatrix.load import load_matrix
from migmatrix.plan import plan_cells

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_ci_shard")]


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy project run once, all as expected; tests work on copies of it."""
    folder = tmp_path_factory.mktemp("toy")
    write_toy(folder)
    done = run_toy(folder, "-p", "no:xdist")
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


@pytest.fixture
def toy(toy_run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "toy"
    shutil.copytree(toy_run, copy)
    return copy


def test_matching_results_propose_nothing(toy: Path) -> None:
    done = migmatrix(toy, "update-expectations", "results")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "no edit" in done.stderr


def test_a_deleted_rule_comes_back_as_one_feature_rule_equal_in_effect(toy: Path) -> None:
    original = (toy / "matrix.yaml").read_text()
    before = load_matrix(toy / "matrix.yaml")
    edited = drop_rule(original, IMPORTS_RULE)
    (toy / "matrix.yaml").write_text(edited)
    assert migmatrix(toy, "gate", "results").returncode == 1  # regressions without the rule

    diff = migmatrix(toy, "update-expectations", "results")
    assert diff.returncode == 0, diff.stderr
    added = [line[1:] for line in diff.stdout.splitlines() if line.startswith("+ ")]
    assert added[2:] == [
        "    - phase: repro",
        '      test: "test_conflicts.py::*"',
        "      unless: [ssot-engine]",
        "      outcome: fail",
        "      raises: AssertionError",
        '      match: "SSOT VIOLATION: legacy imports in"',
    ]
    assert "ssot-engine is absent" in added[0]
    assert "one rule rather than one per state" in diff.stdout

    written = migmatrix(toy, "update-expectations", "results", "--write")
    assert written.returncode == 0, written.stderr
    assert migmatrix(toy, "gate", "results").returncode == 0
    new_text = (toy / "matrix.yaml").read_text()
    # Every comment of the file is still there, byte for byte and in order.
    old_comments = comments(edited)
    assert [line for line in comments(new_text) if line in old_comments] == old_comments
    # Equal in effect: every planned (cell, test) expects what the deleted rule said.
    after = load_matrix(toy / "matrix.yaml")
    for cell in plan_cells(before):
        for test in ("test_conflicts.py::test_import_paths_agree", "test_golden.py::x"):
            old, _ = expectation_for(before, cell, test)
            new, _ = expectation_for(after, cell, test)
            assert (old.outcomes, old.raises) == (new.outcomes, new.raises), cell.id
    # Idempotent: the results now match, nothing more is proposed.
    again = migmatrix(toy, "update-expectations", "results")
    assert (again.returncode, again.stdout) == (0, "")


def test_a_rollout_step_is_proposed_as_a_feature_rule(toy: Path) -> None:
    # The engine component now also fixes the factories (a rollout step landed).
    behaviour = toy / "suites" / "repro" / "behaviour.py"
    text = behaviour.read_text()
    behaviour.write_text(
        text.replace('{"ssot-engine": {"imports"}', '{"ssot-engine": {"imports", "factories"}')
    )
    shutil.rmtree(toy / "results")
    run_toy(toy, "-p", "no:xdist")
    assert migmatrix(toy, "gate", "results").returncode == 1  # an unexpected pass

    diff = migmatrix(toy, "update-expectations", "results")
    added = [line[1:] for line in diff.stdout.splitlines() if line.startswith("+ ")]
    assert "passes wherever ssot-engine is present" in added[0]
    assert added[2:] == [
        "    - phase: repro",
        '      test: "test_factories.py::*"',
        "      requires: [ssot-engine]",
        "      outcome: pass",
    ]
    assert migmatrix(toy, "update-expectations", "results", "--write").returncode == 0
    assert migmatrix(toy, "gate", "results").returncode == 0


def test_a_partial_run_changes_no_expectation_of_cells_it_did_not_run(toy: Path) -> None:
    (toy / "matrix.yaml").write_text(drop_rule((toy / "matrix.yaml").read_text(), IMPORTS_RULE))
    before = load_matrix(toy / "matrix.yaml")
    shutil.rmtree(toy / "results")
    run_toy(toy, "-p", "no:xdist", "--cells", "repro/old/*")
    assert migmatrix(toy, "update-expectations", "results", "--write").returncode == 0
    after = load_matrix(toy / "matrix.yaml")
    test = "test_conflicts.py::test_imports_resolve_to_one_engine"
    for cell in plan_cells(before):
        old, _ = expectation_for(before, cell, test)
        new, _ = expectation_for(after, cell, test)
        if cell.id.startswith("repro/old/"):
            assert new.outcomes != old.outcomes  # observed: now expected to fail
        else:
            assert (new.outcomes, new.raises, new.match) == (old.outcomes, old.raises, old.match)
    # No feature explains a flip seen in one state: the rule names the state.
    assert "      adapter: old\n" in (toy / "matrix.yaml").read_text()


def test_stale_rules_are_listed_and_removed_only_with_prune(toy: Path) -> None:
    path = toy / "matrix.yaml"
    text = path.read_text()
    stale = (
        "    # Nothing ever runs into this one.\n"
        "    - phase: golden\n"
        '      test: "test_gone.py::*"\n'
        "      outcome: fail\n"
    )
    path.write_text(
        text.replace("\n    # golden: the default", "\n" + stale + "\n    # golden: the default")
    )
    listed = migmatrix(toy, "update-expectations", "results")
    assert listed.stdout == ""
    assert "stale rule #3 at" in listed.stderr
    assert "--prune removes it" in listed.stderr
    pruned = migmatrix(toy, "update-expectations", "results", "--prune")
    removed = [line for line in pruned.stdout.splitlines() if line.startswith("-  ")]
    assert '-      test: "test_gone.py::*"' in removed
    assert migmatrix(toy, "update-expectations", "results", "--prune", "--write").returncode == 0
    assert "test_gone" not in path.read_text()
    again = migmatrix(toy, "update-expectations", "results", "--prune")
    assert (again.returncode, again.stdout) == (0, "")


def test_bad_input_is_a_message_and_exit_2(toy: Path) -> None:
    done = migmatrix(toy, "update-expectations", "nowhere")
    assert done.returncode == 2
    assert "results path 'nowhere' does not exist" in done.stderr
    assert "Traceback" not in done.stderr
