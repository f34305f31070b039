"""Report summaries: cell counts, matrix tables, totals and the words every report shares."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from gate_data import sample_result, write_project

# The mixed matrix and its random runs are the gate tests' own; the reports are
# checked on the very same data.
from test_gate import MIXED, merged, random_run

from migmatrix.gate import judge
from migmatrix.load import load_matrix
from migmatrix.model import JudgedItems
from migmatrix.outcomes import Verdict
from migmatrix.plan import plan_cells
from migmatrix.report.html_ import render_html
from migmatrix.report.json_ import render_json
from migmatrix.report.junit import render_junit
from migmatrix.report.markdown import render_markdown
from migmatrix.report.summary import (
    got,
    judgements,
    matrix_tables,
    rule_words,
    status,
    summarize,
    unexpected,
    verdict_totals,
)
from migmatrix.report.terminal import render_terminal
from migmatrix.text import one_line


def test_a_cell_without_any_record_is_summarized_as_no_results() -> None:
    summaries = {s.cell.id: s for s in summarize(sample_result())}
    star = summaries["golden_path/ssot/unit/py3.13"]
    assert star.no_results
    assert star.text() == "no results"
    assert (star.total, star.ok, star.unexpected, star.failing) == (1, 0, 1, 1)
    assert summaries["golden_path/ssot/unit/py3.12"].text() == "1 unexpected"
    assert summaries["reproduction/deprecated/unit/py3.12"].text() == "2/2 ok"


def test_each_call_gets_its_own_summaries() -> None:
    result = sample_result()
    first = summarize(result)
    first[0].ok = 99
    first[0].verdicts.clear()
    again = summarize(result)
    assert again[0].ok == 2
    assert again[0].verdicts == {Verdict.REPRODUCED: 2}


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


def test_totals_unexpected_items_and_status_words() -> None:
    result = sample_result()
    totals = verdict_totals(result)
    assert list(totals) == list(Verdict)
    assert {v: n for v, n in totals.items() if n} == {
        Verdict.AS_EXPECTED: 5,
        Verdict.REPRODUCED: 4,
        Verdict.REGRESSION: 1,
        Verdict.MISSING: 1,
    }
    assert [(j.cell.id, j.test) for j in unexpected(result)] == [
        ("golden_path/ssot/unit/py3.12", 't.py::x[<&"|>]'),
        ("golden_path/ssot/unit/py3.13", "*"),
    ]
    words = [status(sample_result(code)) for code in (0, 1, 3, 2)]
    assert words == ["passed", "failed", "incomplete", "error"]


def test_got_rule_words_and_one_line() -> None:
    result = sample_result()
    regression, missing = unexpected(result)
    assert got(regression) == "failed (KeyError)"
    assert got(missing) == "no result"
    (rule,) = result.stale_rules
    assert rule_words(rule) == "rule #4 at matrix.yaml:40:7: phase=business"
    # The first line only, without terminal escapes, cut with an ellipsis.
    assert one_line(regression.record.message) == "boom <b>|</b> & red"
    assert one_line("x" * 300, limit=10) == "x" * 9 + "…"
    assert one_line(None) == one_line("") == ""


def test_a_hand_built_result_with_a_cell_in_several_runs_is_one_summary() -> None:
    # The sample's reproduction items alternate between the deprecated and the ssot
    # cell: each cell is several runs, so several blocks, yet one summary.
    result = sample_result()
    blocks = judgements(result)
    assert len(blocks) == 10
    summaries = summarize(result)
    assert len(summaries) == len({block.cell.id for block in blocks}) == 6
    texts = {s.cell.id: s.text() for s in summaries}
    assert texts["reproduction/deprecated/unit/py3.12"] == "2/2 ok"
    assert texts["reproduction/ssot/unit/py3.13"] == "2/2 ok"
    items = list(result.judged)
    shuffled = dataclasses.replace(result, judged=(items[0], *items[2:4], items[1], *items[4:]))
    assert {s.cell.id: s.text() for s in summarize(shuffled)} == texts


@pytest.mark.parametrize("seed", range(5))
def test_reports_are_the_same_bytes_from_cell_blocks_and_from_plain_items(
    tmp_path: Path, seed: int
) -> None:
    # The reports walk the gate's cell blocks; a result built by hand holds a plain tuple
    # of items, which they group themselves (summary.judgements). Both give the same bytes.
    path = write_project(tmp_path)
    path.write_text(MIXED, encoding="utf-8")
    matrix = load_matrix(path)
    result = judge(matrix, plan_cells(matrix), merged(random_run(matrix, seed)))
    plain = dataclasses.replace(result, judged=tuple(result.judged))
    assert isinstance(result.judged, JudgedItems)
    assert plain == result
    assert all(len(block.other) == len(block.tests) for block in judgements(plain))
    for render in (render_terminal, render_markdown, render_json, render_junit, render_html):
        assert render(plain) == render(result), render.__module__
