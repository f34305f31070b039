"""Unexpected items grouped by cause: the key, the order, the spans."""

from __future__ import annotations

import dataclasses

from gate_data import sample_result
from map_data import migration_result

from migmatrix.model import Cell, Expectation, Judged, Record
from migmatrix.outcomes import Expected, Outcome, Verdict
from migmatrix.report.groups import cause, group_items, name_some, span_words
from migmatrix.report.summary import got


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


def test_a_group_is_true_of_every_member_what_was_expected_and_what_happened() -> None:
    # One test, one verdict, one message: expected to pass on one state, to fail for
    # a stated bug on another, and erroring on a third. Three groups, not one that
    # tells the first item's expectation for all three.
    result = migration_result()
    pass_, fail = (
        Expectation(frozenset({Expected.PASS})),
        Expectation(frozenset({Expected.FAIL}), bug="#620"),
    )
    items = []
    for state, expectation, outcome in (
        ("deprecated", pass_, Outcome.FAILED),
        ("partial[]", fail, Outcome.FAILED),
        ("ssot", pass_, Outcome.ERROR),
        ("partial[engine]", pass_, Outcome.FAILED),
    ):
        cell = Cell("golden_path", state, "unit", "3.12")
        record = Record(cell.id, "t.py::x", outcome, 0.1, "KeyError", "'run_id'")
        items.append(Judged(cell, "t.py::x", expectation, record, Verdict.REGRESSION))
    result = dataclasses.replace(result, judged=tuple(items))
    groups = group_items(result)
    assert [len(group.items) for group in groups] == [2, 1, 1]
    for group in groups:
        assert len({cause(item) for item in group.items}) == 1
        assert len({(item.expectation, got(item)) for item in group.items}) == 1
    assert {cause(group.first)[4:] for group in groups} == {
        ("pass", " ", "failed (KeyError)"),
        ("fail", "#620 ", "failed (KeyError)"),
        ("pass", " ", "error (KeyError)"),
    }
