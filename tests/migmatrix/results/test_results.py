"""Results files: the writer's bytes and atomicity, and a reader that reports damage as problems."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from migmatrix.errors import ResultsError
from migmatrix.model import RESULTS_SCHEMA, Record, ResultsHeader
from migmatrix.outcomes import Outcome
from migmatrix.results import read as reader
from migmatrix.results import read_results, write_results


@pytest.fixture(autouse=True, params=["json", "orjson"])
def block_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with the stdlib parser, and again with orjson when it is installed.

    The reader parses whole blocks with orjson when it can (results.read._block_loader);
    the json module is the default and must give the same records and problems.
    """
    if request.param == "json":
        monkeypatch.setattr(reader, "_LOADS_BLOCK", reader.json_block)
    else:
        orjson = pytest.importorskip("orjson")
        monkeypatch.setattr(reader, "_LOADS_BLOCK", orjson.loads)
    return str(request.param)


HEADER = ResultsHeader(
    run_id="run-1",
    python="3.12",
    platform="linux",
    matrix_digest="d1",
    selection="reproduction/*",
    shard="1/2",
    started="2024-05-01T10:00:00+00:00",
    extra={"host": "ci-7"},
)
RECORDS = [
    Record("reproduction/deprecated/unit/py3.12", "test_a.py::test_one", Outcome.PASSED, 0.5),
    Record(
        "reproduction/deprecated/unit/py3.12",
        "test_a.py::test_two[x]",
        Outcome.FAILED,
        0.25,
        exc_type="AssertionError",
        message="SSOT VIOLATION: shared state ü",
        worker="gw1",
        attempt=2,
        nodeid="suites/reproduction/test_a.py::test_two[x-reproduction/deprecated/unit/py3.12]",
    ),
]


def write(tmp_path: Path, name: str = "r.jsonl") -> Path:
    path = tmp_path / name
    write_results(path, HEADER, RECORDS, finished="2024-05-01T10:01:00+00:00")
    return path


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    read = read_results(write(tmp_path))
    assert read.header == HEADER
    assert read.records == RECORDS
    assert read.footer is not None
    assert read.footer.records == 2
    assert read.footer.finished == "2024-05-01T10:01:00+00:00"
    assert read.problems == []
    assert read.complete


def test_fast_and_slow_records_are_equal_and_hash_alike(tmp_path: Path) -> None:
    # A record line missing optional keys takes the checking path; both must give equal Records.
    path = write(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    short = {
        "kind": "record",
        "cell": RECORDS[0].cell,
        "test": RECORDS[0].test,
        "outcome": "passed",
        "duration": 0.5,
    }
    lines[1] = json.dumps(short)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = read_results(path)
    assert read.records == RECORDS
    assert {hash(r) for r in read.records} == {hash(r) for r in RECORDS}


def test_lines_have_sorted_keys_and_the_same_bytes_each_time(tmp_path: Path) -> None:
    first = write(tmp_path, "a.jsonl").read_bytes()
    second = write(tmp_path, "b.jsonl").read_bytes()
    assert first == second
    lines = first.decode("utf-8").splitlines()
    assert len(lines) == 4
    for line in lines:
        obj = json.loads(line)
        assert list(obj) == sorted(obj)
    assert json.loads(lines[0])["schema"] == RESULTS_SCHEMA
    assert json.loads(lines[0])["host"] == "ci-7"
    assert "ü" in lines[2]  # UTF-8, not \\u escapes


def test_writer_is_atomic_when_records_raise(tmp_path: Path) -> None:
    path = write(tmp_path)
    before = path.read_bytes()

    def broken() -> Iterator[Record]:
        yield RECORDS[0]
        msg = "worker died"
        raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="worker died"):
        write_results(path, HEADER, broken())
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["r.jsonl"]  # no temporary file left behind


def test_missing_footer_is_a_problem_and_records_survive(tmp_path: Path) -> None:
    path = write(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    read = read_results(path)
    assert read.footer is None
    assert read.records == RECORDS
    assert not read.complete
    assert len(read.problems) == 1
    assert read.problems[0].startswith(f"{path}:3: no footer")


def test_wrong_count_unreadable_line_and_unknown_outcome_name_their_lines(tmp_path: Path) -> None:
    path = write(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    bad_outcome = json.loads(lines[1])
    bad_outcome["outcome"] = "exploded"
    lines[1] = json.dumps(bad_outcome)
    lines.insert(2, '{"kind": "record", "cell": ')  # a line cut in half
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = read_results(path)
    assert read.records == RECORDS[1:]
    text = "\n".join(read.problems)
    assert f"{path}:2: bad record: unknown outcome 'exploded'" in text
    assert f"{path}:3: unreadable line" in text
    assert f"{path}:5: footer says 2 records, 1 were read" in text
    assert len(read.problems) == 3


def test_record_after_footer_and_second_footer_are_problems(tmp_path: Path) -> None:
    path = write(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines += [lines[1], lines[-1]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = read_results(path).problems
    assert any(":5: record after the footer (line 4)" in p for p in problems)
    assert any(":6: second footer (first at line 4)" in p for p in problems)


def test_content_digest_tells_identical_files_apart_from_different_ones(tmp_path: Path) -> None:
    a = read_results(write(tmp_path, "a.jsonl"))
    b = read_results(write(tmp_path, "b.jsonl"))
    assert a.digest_of_content == b.digest_of_content
    other = tmp_path / "c.jsonl"
    write_results(other, HEADER, RECORDS[:1])
    assert read_results(other).digest_of_content != a.digest_of_content


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty file"),
        ("\n\n", "empty file"),
        ("hello world\n", "not a migmatrix results file"),
        ('{"kind": "record", "cell": "c", "test": "t", "outcome": "passed"}\n', "not a migmatrix"),
        ('{"kind": "header", "schema": "junit/1"}\n', "not a migmatrix results file"),
        ('{"kind": "header", "schema": "migmatrix-results/9"}\n', "is not supported"),
    ],
)
def test_files_that_are_not_results_files_raise(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ResultsError, match=reason):
        read_results(path)


def test_missing_file_raises_results_error(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="cannot read results file"):
        read_results(tmp_path / "nope.jsonl")


def test_records_read_are_equal_hash_alike_and_frozen_like_constructed_ones(tmp_path: Path) -> None:
    # The reader builds each Record with tuple.__new__ (results.lines.fast_record); this pins
    # that the result behaves exactly like one from the named tuple's constructor.
    read = read_results(write(tmp_path)).records
    for got, want in zip(read, RECORDS, strict=True):
        assert type(got) is Record
        assert got == want
        assert hash(got) == hash(want)
        assert repr(got) == repr(want)
        assert got._asdict() == want._asdict()
        assert got._replace() == want
        with pytest.raises(AttributeError):
            got.outcome = Outcome.FAILED  # type: ignore[misc]
        assert got.outcome is want.outcome  # the enum member itself, not its string


def nth_test(i: int) -> str:
    return f"test_{i % 7}.py::test_{i}"


def big_file(tmp_path: Path, count: int) -> tuple[Path, list[str]]:
    records = [
        Record("p/a/e/py3.12", nth_test(i), Outcome.PASSED, i / 1000, worker="gw0")
        for i in range(count)
    ]
    path = tmp_path / "big.jsonl"
    write_results(path, HEADER, records)
    return path, path.read_text(encoding="utf-8").split("\n")


def test_a_large_file_is_read_in_blocks_with_every_record(tmp_path: Path) -> None:
    path, _ = big_file(tmp_path, 12_000)  # several read blocks of 1 MiB
    assert path.stat().st_size > 2 * (1 << 20)
    read = read_results(path)
    assert read.complete
    assert len(read.records) == 12_000
    assert [r.test for r in read.records] == [nth_test(i) for i in range(12_000)]
    assert read.records[5_000] == Record(
        "p/a/e/py3.12", nth_test(5_000), Outcome.PASSED, 5.0, worker="gw0"
    )


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        # two objects on one line: the block's object count no longer equals its line count
        (lambda line: line + ", " + line, "unreadable line (text after JSON)"),
        # a nested value: not a flat object, so the line may not be trusted as one record
        (lambda line: line.replace('"attempt": 1', '"attempt": [1]'), "bad record"),
        # a blank line, then the cut half of a record
        (lambda line: "\n" + line[: len(line) // 2], "unreadable line (not JSON)"),
    ],
)
def test_damage_deep_inside_a_large_file_names_its_line(
    tmp_path: Path, damage: Callable[[str], str], problem: str
) -> None:
    path, lines = big_file(tmp_path, 12_000)
    lines[7_000] = damage(lines[7_000])  # line 7,001 (record 6,999), in the second block
    path.write_text("\n".join(lines), encoding="utf-8")
    read = read_results(path)
    shift = lines[7_000].count("\n")
    assert any(p.startswith(f"{path}:{7_001 + shift}: {problem}") for p in read.problems), (
        read.problems
    )
    # every other line of the block is still read, in order
    tests = [r.test for r in read.records]
    assert tests[:6_999] == [nth_test(i) for i in range(6_999)]
    assert tests[-5_000:] == [nth_test(i) for i in range(7_000, 12_000)]


def test_a_results_file_is_readable_by_others_like_any_new_file(tmp_path: Path) -> None:
    # mkstemp makes 0600 files; a CI artifact must get the umask's ordinary mode.
    import stat

    header = ResultsHeader("r", "3.12", "linux", "d", None, None, "2026-01-01T00:00:00+00:00")
    umask = os.umask(0o022)
    try:
        write_results(tmp_path / "r.jsonl", header, [])
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "r.jsonl").stat().st_mode) == 0o644


# --------------------------------------------------------------------------- issue 20: no guessing


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_collected_lines_are_written_after_the_header_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    collected = {"b/cell": ["t::2", "t::1", "t::2"], "a/cell": ["t::1"]}
    write_results(path, HEADER, RECORDS, collected=collected)
    lines = lines_of(path)
    assert [json.loads(line)["kind"] for line in lines[:3]] == ["header", "collected", "collected"]
    assert json.loads(lines[1]) == {"cell": "a/cell", "kind": "collected", "tests": ["t::1"]}
    found = read_results(path)
    assert found.complete, found.problems
    assert found.has_collection
    assert found.collected == {"a/cell": ("t::1",), "b/cell": ("t::1", "t::2")}
    assert found.records == RECORDS  # the footer counts records only
    assert json.loads(lines[-1])["records"] == len(RECORDS)


def test_a_version_1_file_is_read_and_says_it_has_no_collection(tmp_path: Path) -> None:
    path = write(tmp_path)
    text = path.read_text(encoding="utf-8").replace(RESULTS_SCHEMA, "migmatrix-results/1")
    path.write_text(text, encoding="utf-8")
    found = read_results(path)
    assert found.complete, found.problems
    assert not found.has_collection
    assert found.records == RECORDS


@pytest.mark.parametrize(
    ("count", "says"),
    [(-1, "footer record count -1 is negative"), ("2", "'2' is not an integer"),
     (1.0, "1.0 is not an integer"), (True, "True is not an integer")],
)  # fmt: skip
def test_a_negative_or_non_integer_footer_count_is_a_problem(
    tmp_path: Path, count: object, says: str
) -> None:
    path = write(tmp_path)
    lines = lines_of(path)
    footer = json.loads(lines[-1])
    footer["records"] = count
    # One record removed too: the probe of issue 20, where -1 hid exactly this.
    path.write_text("\n".join([*lines[:-2], json.dumps(footer)]) + "\n", encoding="utf-8")
    found = read_results(path)
    assert not found.complete
    assert any(says in problem for problem in found.problems), found.problems


def test_a_line_that_is_not_utf8_is_a_problem_and_never_a_guessed_record(tmp_path: Path) -> None:
    path = write(tmp_path)
    raw = path.read_bytes().split(b"\n")
    raw[1] = raw[1].replace(b"test_one", b"test_\xff\xfeone")
    path.write_bytes(b"\n".join(raw))
    found = read_results(path)
    assert not found.complete
    assert found.problems[0].startswith(f"{path}:2: line is not valid UTF-8 (byte ")
    assert found.problems[1:] == [f"{path}:4: footer says 2 records, 1 were read"]
    assert [r.test for r in found.records] == ["test_a.py::test_two[x]"]
    assert not any("\ufffd" in r.test for r in found.records)


@pytest.mark.parametrize(
    ("change", "says"),
    [({"shard": "4/3"}, "'shard' must be"), ({"shard": 2}, "'shard' must be"),
     ({"python": 3.12}, "'python' must be a string"), ({"run_id": ""}, "no 'python' or no"),
     ({"selection": ["a"]}, "'selection' must be")],
)  # fmt: skip
def test_a_damaged_header_is_a_problem_of_the_file(
    tmp_path: Path, change: dict[str, object], says: str
) -> None:
    path = write(tmp_path)
    lines = lines_of(path)
    header = json.loads(lines[0])
    header.update(change)
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")
    found = read_results(path)
    assert not found.complete
    assert any(p.startswith(f"{path}:1: damaged header:") and says in p for p in found.problems)


def test_a_bad_byte_inside_the_header_is_a_problem_not_a_refusal(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_bytes(path.read_bytes().replace(b"ci-7", b"ci-\xff", 1))
    found = read_results(path)
    assert not found.complete
    assert any(p.startswith(f"{path}:1: line is not valid UTF-8") for p in found.problems)
