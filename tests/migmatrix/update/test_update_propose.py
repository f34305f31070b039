"""propose() on hand-built records: feature rules first, per-state rules where none fits."""

from __future__ import annotations

from pathlib import Path

from gate_data import full_run, write_project

from migmatrix.load import load_matrix
from migmatrix.merge import group_by_cell
from migmatrix.model import Record
from migmatrix.outcomes import Expected, Outcome
from migmatrix.plan import plan_cells
from migmatrix.update.propose import propose


def test_matching_records_propose_nothing(tmp_path: Path) -> None:
    matrix = load_matrix(write_project(tmp_path))
    cells, _ = group_by_cell(full_run(matrix))
    proposal = propose(matrix, plan_cells(matrix), cells)
    assert proposal.empty
    assert proposal.left_alone == ()


def test_a_flip_that_follows_a_feature_is_one_feature_rule(tmp_path: Path) -> None:
    matrix = load_matrix(write_project(tmp_path))
    # golden_path's t.py::b now fails wherever ssot-engine is absent.
    records = [
        Record(r.cell, r.test, Outcome.FAILED, 0.0, "KeyError", f"no engine 0x{i:x}")
        if r.cell.startswith("golden_path/deprecated/") and r.test == "t.py::b"
        else r
        for i, r in enumerate(full_run(matrix))
    ]
    cells, _ = group_by_cell(records)
    (rule,) = propose(matrix, plan_cells(matrix), cells).added
    assert (rule.phase, rule.test, rule.unless, rule.requires) == (
        "golden_path", "t.py::b", ("ssot-engine",), ()
    )  # fmt: skip
    assert (rule.outcome, rule.raises, rule.match) == (Expected.FAIL, "KeyError", "no engine")
    assert (rule.env, rule.python, rule.adapter) == (None, None, None)


def test_crashes_and_flaky_pairs_are_left_alone(tmp_path: Path) -> None:
    matrix = load_matrix(write_project(tmp_path))
    records = full_run(matrix)
    crashed = records[0]._replace(outcome=Outcome.CRASHED)
    failed = records[-1]._replace(outcome=Outcome.FAILED)
    cells, _ = group_by_cell([crashed, *records[1:-1], failed])
    proposal = propose(matrix, plan_cells(matrix), cells, flaky={failed.key})
    assert proposal.added == ()
    assert sorted(note.split(": ", 1)[1] for note in proposal.left_alone) == [
        "crashed, not an expectation",
        "flaky over its attempts, not an expectation",
    ]


def test_one_python_observed_gives_a_python_selector(tmp_path: Path) -> None:
    matrix = load_matrix(write_project(tmp_path))
    records = [
        r._replace(outcome=Outcome.SKIPPED)
        if r.cell.startswith("golden_path/ssot/") and r.test == "t.py::a"
        else r
        for r in full_run(matrix, python="3.12")
    ]
    cells, _ = group_by_cell(records)
    (rule,) = propose(matrix, plan_cells(matrix), cells).added
    assert (rule.python, rule.requires, rule.outcome) == ("3.12", ("ssot-engine",), Expected.SKIP)
