"""Adapter sweeps: the states of a partial migration, named and ordered by rollout."""

from __future__ import annotations

import itertools

import pytest

from migmatrix.model import AdapterSpec, ComponentSpec
from migmatrix.sweep import (
    expand_adapter,
    pairwise_rows,
    rollback_pairs,
    rollback_targets,
    state_name,
    state_names,
    too_many_states,
)


def spec(
    n: int, sweep: str | None = "chain", states: tuple[tuple[str, ...], ...] = ()
) -> AdapterSpec:
    comps = tuple(ComponentSpec(f"c{i}", (f"f{i}",)) for i in range(n))
    return AdapterSpec("p", "m:a", ("base",), comps, sweep, states)


def test_plain_adapter_is_one_state() -> None:
    plain = AdapterSpec("ssot", "m:a", ("x", "y"))
    assert expand_adapter(plain) == (("ssot", (), frozenset({"x", "y"})),)


def test_chain_is_every_rollout_prefix_with_accumulated_features() -> None:
    assert expand_adapter(spec(3)) == (
        ("p[]", (), frozenset({"base"})),
        ("p[c0]", ("c0",), frozenset({"base", "f0"})),
        ("p[c0+c1]", ("c0", "c1"), frozenset({"base", "f0", "f1"})),
        ("p[c0+c1+c2]", ("c0", "c1", "c2"), frozenset({"base", "f0", "f1", "f2"})),
    )


def test_all_is_every_subset_by_size_then_rollout_position() -> None:
    names = [name for name, _, _ in expand_adapter(spec(3, "all"))]
    assert names == [
        "p[]",
        "p[c0]",
        "p[c1]",
        "p[c2]",
        "p[c0+c1]",
        "p[c0+c2]",
        "p[c1+c2]",
        "p[c0+c1+c2]",
    ]
    assert len(expand_adapter(spec(6, "all"))) == 2**6


def test_explicit_states_keep_declaration_order_and_name_in_rollout_order() -> None:
    states = expand_adapter(spec(3, None, (("c2", "c0"), ())))
    assert [(name, comps) for name, comps, _ in states] == [
        ("p[c0+c2]", ("c0", "c2")),
        ("p[]", ()),
    ]


@pytest.mark.parametrize("n", range(0, 11))
def test_pairwise_covers_every_pair_of_settings(n: int) -> None:
    rows = pairwise_rows(n)
    assert all(len(row) == n for row in rows)
    for i, j in itertools.combinations(range(n), 2):
        seen = {(row[i], row[j]) for row in rows}
        assert seen == {(False, False), (False, True), (True, False), (True, True)}, (i, j)
    # Both ends of the migration are always states.
    assert (False,) * n in rows
    assert (True,) * n in rows
    # A covering array, not the full product: it grows slowly with n.
    assert len(rows) <= max(2, 2 + 2 * max(1, n).bit_length() + 2)
    assert pairwise_rows(n) == rows  # deterministic


def test_pairwise_is_small_for_a_typical_migration() -> None:
    states = expand_adapter(spec(4, "pairwise"))
    assert len(states) < 2**4
    assert states[0][0] == "p[]"
    assert states[-1][0] == "p[c0+c1+c2+c3]"
    assert len({name for name, _, _ in states}) == len(states)


def test_state_name_format() -> None:
    assert state_name("partial", ("engine", "factory")) == "partial[engine+factory]"
    assert state_name("partial", ()) == "partial[]"


def test_unknown_sweep_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown sweep 'random'"):
        expand_adapter(spec(2, "random"))


def test_state_names_from_raw_names_match_the_full_expansion() -> None:
    for sweep in ("chain", "pairwise", "all"):
        full = tuple(name for name, _, _ in expand_adapter(spec(3, sweep)))
        assert state_names("p", ["c0", "c1", "c2"], sweep) == full


# --------------------------------------------------------------------------- rollback paths

ROLLOUT = AdapterSpec(
    "p",
    "m:a",
    (),
    (
        ComponentSpec("engine", ("ssot-engine",)),
        ComponentSpec("factory", ("ssot-factory",)),
        ComponentSpec("emitter", ("user-emitter",)),
    ),
    "all",
)
ADAPTERS = (
    AdapterSpec("deprecated", "m:a"),
    ROLLOUT,
    AdapterSpec("ssot", "m:a", ("ssot-engine", "ssot-factory", "user-emitter")),
)


def targets(paths: list[tuple[str, str]], state: str) -> list[str]:
    return [name for name, _, _ in rollback_targets(ADAPTERS, paths, state)]


# (from state, declared paths, target names in order) -- the table says what each `to` means.
ROLLBACK_TABLE = [
    # chain: each rollout prefix strictly below the state; ssot counts as all migrated.
    ("ssot", [("ssot", "chain")], ["p[]", "p[engine]", "p[engine+factory]"]),
    ("p[engine+emitter]", [("p[*]", "chain")], ["p[]", "p[engine]"]),
    # previous: the last migrated component (rollout order) undone.
    ("ssot", [("ssot", "previous")], ["p[engine+factory]"]),
    ("p[engine+emitter]", [("p[*]", "previous")], ["p[engine]"]),
    ("p[factory]", [("p[*]", "previous")], ["p[]"]),
    ("p[]", [("p[*]", "previous")], []),
    # A name or glob; the state itself and states with its features are left out...
    (
        "p[engine]",
        [("p[*]", "p[*]")],
        [
            "p[]",
            "p[factory]",
            "p[emitter]",
            "p[engine+factory]",
            "p[engine+emitter]",
            "p[factory+emitter]",
            "p[engine+factory+emitter]",
        ],
    ),
    ("p[engine+factory+emitter]", [("*", "ssot")], []),
    # ...and a target reached twice, or under two names with one set of features, once.
    (
        "ssot",
        [("ssot", "deprecated"), ("ssot", "chain")],
        [
            "deprecated",
            "p[engine]",
            "p[engine+factory]",
        ],
    ),
    # Paths whose `from` does not match the state give nothing.
    ("p[engine]", [("ssot", "deprecated")], []),
    ("unknown", [("*", "deprecated")], []),
]


@pytest.mark.parametrize(("state", "paths", "expected"), ROLLBACK_TABLE)
def test_rollback_targets(state: str, paths: list[tuple[str, str]], expected: list[str]) -> None:
    assert targets(paths, state) == expected


def test_rollback_targets_carry_components_and_features() -> None:
    (target,) = rollback_targets(ADAPTERS, [("ssot", "previous")], "ssot")
    assert target == (
        "p[engine+factory]",
        ("engine", "factory"),
        frozenset({"ssot-engine", "ssot-factory"}),
    )


def test_rollback_pairs_in_display_order() -> None:
    pairs = rollback_pairs(ADAPTERS, [("ssot", "deprecated"), ("p[*]", "previous")])
    assert pairs[0] == ("p[engine]", "p[]")
    assert pairs[-1] == ("ssot", "deprecated")
    # p[x] with one component steps back to p[], whose features differ from p[x]'s.
    assert ("p[engine]", "p[]") in pairs
    assert len(pairs) == 7 + 1


def test_too_many_states_is_decided_from_the_counts() -> None:
    assert too_many_states(10, "all") is None
    assert too_many_states(63, "pairwise") is None
    assert too_many_states(100, "chain") is None
    message = too_many_states(11, "all")
    assert message is not None
    assert "2,048 states" in message
    assert "pairwise" in message
    assert "2^300 states" in (too_many_states(300, "all") or "")
    assert "at most 64" in (too_many_states(65, "pairwise") or "")
    assert "1,025 states" in (too_many_states(1024, "chain") or "")


def test_expand_adapter_refuses_a_sweep_past_the_cap_instead_of_exhausting_memory() -> None:
    with pytest.raises(ValueError, match="67,108,864 states"):
        expand_adapter(spec(26, "all"))
    # Explicit states are listed by hand, so their count is the file's own.
    assert len(expand_adapter(spec(26, "all", states=(("c0",),)))) == 1
