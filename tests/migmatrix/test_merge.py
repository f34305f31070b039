"""Merge: sorted inputs, duplicate files skipped, gaps and conflicts reported, never overwritten."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from migmatrix.errors import UsageError
from migmatrix.merge import collect_paths, merge, read_all
from migmatrix.model import Record, ResultsHeader
from migmatrix.outcomes import Outcome
from migmatrix.results import ResultsFile, read_results, write_results

CELL = "reproduction/deprecated/unit/py3.12"
HEADER = ResultsHeader("run", "3.12", "linux", "digest-a", None, None, "2024-01-01T00:00:00Z")


def write(path: Path, records: list[Record], header: ResultsHeader = HEADER) -> ResultsFile:
    write_results(path, header, records)
    return read_results(path)


def rec(test: str, outcome: Outcome = Outcome.PASSED, cell: str = CELL) -> Record:
    return Record(cell, test, outcome)


def test_shards_merge_into_one_set(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [rec("t::1"), rec("t::2")])
    b = write(tmp_path / "b.jsonl", [rec("t::3")])
    merged = merge([b, a])
    assert sorted(merged.records) == [(CELL, "t::1"), (CELL, "t::2"), (CELL, "t::3")]
    assert merged.sources == (str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"))
    assert merged.problems == ()
    assert merged.pythons == ("3.12",)


def test_an_identical_file_is_skipped_and_said_so(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [rec("t::1")])
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes((tmp_path / "a.jsonl").read_bytes())
    merged = merge([read_results(copy), a])
    assert merged.sources == (str(tmp_path / "a.jsonl"),)
    assert merged.notes == (f"{copy}: skipped, same content as {tmp_path / 'a.jsonl'}",)
    assert merged.problems == ()


def test_conflicting_outcomes_keep_the_worse_and_name_both_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [rec("t::1", Outcome.PASSED), rec("t::2", Outcome.CRASHED)])
    b = write(tmp_path / "b.jsonl", [rec("t::1", Outcome.FAILED), rec("t::2", Outcome.PASSED)])
    for order in ([a, b], [b, a]):
        merged = merge(order)
        assert merged.records[(CELL, "t::1")].outcome is Outcome.FAILED
        assert merged.records[(CELL, "t::2")].outcome is Outcome.CRASHED
        assert merged.problems == (
            f"conflict for {CELL} :: t::1: passed in {tmp_path / 'a.jsonl'}, "
            f"failed in {tmp_path / 'b.jsonl'}; judging failed",
            f"conflict for {CELL} :: t::2: crashed in {tmp_path / 'a.jsonl'}, "
            f"passed in {tmp_path / 'b.jsonl'}; judging crashed",
        )


def test_agreeing_repeats_are_a_note_not_a_problem(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [rec("t::1")])
    b = write(tmp_path / "b.jsonl", [rec("t::1")], dataclasses.replace(HEADER, run_id="rerun"))
    merged = merge([a, b])
    assert merged.problems == ()
    assert merged.notes == ("1 (cell, test) results recorded more than once with the same outcome",)


def test_a_repeat_inside_one_file_is_judged_like_two_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [rec("t::1"), rec("t::1", Outcome.FAILED)])
    merged = merge([a])
    assert merged.records[(CELL, "t::1")].outcome is Outcome.FAILED
    assert len(merged.problems) == 1
    assert "conflict" in merged.problems[0]


def test_incomplete_file_keeps_its_records_and_marks_its_cells(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    write(path, [rec("t::1"), rec("t::2", cell="other/x/unit/py3.12")])
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # no footer
    merged = merge([read_results(path)])
    assert len(merged.records) == 2
    assert merged.incomplete_cells == {CELL, "other/x/unit/py3.12"}
    assert merged.problems[0].startswith(f"{path}:3: no footer")


def test_different_matrix_digests_name_the_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.jsonl", [rec("t::1")])
    b = write(tmp_path / "b.jsonl", [rec("t::2")], dataclasses.replace(HEADER, matrix_digest="b"))
    problems = merge([a, b]).problems
    assert len(problems) == 1
    assert "matrix digests differ" in problems[0]
    assert f"b: {tmp_path / 'b.jsonl'}" in problems[0]
    assert f"digest-a: {tmp_path / 'a.jsonl'}" in problems[0]
    against = merge([a], matrix_digest="other").problems
    assert len(against) == 1
    assert "another matrix.yaml" in against[0]
    assert str(tmp_path / "a.jsonl") in against[0]


def test_collect_paths_expands_folders_and_rejects_typos(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    write(tmp_path / "r" / "b.jsonl", [rec("t::1")])
    write(tmp_path / "r" / "a.jsonl", [rec("t::2")])
    (tmp_path / "r" / "notes.txt").write_text("x", encoding="utf-8")
    paths = collect_paths([str(tmp_path / "r")])
    assert paths == [str(tmp_path / "r" / "a.jsonl"), str(tmp_path / "r" / "b.jsonl")]
    assert len(merge(read_all(paths)).records) == 2
    with pytest.raises(UsageError, match="does not exist"):
        collect_paths([str(tmp_path / "nope")])
