"""Unexpected items grouped by cause: the key, the order, the spans."""

from __future__ import annotations

from gate_data import sample_result
from map_data import migration_result

from migmatrix.report.groups import cause, group_items, name_some, span_words


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
