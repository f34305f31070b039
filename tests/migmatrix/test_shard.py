"""Sharding: deterministic, disjoint, complete for every N, balanced by durations."""

from __future__ import annotations

import random

import pytest

from migmatrix.errors import UsageError
from migmatrix.shard import assign, from_environment, parse_shard


def items(n: int) -> list[str]:
    return [f"cell{i % 7}::test_{i:03d}" for i in range(n)]


@pytest.mark.parametrize("text", ["1/1", "2/5", " 5/5 "])
def test_parse_shard_accepts(text: str) -> None:
    index, total = parse_shard(text)
    assert 1 <= index <= total


@pytest.mark.parametrize(
    # 1/9999999: a total the results reader refuses, so the run must refuse it first.
    "text",
    ["0/3", "4/3", "1", "a/b", "1/0", "-1/2", "1/2/3", "", "1/9999999"],
)
def test_parse_shard_refuses_with_the_fix(text: str) -> None:
    with pytest.raises(UsageError, match=r"write INDEX/TOTAL with 1 <= INDEX <= TOTAL"):
        parse_shard(text)


@pytest.mark.parametrize("size", [1, 2, 7, 23])
@pytest.mark.parametrize("weighted", [False, True])
def test_disjoint_complete_nonempty_for_every_n(size: int, weighted: bool) -> None:
    all_items = items(size)
    rng = random.Random(size)
    durations = {i: rng.uniform(0, 3) for i in all_items[::2]} if weighted else None
    for total in range(1, size + 1):
        shards = [assign(all_items, i, total, durations) for i in range(1, total + 1)]
        flat = [x for shard in shards for x in shard]
        assert sorted(flat) == sorted(all_items), total  # complete and disjoint
        assert all(shards), total  # no shard empty
        # Same input, same answer; and input order does not change the split.
        shuffled = list(reversed(all_items))
        again = [set(assign(shuffled, i, total, durations)) for i in range(1, total + 1)]
        assert again == [set(s) for s in shards]


def test_unweighted_counts_differ_by_at_most_one() -> None:
    sizes = [len(assign(items(23), i, 5)) for i in range(1, 6)]
    assert max(sizes) - min(sizes) <= 1


def test_result_keeps_input_order_and_drops_duplicates() -> None:
    got = assign(["b", "a", "b", "c"], 1, 1)
    assert got == ["b", "a", "c"]


def test_durations_balance_the_load() -> None:
    # One long item and many short ones: the long one gets a shard to itself.
    durations = {"long": 10.0, **{f"s{i}": 1.0 for i in range(10)}}
    shards = [assign(list(durations), i, 2, durations) for i in (1, 2)]
    assert ["long"] in shards
    loads = sorted(sum(durations[x] for x in s) for s in shards)
    assert loads == [10.0, 10.0]


def test_unknown_durations_count_as_the_median() -> None:
    durations = {"a": 1.0, "b": 2.0, "c": 9.0}  # median 2.0
    shards = [assign(["a", "b", "c", "new"], i, 2, durations) for i in (1, 2)]
    # Longest first: c(9) -> shard 1; then b(2), new(2 = the median), a(1) all go to the
    # lighter shard 2, which never catches up with 9.
    assert shards == [["c"], ["a", "b", "new"]]


def test_zero_durations_still_fill_every_shard() -> None:
    durations = {f"t{i}": 0.0 for i in range(4)}
    shards = [assign(list(durations), i, 4, durations) for i in range(1, 5)]
    assert all(len(s) == 1 for s in shards)


def test_assign_refuses_a_missing_shard() -> None:
    with pytest.raises(UsageError, match="shard 3/2 does not exist"):
        assign(["a"], 3, 2)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "3"}, (2, 3, "CI_NODE_INDEX/CI_NODE_TOTAL")),
        (
            {"BUILDKITE_PARALLEL_JOB": "0", "BUILDKITE_PARALLEL_JOB_COUNT": "4"},
            (1, 4, "BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT"),
        ),
        (
            {"CIRCLE_NODE_INDEX": "3", "CIRCLE_NODE_TOTAL": "4"},
            (4, 4, "CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL"),
        ),
        ({"CI_NODE_TOTAL": "3"}, None),  # half a pair is not a shard
    ],
)
def test_from_environment(environ: dict[str, str], expected: object) -> None:
    assert from_environment(environ) == expected


@pytest.mark.parametrize(
    "environ",
    [
        {"CI_NODE_INDEX": "0", "CI_NODE_TOTAL": "3"},  # GitLab counts from 1
        {"CIRCLE_NODE_INDEX": "4", "CIRCLE_NODE_TOTAL": "4"},  # CircleCI counts from 0
        {"BUILDKITE_PARALLEL_JOB": "x", "BUILDKITE_PARALLEL_JOB_COUNT": "2"},
    ],
)
def test_from_environment_refuses_nonsense(environ: dict[str, str]) -> None:
    with pytest.raises(UsageError, match="do not describe a shard"):
        from_environment(environ)
