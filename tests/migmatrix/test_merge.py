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


# --------------------------------------------------------------------------- issue 20


def shard_header(
    shard: str | None, python: str = "3.12", selection: str | None = None
) -> ResultsHeader:
    return dataclasses.replace(
        HEADER, run_id=f"run-{shard}", python=python, selection=selection, shard=shard
    )


def test_collected_tests_are_the_union_over_the_files(tmp_path: Path) -> None:
    write_results(tmp_path / "a.jsonl", HEADER, [rec("t::1")], collected={CELL: ["t::1", "t::3"]})
    other = dataclasses.replace(HEADER, run_id="other")
    write_results(tmp_path / "b.jsonl", other, [rec("t::2")], collected={CELL: ["t::2"]})
    result = merge(read_all([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]))
    assert result.collected == {CELL: frozenset({"t::1", "t::2", "t::3"})}
    assert result.problems == ()


def test_a_version_1_file_is_merged_with_a_note(tmp_path: Path) -> None:
    old = dataclasses.replace(HEADER, schema="migmatrix-results/1")
    result = merge([write(tmp_path / "old.jsonl", [rec("t::1")], old)])
    assert result.problems == ()
    assert result.notes == (
        f"{tmp_path / 'old.jsonl'}: results schema /1 carries no collection record; "
        "judged by the tests its records name only",
    )


def test_a_missing_shard_is_a_problem_naming_it(tmp_path: Path) -> None:
    files = [
        write(tmp_path / f"s{i}.jsonl", [rec(f"t::{i}")], shard_header(f"{i}/3", "3.11", "golden"))
        for i in (1, 2)
    ]
    assert merge(files).problems == (
        "shard 3/3 of python 3.11, cells 'golden' is missing; run it (--shard 3/3) "
        "or add its results file",
    )
    files.append(write(tmp_path / "s3.jsonl", [rec("t::3")], shard_header("3/3", "3.11", "golden")))
    assert merge(files).problems == ()


def test_shards_are_counted_per_python_and_selection(tmp_path: Path) -> None:
    files = [
        write(tmp_path / "a.jsonl", [rec("t::1")], shard_header("1/2", "3.11")),
        write(tmp_path / "b.jsonl", [rec("t::2")], shard_header("2/2", "3.12")),
        write(tmp_path / "c.jsonl", [rec("t::3")], shard_header("1/3", "3.12")),
    ]
    assert merge(files).problems == (
        "shard 2/2 of python 3.11 is missing; run it (--shard 2/2) or add its results file",
        "shards of python 3.12 were cut 2 ways and 3 ways; rerun every shard with one "
        "--shard total",
        "shard 1/2 of python 3.12 is missing; run it (--shard 1/2) or add its results file",
        "shard 2/3 of python 3.12 is missing; run it (--shard 2/3) or add its results file",
        "shard 3/3 of python 3.12 is missing; run it (--shard 3/3) or add its results file",
    )


def test_a_whole_run_of_the_same_plan_covers_every_shard(tmp_path: Path) -> None:
    files = [
        write(tmp_path / "a.jsonl", [rec("t::1")], shard_header("1/3")),
        write(tmp_path / "whole.jsonl", [rec("t::1"), rec("t::2")], shard_header(None)),
    ]
    assert merge(files).problems == ()
