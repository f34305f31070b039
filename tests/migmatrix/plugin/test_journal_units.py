"""The journal, without processes: what it appends reads back, and the final file replaces it."""

from __future__ import annotations

import json
from pathlib import Path

from migmatrix.model import Record, ResultsHeader
from migmatrix.outcomes import Outcome
from migmatrix.plugin.journal import Journal
from migmatrix.plugin.record import Recorder
from migmatrix.results import header_to_dict, read_results, write_results

HEADER = ResultsHeader(
    run_id="r", python="3.12", platform="p", matrix_digest="d", selection=None, shard=None,
    started="s",
)  # fmt: skip


def journal_at(tmp_path: Path) -> tuple[Path, Journal]:
    path = tmp_path / "py3.12.jsonl"
    path.write_text(json.dumps(header_to_dict(HEADER), sort_keys=True) + "\n")
    return path, Journal(path)


def test_every_line_appended_reads_back_and_the_file_stays_incomplete(tmp_path: Path) -> None:
    path, journal = journal_at(tmp_path)
    recorder = Recorder()
    recorder.on_record = journal.record
    journal.collected({"c": ["t::b", "t::a"]})
    journal.collected({"c": ["t::other"]})  # a second worker's: written once per run
    journal.began("c", "t::b", "n::b")
    recorder.add(Record("c", "t::b", Outcome.PASSED, nodeid="n::b"))
    journal.began("c", "t::a", "n::a")
    journal.close()
    found = read_results(path)
    assert not found.complete
    assert found.collected == {"c": ("t::a", "t::b")}
    assert [r.key for r in found.records] == [("c", "t::b")]
    assert found.unfinished == (("c", "t::a", "n::a"),)


def test_the_final_file_has_no_journal_lines_and_depends_on_the_data_only(tmp_path: Path) -> None:
    records = [
        Record("c", "t::b", Outcome.PASSED, nodeid="n::b"),
        Record("c", "t::a", Outcome.FAILED, nodeid="n::a"),
    ]
    texts = []
    for order in (records, records[::-1]):
        path, journal = journal_at(tmp_path)
        for record in order:
            journal.began(record.cell, record.test, record.nodeid or "")
            journal.record(record)
        journal.close()
        recorder = Recorder()
        for record in order:
            recorder.add(record)
        write_results(path, HEADER, recorder.finish(), collected={"c": ["t::a", "t::b"]})
        texts.append(path.read_bytes())
    assert texts[0] == texts[1]
    assert b'"began"' not in texts[0]
    assert read_results(tmp_path / "py3.12.jsonl").complete
