"""The gate: every verdict from a commented table, the missing rules, and the exit codes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from gate_data import full_run, sample_result, write_project

from migmatrix.gate import exc_type_matches, judge, matrix_tables, summarize, verdict_for
from migmatrix.load import load_matrix
from migmatrix.merge import Merged, by_cell
from migmatrix.model import (
    Cell,
    CoverageRule,
    CoverageVerdict,
    Expectation,
    Judged,
    Matrix,
    Record,
)
from migmatrix.outcomes import ExitCode, Expected, Outcome, Verdict
from migmatrix.plan import plan_cells

P, F, E, S = Expected.PASS, Expected.FAIL, Expected.ERROR, Expected.SKIP


def exp(*outcomes: Expected, raises: str | None = None, match: str | None = None) -> Expectation:
    return Expectation(frozenset(outcomes), raises=raises, match=match)


def rec(outcome: Outcome, exc: str | None = None, message: str | None = None) -> Record:
    return Record("c/a/e/py3.12", "t.py::t", outcome, exc_type=exc, message=message)


# (expectation, recorded outcome, exception type, message, verdict)
TABLE = [
    # A pass where a pass was expected: the plain good case.
    (exp(P), Outcome.PASSED, None, None, Verdict.AS_EXPECTED),
    # The deprecated engine fails a reproduction test for the stated reason.
    (
        exp(F, raises="AssertionError", match="SSOT VIOL"),
        Outcome.FAILED,
        "AssertionError",
        "SSOT VIOLATION: shared state",
        Verdict.REPRODUCED,
    ),
    # Class names compare with or without their module.
    (
        exp(F, raises="AssertionError"),
        Outcome.FAILED,
        "builtins.AssertionError",
        "x",
        Verdict.REPRODUCED,
    ),
    # An expected failure without a stated reason: any failure reproduces it.
    (exp(F), Outcome.FAILED, "KeyError", "boom", Verdict.REPRODUCED),
    # The bug is gone where it should still show: the test passes.
    (exp(F), Outcome.PASSED, None, None, Verdict.UNEXPECTED_PASS),
    # Expected to pass, but failed / errored / was skipped.
    (exp(P), Outcome.FAILED, "AssertionError", "x", Verdict.REGRESSION),
    (exp(P), Outcome.ERROR, "RuntimeError", "fixture", Verdict.REGRESSION),
    (exp(P), Outcome.SKIPPED, None, "no server", Verdict.REGRESSION),
    # It failed, but with another exception type than the rule states.
    (exp(F, raises="AssertionError"), Outcome.FAILED, "TypeError", "x", Verdict.WRONG_REASON),
    # It failed with the right type but the message does not match.
    (
        exp(F, raises="AssertionError", match="SSOT"),
        Outcome.FAILED,
        "AssertionError",
        "something else",
        Verdict.WRONG_REASON,
    ),
    # An error where a failure was expected is not the reproduction.
    (exp(F), Outcome.ERROR, "ImportError", "x", Verdict.WRONG_REASON),
    # A declared set of outcomes: either one is fine.
    (exp(P, F), Outcome.PASSED, None, None, Verdict.FLAKY),
    (exp(P, F), Outcome.FAILED, "AssertionError", "x", Verdict.FLAKY),
    # ... but an outcome outside the set is judged as usual.
    (exp(P, F), Outcome.ERROR, "OSError", "x", Verdict.REGRESSION),
    # A crashed worker and a hung test are verdicts of their own, whatever was expected.
    (exp(P), Outcome.CRASHED, None, None, Verdict.CRASHED),
    (exp(F), Outcome.CRASHED, None, None, Verdict.CRASHED),
    (exp(P), Outcome.TIMEOUT, None, None, Verdict.TIMEOUT),
    # Expected error or skip seen as such.
    (exp(E), Outcome.ERROR, "RuntimeError", "x", Verdict.AS_EXPECTED),
    (exp(S), Outcome.SKIPPED, None, None, Verdict.AS_EXPECTED),
]


@pytest.mark.parametrize(("expectation", "outcome", "exc", "message", "verdict"), TABLE)
def test_verdict_table(
    expectation: Expectation,
    outcome: Outcome,
    exc: str | None,
    message: str | None,
    verdict: Verdict,
) -> None:
    assert verdict_for(expectation, rec(outcome, exc, message))[0] is verdict


def test_table_covers_every_verdict_from_a_record() -> None:
    # MISSING and INCOMPLETE come from absent records; they are covered below.
    seen = {row[-1] for row in TABLE}
    assert seen == set(Verdict) - {Verdict.MISSING, Verdict.INCOMPLETE}


@pytest.mark.parametrize(
    ("expected", "seen", "match"),
    [
        ("AssertionError", "AssertionError", True),
        ("AssertionError", "builtins.AssertionError", True),
        ("errors.Violation", "Violation", True),
        ("a.Violation", "b.Violation", False),
        ("Error", "ValueError", False),
        ("AssertionError", None, False),
    ],
)
def test_exception_names_compare_by_class_name(
    expected: str, seen: str | None, match: bool
) -> None:
    assert exc_type_matches(expected, seen) is match


# --------------------------------------------------------------------------- whole gate


@pytest.fixture
def matrix(tmp_path: Path) -> Matrix:
    return load_matrix(write_project(tmp_path), import_adapters=False)


def merged(
    records: list[Record], problems: tuple[str, ...] = (), incomplete: frozenset[str] = frozenset()
) -> Merged:
    return Merged(
        cells=by_cell(records),
        problems=problems,
        notes=(),
        sources=("r.jsonl",),
        digests={},
        pythons=(),
        incomplete_cells=incomplete,
    )


def test_a_clean_run_passes_with_reproductions(matrix: Matrix) -> None:
    cells = plan_cells(matrix)
    result = judge(matrix, cells, merged(full_run(matrix)), planned=[c.id for c in cells])
    assert result.exit_code == ExitCode.OK
    counts = {v: sum(j.verdict is v for j in result.judged) for v in Verdict}
    assert counts[Verdict.REPRODUCED] == 4  # 2 tests x 2 pythons in reproduction/deprecated
    assert counts[Verdict.AS_EXPECTED] == 12
    assert len(result.judged) == 16
    # report order: phase, adapter, env, python, test
    assert [j.cell.id for j in result.judged[:3]] == [
        "reproduction/deprecated/unit/py3.12",
        "reproduction/deprecated/unit/py3.12",
        "reproduction/deprecated/unit/py3.13",
    ]


def test_a_test_absent_from_one_cell_is_missing_and_fails(matrix: Matrix) -> None:
    records = [
        r
        for r in full_run(matrix)
        if not (r.cell == "golden_path/ssot/unit/py3.13" and r.test == "t.py::b")
    ]
    result = judge(matrix, plan_cells(matrix), merged(records))
    missing = [j for j in result.judged if j.verdict is Verdict.MISSING]
    assert [(j.cell.id, j.test, j.record) for j in missing] == [
        ("golden_path/ssot/unit/py3.13", "t.py::b", None)
    ]
    assert result.exit_code == ExitCode.GATE_FAILED


def test_a_cell_without_any_record_is_one_missing_star(matrix: Matrix) -> None:
    records = [r for r in full_run(matrix) if r.cell != "reproduction/ssot/unit/py3.12"]
    result = judge(matrix, plan_cells(matrix), merged(records))
    missing = [j for j in result.judged if j.verdict is Verdict.MISSING]
    assert [(j.cell.id, j.test) for j in missing] == [("reproduction/ssot/unit/py3.12", "*")]
    summary = {s.cell.id: s for s in summarize(result)}["reproduction/ssot/unit/py3.12"]
    assert summary.no_results
    assert summary.text() == "no results"


def test_matrix_tables_follow_the_display_order_then_sort_the_rest() -> None:
    result = dataclasses.replace(
        sample_result(), phases=("golden_path",), adapters=("ssot",), pythons=("3.13",)
    )
    tables = matrix_tables(result)
    assert [table.python for table in tables] == ["3.13", "3.12"]
    first = tables[0]
    assert first.columns == [("ssot", "unit"), ("deprecated", "unit")]
    # golden_path has no deprecated cell: None, which each report draws its own way
    assert [(phase, [s.text() if s else None for s in row]) for phase, row in first.rows] == [
        ("golden_path", ["no results", None]),
        ("reproduction", ["2/2 ok", "2/2 ok"]),
    ]


def test_gaps_in_cells_of_an_incomplete_file_are_incomplete_and_exit_3(matrix: Matrix) -> None:
    cut = "golden_path/deprecated/unit/py3.12"
    records = [r for r in full_run(matrix) if not (r.cell == cut and r.test == "t.py::b")]
    problem = "r.jsonl:9: no footer"
    result = judge(matrix, plan_cells(matrix), merged(records, (problem,), frozenset({cut})))
    gaps = [(j.cell.id, j.test, j.verdict) for j in result.judged if j.record is None]
    assert gaps == [(cut, "t.py::b", Verdict.INCOMPLETE)]
    assert result.exit_code == ExitCode.INCOMPLETE
    assert result.problems == (problem,)


def test_results_for_unplanned_cells_are_a_problem(matrix: Matrix) -> None:
    records = [
        *full_run(matrix),
        Record("reproduction/ghost/unit/py3.12", "t.py::a", Outcome.PASSED),
    ]
    cells = plan_cells(matrix)
    result = judge(matrix, cells, merged(records), planned=[c.id for c in cells])
    assert result.exit_code == ExitCode.INCOMPLETE
    assert "reproduction/ghost/unit/py3.12" in result.problems[0]


def test_fail_on_decides_which_unexpected_verdicts_fail(matrix: Matrix) -> None:
    records = full_run(matrix)
    records[0] = records[0]._replace(outcome=Outcome.PASSED)  # unexpected pass
    lenient = dataclasses.replace(
        matrix, gates=dataclasses.replace(matrix.gates, fail_on=frozenset({Verdict.REGRESSION}))
    )
    assert judge(matrix, plan_cells(matrix), merged(records)).exit_code == ExitCode.GATE_FAILED
    assert judge(lenient, plan_cells(lenient), merged(records)).exit_code == ExitCode.OK


def test_a_failed_coverage_rule_fails_the_gate(matrix: Matrix) -> None:
    verdict = CoverageVerdict(CoverageRule("legacy", ("x.py",), max_lines=0), False, "3 lines")
    result = judge(matrix, plan_cells(matrix), merged(full_run(matrix)), coverage=[verdict])
    assert result.exit_code == ExitCode.GATE_FAILED


def test_selection_judges_only_the_selected_cells(matrix: Matrix) -> None:
    cells = [c for c in plan_cells(matrix) if c.python == "3.12"]
    result = judge(matrix, cells, merged(full_run(matrix)))
    assert {j.cell.python for j in result.judged} == {"3.12"}
    assert result.exit_code == ExitCode.OK


def test_injected_expectations_are_used_per_test(matrix: Matrix) -> None:
    asked: list[tuple[str, str]] = []

    def expect_all_fail(m: Matrix, cell: Cell, test: str) -> tuple[Expectation, None]:
        asked.append((cell.id, test))
        return exp(F), None

    result = judge(
        matrix, plan_cells(matrix), merged(full_run(matrix)), expectation_for=expect_all_fail
    )
    assert {j.verdict for j in result.judged} == {Verdict.UNEXPECTED_PASS, Verdict.REPRODUCED}
    # no rule names a test, so expect is asked once per cell, not once per (cell, test)
    assert len(asked) == len(plan_cells(matrix))


def test_judged_items_equal_hash_and_freeze_like_constructed_ones(matrix: Matrix) -> None:
    # Judged is a named tuple the gate builds through `new_judged` (model.py): its items
    # must still compare, hash, print and refuse assignment exactly like ones built by hand.
    records = [r for r in full_run(matrix) if r.test != "t.py::b" or "ssot" not in r.cell]
    result = judge(matrix, plan_cells(matrix), merged(records))
    assert {j.verdict for j in result.judged} == {
        Verdict.AS_EXPECTED,
        Verdict.REPRODUCED,
        Verdict.MISSING,
    }
    for item in result.judged:
        rebuilt = Judged(
            item.cell, item.test, item.expectation, item.record, item.verdict, item.detail
        )
        assert type(item) is Judged
        assert item == rebuilt
        assert hash(item) == hash(rebuilt)
        assert repr(item) == repr(rebuilt)
        assert item._asdict() == rebuilt._asdict()
        with pytest.raises(AttributeError):
            item.verdict = Verdict.REGRESSION  # type: ignore[misc]
