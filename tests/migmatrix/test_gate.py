"""The gate: every verdict from a commented table, the missing rules, and the exit codes."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from gate_data import full_run, write_project

from migmatrix.cli import main
from migmatrix.expect import expectation_for
from migmatrix.gate import exc_type_matches, judge, verdict_for
from migmatrix.load import load_matrix
from migmatrix.merge import Merged, group_by_cell
from migmatrix.model import (
    Cell,
    CoverageRule,
    CoverageVerdict,
    Expectation,
    Judged,
    JudgedItems,
    Matrix,
    Record,
    ResultsHeader,
)
from migmatrix.outcomes import ExitCode, Expected, Outcome, Verdict
from migmatrix.plan import plan_cells
from migmatrix.results import write_results

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
    # An environment that could not be installed: as expected only where expected.
    (exp(P), Outcome.UNAVAILABLE, None, "requires Python >=3.13", Verdict.UNAVAILABLE),
    (exp(F), Outcome.UNAVAILABLE, None, None, Verdict.UNAVAILABLE),
    (exp(Expected.UNAVAILABLE), Outcome.UNAVAILABLE, None, "x", Verdict.AS_EXPECTED),
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
    return load_matrix(write_project(tmp_path))


def merged(
    records: list[Record], problems: tuple[str, ...] = (), incomplete: frozenset[str] = frozenset()
) -> Merged:
    return Merged(
        cells=group_by_cell(records)[0],
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


# --------------------------------------------------------------------------- the compact gate

# Rules that make the gate's shortcuts matter: a common expectation per cell, a
# reason-checked expected failure, and a test glob that gives some tests their own.
MIXED = """\
python: ["3.12"]
phases: {reproduction: suites/reproduction, golden_path: suites/golden_path}
adapters:
  deprecated: {object: "adapters.deprecated:adapter", features: []}
  ssot: {object: "adapters.ssot:adapter", features: [ssot-engine]}
envs: {unit: {features: [in-memory]}, integration: {features: [sqlite]}}
expect:
  default: pass
  rules:
    - phase: reproduction
      unless: [ssot-engine]
      outcome: fail
      raises: AssertionError
      match: "SSOT"
    - test: "t.py::flaky_*"
      outcome: [pass, fail]
    - test: "t.py::skip_*"
      env: integration
      outcome: skip
"""


def one_by_one(matrix: Matrix, records: list[Record]) -> dict[tuple[str, str], tuple[object, ...]]:
    """What the gate must decide, worked out for every item with no shortcut at all."""
    cells = plan_cells(matrix)
    recorded, _ = group_by_cell(records)
    phase_tests: dict[str, set[str]] = {}
    for cell in cells:
        phase_tests.setdefault(cell.phase, set()).update(recorded.get(cell.id, {}))
    want: dict[tuple[str, str], tuple[object, ...]] = {}
    for cell in cells:
        tests = recorded.get(cell.id)
        if not tests:
            # The cell stands for every test of its phase: the commonest expectation,
            # and how many tests expect what.
            every = [expectation_for(matrix, cell, t)[0] for t in sorted(phase_tests[cell.phase])]
            if not every:
                expectation, _ = expectation_for(matrix, cell, "*")
                want[(cell.id, "*")] = (
                    expectation,
                    None,
                    Verdict.MISSING,
                    "no results for this cell",
                )
                continue
            tally = Counter(every)
            ranked = sorted(tally.items(), key=lambda kv: (-kv[1], kv[0].describe()))
            words = ", ".join(f"{e.describe()} ({n})" for e, n in ranked)
            if len(tally) > 1:
                detail = f"no results for this cell: its {len(every)} test(s) expect {words}"
            else:
                only = ranked[0][0].describe()
                detail = f"no results for this cell, whose tests expect {only}"
            want[(cell.id, "*")] = (ranked[0][0], None, Verdict.MISSING, detail)
            continue
        for test in sorted(phase_tests[cell.phase]):
            expectation, _ = expectation_for(matrix, cell, test)
            found = tests.get(test)
            if found is None:
                want[(cell.id, test)] = (
                    expectation,
                    None,
                    Verdict.MISSING,
                    "no result for this test",
                )
            else:
                want[(cell.id, test)] = (expectation, found, *verdict_for(expectation, found))
    return want


TIDY_CELL = "golden_path/ssot/unit/py3.12"
NAMED_ONLY_CELL = "golden_path/ssot/integration/py3.12"


def random_run(matrix: Matrix, seed: int) -> list[Record]:
    """A run of MIXED where any test may pass, fail for either reason, err, skip or be lost."""
    rng = random.Random(seed)
    tests = [f"t.py::test_{i}" for i in range(12)] + ["t.py::flaky_1", "t.py::skip_1"]
    records = []
    for cell in plan_cells(matrix):
        # golden_path/ssot/unit is always tidy and green: the gate's shortcut must show.
        # In golden_path/ssot/integration only the named tests differ, as their rules
        # allow: a flaky test fails, a skip test skips (no verdict fails the gate).
        green = cell.id == TIDY_CELL
        if cell.id == NAMED_ONLY_CELL:
            for test in tests:
                outcome = {"t.py::flaky_1": Outcome.FAILED, "t.py::skip_1": Outcome.SKIPPED}.get(
                    test, Outcome.PASSED
                )
                exc = "AssertionError" if outcome is Outcome.FAILED else None
                records.append(Record(cell.id, test, outcome, 0.001, exc, "boom" if exc else None))
            continue
        if not green and rng.random() < 0.1:
            continue  # a cell with no results at all
        # Cells behave alike, as real ones do: a tidy one entirely, others mostly.
        tidy = green or rng.random() < 0.4
        usual = Outcome.PASSED if green else rng.choice([Outcome.PASSED, Outcome.FAILED])
        for test in tests:
            outcome = usual if tidy or rng.random() < 0.8 else rng.choice(list(Outcome))
            if not tidy and rng.random() < 0.05:
                continue  # a lost result
            exc, message = None, None
            if outcome in (Outcome.FAILED, Outcome.ERROR):
                exc = rng.choice(["AssertionError", "KeyError"])
                message = rng.choice(["SSOT VIOLATION: shared", "boom"])
            records.append(Record(cell.id, test, outcome, 0.001, exc, message))
    return records


@pytest.mark.parametrize("seed", range(25))
def test_the_gate_decides_what_judging_each_item_alone_decides(tmp_path: Path, seed: int) -> None:
    # The gate skips work: it judges an outcome once per expectation, a failure once per
    # reason, and a cell whose outcomes are all plainly as expected without visiting its
    # tests (model.CellJudgement). Every item must still be what one-by-one judging says.
    path = write_project(tmp_path)
    path.write_text(MIXED, encoding="utf-8")
    matrix = load_matrix(path)
    records = random_run(matrix, seed)
    result = judge(matrix, plan_cells(matrix), merged(records))
    got = {
        (j.cell.id, j.test): (j.expectation, j.record, j.verdict, j.detail) for j in result.judged
    }
    want = one_by_one(matrix, records)
    assert got == want
    assert len(result.judged) == len(got)  # no item twice
    # The exit code follows the items' verdicts, not those worked out on the way (the
    # named-only cell's failure would be a regression under the cell's common expectation).
    failing = any(item[2] in matrix.gates.fail_on for item in want.values())
    assert result.exit_code == (ExitCode.GATE_FAILED if failing else ExitCode.OK)
    named_only = {item[2] for key, item in want.items() if key[0] == NAMED_ONLY_CELL}
    assert named_only == {Verdict.AS_EXPECTED, Verdict.FLAKY}
    lone = judge(
        matrix, [c for c in plan_cells(matrix) if c.id == NAMED_ONLY_CELL], merged(records)
    )
    assert lone.exit_code == ExitCode.OK
    # Blocks and items agree: every item is in its cell's block, in the same order.
    assert isinstance(result.judged, JudgedItems)
    blocks = result.judged.blocks
    assert [item for block in blocks for item in block] == list(result.judged)
    # The green cell was judged without visiting its tests: only the named ones are objects.
    (tidy,) = [block for block in blocks if block.cell.id == TIDY_CELL]
    assert set(tidy.other) == {"t.py::flaky_1", "t.py::skip_1"}
    assert len(tidy.tests) == 14


def test_judged_items_are_a_sequence_equal_to_the_plain_tuple(matrix: Matrix) -> None:
    records = [r for r in full_run(matrix) if r.test != "t.py::b" or "ssot" not in r.cell]
    result = judge(matrix, plan_cells(matrix), merged(records))
    items = result.judged
    assert isinstance(items, JudgedItems)
    plain = tuple(items)
    assert len(items) == len(plain) == sum(len(block.tests) for block in items.blocks)
    assert (items[0], items[-1], items[1:4]) == (plain[0], plain[-1], plain[1:4])
    assert items == plain
    assert plain == items
    assert hash(items) == hash(plain)
    assert items != list(plain)  # a sequence of another type is not equal, as for tuples
    assert repr(items) == f"JudgedItems({len(plain)} items in {len(items.blocks)} cells)"
    # A usual item is built on demand; a test the block does not hold is a clear KeyError.
    block = items.blocks[0]
    assert block.item(block.tests[0]) == plain[0]
    with pytest.raises(KeyError, match=r"t\.py::nope"):
        block.item("t.py::nope")


# --------------------------------------------------------------------------- issue 20: lost results


def test_a_collected_test_without_a_record_is_missing_in_every_cell(matrix: Matrix) -> None:
    # No record names t.py::c anywhere: only the runs' collection says it exists.
    cells = plan_cells(matrix)
    found = dataclasses.replace(
        merged(full_run(matrix)), collected={c.id: frozenset({"t.py::c"}) for c in cells}
    )
    result = judge(matrix, cells, found)
    missing = {(j.cell.id, j.test) for j in result.judged if j.verdict is Verdict.MISSING}
    assert missing == {(c.id, "t.py::c") for c in cells}
    assert result.exit_code == ExitCode.GATE_FAILED


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return tmp_path


def write_shards(project: Path, total: int, *, collected: bool = True) -> list[Path]:
    """One python's full run, cut into `total` shard files the way a sharded run writes them."""
    matrix = load_matrix(project / "matrix.yaml")
    records = full_run(matrix, "3.12")
    paths = []
    for index in range(1, total + 1):
        mine = records[index - 1 :: total]
        header = ResultsHeader(
            f"r{index}", "3.12", "linux", matrix.digest, None, f"{index}/{total}",
            "2024-01-01T00:00:00Z",
        )  # fmt: skip
        seen: dict[str, list[str]] = {}
        for record in mine:
            seen.setdefault(record.cell, []).append(record.test)
        path = project / "results" / f"py3.12-shard-{index}-of-{total}.jsonl"
        write_results(path, header, mine, collected=seen if collected else None)
        paths.append(path)
    return paths


def gate(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    # Every item's cell in full, not only each group's first cells.
    code = main(["gate", "results", "--python", "3.12", "--all-items"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_all_shards_pass_and_a_deleted_shard_is_exit_3_naming_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = write_shards(project, 2)
    assert gate(capsys)[0] == ExitCode.OK
    paths[1].unlink()
    code, text = gate(capsys)
    assert code == ExitCode.INCOMPLETE
    assert "shard 2/2 of python 3.12 is missing" in text


def test_a_negative_footer_count_no_longer_hides_a_lost_test(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The probe: one test id removed from every cell, and the footer's count made -1.
    [path] = write_shards(project, 1, collected=False)
    assert gate(capsys)[0] == ExitCode.OK
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if '"t.py::b"' not in line]
    footer = json.loads(kept[-1])
    footer["records"] = -1
    path.write_text("\n".join([*kept[:-1], json.dumps(footer)]) + "\n", encoding="utf-8")
    code, text = gate(capsys)
    assert code == ExitCode.INCOMPLETE
    assert "footer record count -1 is negative" in text


def test_a_record_removed_from_a_file_with_a_collection_is_missing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Removing a test id's records and fixing the count leaves the collection to tell.
    [path] = write_shards(project, 1)
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not ('"t.py::b"' in line and '"record"' in line)]
    footer = json.loads(kept[-1])
    footer["records"] = sum('"record"' in line for line in kept)
    path.write_text("\n".join([*kept[:-1], json.dumps(footer)]) + "\n", encoding="utf-8")
    code, text = gate(capsys)
    assert code == ExitCode.GATE_FAILED
    assert "missing (4)  t.py::b" in text
    assert "      golden_path/ssot/unit/py3.12\n" in text


def test_invalid_utf8_in_a_results_file_is_exit_3(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [path] = write_shards(project, 1)
    raw = path.read_bytes()
    at = raw.index(b'"t.py::a"')
    path.write_bytes(raw[:at] + b'"t.py::\xc3(a"' + raw[at + len(b'"t.py::a"') :])
    code, text = gate(capsys)
    assert code == ExitCode.INCOMPLETE
    assert "line is not valid UTF-8" in text


def test_a_damaged_header_is_exit_3(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [path] = write_shards(project, 1)
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header["shard"] = "2/1"
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")
    code, text = gate(capsys)
    assert code == ExitCode.INCOMPLETE
    assert "damaged header" in text


def test_a_cell_whose_environment_did_not_install_is_one_unavailable_item(
    tmp_path: Path,
) -> None:
    """One `*` record, carrying the installer's message: neither missing nor a failure.

    Unexpected, it fails the gate with its reason; expected (`outcome: unavailable`),
    it passes; and the `*` record never makes the phase's other cells miss a test.
    """
    path = write_project(tmp_path)
    cut = "golden_path/ssot/unit/py3.13"
    why = "Because the requested Python version (>=3.14) does not satisfy Python 3.13"
    records = [r for r in full_run(load_matrix(path)) if r.cell != cut]
    records.append(Record(cut, "*", Outcome.UNAVAILABLE, message=why))
    matrix = load_matrix(path)
    result = judge(matrix, plan_cells(matrix), merged(records))
    odd = [(j.cell.id, j.test, j.verdict, j.detail) for j in result.judged]
    odd = [item for item in odd if not item[2].expected]
    assert odd == [(cut, "*", Verdict.UNAVAILABLE, why)]
    assert result.exit_code == ExitCode.GATE_FAILED

    text = path.read_text(encoding="utf-8").replace(
        "  rules:\n",
        "  rules:\n"
        "    - {adapter: ssot, python: '3.13', phase: golden_path, outcome: unavailable}\n",
    )
    path.write_text(text, encoding="utf-8")
    matrix = load_matrix(path)
    result = judge(matrix, plan_cells(matrix), merged(records))
    assert result.exit_code == ExitCode.OK
    assert all(j.verdict.expected for j in result.judged)
