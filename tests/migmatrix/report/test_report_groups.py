"""Unexpected items grouped by cause: the key, the order, the spans."""

from __future__ import annotations

import dataclasses

from gate_data import sample_result
from map_data import migration_result

from migmatrix.model import Cell, Expectation, Judged, Record
from migmatrix.outcomes import Expected, Outcome, Verdict
from migmatrix.report.groups import cause, group_items, name_some, span_words, tally
from migmatrix.report.markdown import render_markdown
from migmatrix.report.terminal import render_terminal


def test_one_bug_with_varying_numbers_is_one_group_per_test() -> None:
    result = migration_result(bug=True)
    groups = group_items(result)
    assert [len(group.items) for group in groups] == [32, 32]
    assert [group.first.test for group in groups] == [
        "test_golden_path.py::test_0",
        "test_websocket.py::test_0",
    ]
    # the messages differ in their numbers only
    messages = {judged.record.message for judged in groups[0].items if judged.record}
    assert len(messages) > 1
    assert cause(groups[0].items[0])[3] == "user # received the event of user #"


def test_failing_groups_come_first_then_larger_ones() -> None:
    result = migration_result(bug=True, odd_python="3.12")
    sizes = [(group.failing, len(group.items)) for group in group_items(result)]
    assert sizes == sorted(sizes, key=lambda s: (not s[0], -s[1]))
    assert len(sizes) == 5


def test_a_group_names_the_phases_states_and_pythons_it_spans() -> None:
    result = migration_result(bug=True)
    first = group_items(result)[0]
    assert span_words(first, result) == (
        "1 phase(s) (golden_path), 4 state(s) (deprecated, partial[], partial[engine] "
        "and 1 more), py3.10-3.13"
    )
    regression, missing = group_items(sample_result())
    assert span_words(missing, sample_result()) == (
        "1 phase(s) (golden_path), 1 state(s) (ssot), py3.13"
    )
    assert regression.failing


def test_name_some() -> None:
    assert name_some(["a", "b"]) == "a, b"
    assert name_some(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"


def test_a_group_tells_what_every_member_expected_and_got() -> None:
    # One test, one verdict, one message: expected to pass on three states and to
    # fail for a stated bug on a fourth, failing on three and erroring on one. One
    # cause, whose words hold for all four and not only for the first.
    pass_ = Expectation(frozenset({Expected.PASS}))
    fail = Expectation(frozenset({Expected.FAIL}), bug="#620")
    items = []
    for state, expectation, outcome in (
        ("deprecated", pass_, Outcome.FAILED),
        ("partial[]", fail, Outcome.FAILED),
        ("ssot", pass_, Outcome.ERROR),
        ("partial[engine]", pass_, Outcome.FAILED),
    ):
        cell = Cell("golden_path", state, "unit", "3.12")
        record = Record(cell.id, "t.py::x", outcome, 0.1, "KeyError", f"'run_id' {len(state)}")
        items.append(Judged(cell, "t.py::x", expectation, record, Verdict.REGRESSION, "d"))
    result = dataclasses.replace(migration_result(), judged=tuple(items))
    (group,) = group_items(result)
    assert group.expected_words() == "pass in 3 cells, fail in 1 cell"
    assert group.got_words() == "failed (KeyError) in 3 cells, error (KeyError) in 1 cell"
    assert group.notes() == ["#620"]
    assert group.detail_words() == "d"
    assert group.message_varies()
    text = render_terminal(result)
    assert "expected pass in 3 cells, fail in 1 cell, got failed (KeyError) in 3 cells" in text
    assert "see: #620" in text
    assert "message (first cell's): 'run_id' 10" in text
    assert "| pass in 3 cells, fail in 1 cell | failed (KeyError) in 3 cells," in (
        render_markdown(result)
    )
    # where the members agree, one word each, as before
    (alike,) = group_items(dataclasses.replace(result, judged=(items[0], items[3])))
    assert (alike.expected_words(), alike.got_words()) == ("pass", "failed (KeyError)")
    assert alike.notes() == []


def test_tally() -> None:
    assert tally(["a", "a"]) == "a"
    assert tally(["a", "b", "a"]) == "a in 2 cells, b in 1 cell"
