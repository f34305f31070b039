"""Expand one declared adapter into its concrete migration states.

A plain adapter is one state. An adapter with `components` is a partial migration:
each state migrates a subset of the components, and the subset decides the state's
features. `sweep` picks which subsets become cells: `chain` follows the planned
rollout (every prefix, from nothing migrated to everything), `pairwise` keeps a
small covering array in which every pair of component settings (migrated or not)
occurs, and `all` takes every subset. `states` lists the subsets by hand instead.
A `versions` list makes one state per version instead (`lib[1.4.0]`), in order.

State names carry the migrated components in rollout order, `partial[engine+factory]`,
and `partial[]` for the state with nothing migrated, so a cell id says exactly what
code it ran.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence

from migmatrix.match import adapter_matches
from migmatrix.model import AdapterSpec, ComponentSpec

AdapterState = tuple[str, tuple[str, ...], frozenset[str]]

SWEEPS = ("chain", "pairwise", "all")

MAX_STATES = 1024
"""States one sweep may make: `all` over 10 components. Each is a cell per phase, env
and Python, so more would be a run nobody waits for, and 2^26 of them exhaust memory."""
MAX_PAIRWISE_COMPONENTS = 64
"""Components `pairwise` may cover: its greedy search grows with the cube of the count."""


def too_many_states(components: int, sweep: str) -> str | None:
    """Why a sweep over `components` components is refused, or None if it is not.

    Decided from the counts alone, before a single state is made.
    """
    if sweep == "all" and components > MAX_STATES.bit_length() - 1:
        count = f"{2**components:,}" if components < 40 else f"2^{components}"
        return (
            f"`sweep: all` over {components} components would make {count} states (at most "
            f"{MAX_STATES:,}); use `sweep: pairwise`, which covers every pair of component "
            "settings in a few states, or list the states you need with `states: [[...], ...]`"
        )
    if sweep == "pairwise" and components > MAX_PAIRWISE_COMPONENTS:
        return (
            f"`sweep: pairwise` covers at most {MAX_PAIRWISE_COMPONENTS} components, not "
            f"{components}; use `sweep: chain` for the rollout order, or list the states you "
            "need with `states: [[...], ...]`"
        )
    if sweep == "chain" and components + 1 > MAX_STATES:
        return (
            f"`sweep: chain` over {components} components would make {components + 1:,} states "
            f"(at most {MAX_STATES:,}); list the states you need with `states: [[...], ...]`"
        )
    return None


def state_name(base: str, components: Sequence[str]) -> str:
    """The display name of a swept state: `base[c1+c2]`, components in rollout order."""
    return f"{base}[{'+'.join(components)}]"


def version_state(base: str, version: str) -> str:
    """The name of one state of a versions sweep: `base[1.4.0]`."""
    return f"{base}[{version}]"


def state_names(base: str, components: Sequence[str], sweep: str) -> tuple[str, ...]:
    """The state names a sweep gives, from names alone (for tools that read raw YAML)."""
    spec = AdapterSpec(base, "", (), tuple(ComponentSpec(c) for c in components), sweep)
    return tuple(name for name, _, _ in expand_adapter(spec))


def state_count(spec: AdapterSpec) -> int:
    """How many states `spec` expands to, without making them (a sweep within the caps)."""
    n = len(spec.components)
    if spec.versions:
        return len(spec.versions)
    if spec.states:
        return len(spec.states)
    if not spec.components:
        return 1
    if spec.sweep == "all":
        return int(2**n)
    if spec.sweep == "pairwise":
        return _pairwise_count(n)
    return n + 1


@functools.lru_cache(maxsize=64)
def _pairwise_count(n: int) -> int:
    return len(pairwise_rows(n))


def expand_adapter(spec: AdapterSpec) -> tuple[AdapterState, ...]:
    """Every state of `spec` as (state name, migrated components, features), in rollout order.

    The order is the display order of the reports: chain states from least to most
    migrated; pairwise and all subsets by size, then by the rollout position of their
    components; explicit `states` as declared.
    """
    base = frozenset(spec.features)
    too_many = too_many_states(len(spec.components), spec.sweep or "chain")
    if too_many and not spec.states:
        raise ValueError(too_many)
    if spec.versions:
        # A versions sweep (issue 15): one state per version, in the declared order.
        return tuple((version_state(spec.name, v), (), base) for v in spec.versions)
    if not spec.components and not spec.states:
        return ((spec.name, (), base),)
    order = [c.name for c in spec.components]
    features = {c.name: frozenset(c.features) for c in spec.components}
    if spec.states:
        position = {name: i for i, name in enumerate(order)}
        subsets = [sorted(state, key=position.__getitem__) for state in spec.states]
        masks = [tuple(name in subset for name in order) for subset in subsets]
    elif spec.sweep == "chain" or spec.sweep is None:
        masks = [tuple(i < k for i in range(len(order))) for k in range(len(order) + 1)]
    elif spec.sweep == "all":
        masks = _by_rollout(list(itertools.product((False, True), repeat=len(order))))
    elif spec.sweep == "pairwise":
        masks = _by_rollout(pairwise_rows(len(order)))
    else:
        msg = f"unknown sweep {spec.sweep!r} for adapter {spec.name!r}; use one of {SWEEPS}"
        raise ValueError(msg)
    states: list[AdapterState] = []
    for mask in masks:
        migrated = tuple(name for name, on in zip(order, mask, strict=True) if on)
        feats = base.union(*(features[name] for name in migrated))
        states.append((state_name(spec.name, migrated), migrated, feats))
    return tuple(states)


def _by_rollout(masks: list[tuple[bool, ...]]) -> list[tuple[bool, ...]]:
    """Sort subsets by size, then by the rollout positions of their members."""

    def key(mask: tuple[bool, ...]) -> tuple[int, tuple[int, ...]]:
        return (sum(mask), tuple(i for i, on in enumerate(mask) if on))

    return sorted(set(masks), key=key)


def pairwise_rows(n: int) -> list[tuple[bool, ...]]:
    """A small, deterministic covering array of strength 2 over `n` on/off factors.

    It starts from the two end states of a migration (nothing and everything
    migrated), which already cover every (off, off) and (on, on) pair, then adds
    rows greedily: each new row starts from the first pair still missing and sets
    every other factor to the value that covers most missing pairs (ties: off).
    Every row covers at least one missing pair, so the loop ends; for the handful
    of components a migration has it stays small (n=3 -> 5 rows, n=10 -> 12, vs 1024).
    """
    if n == 0:
        return [()]
    if n == 1:
        return [(False,), (True,)]
    missing = {
        (i, j, a, b)
        for i, j in itertools.combinations(range(n), 2)
        for a in (False, True)
        for b in (False, True)
    }
    rows: list[tuple[bool, ...]] = []

    def take(row: tuple[bool, ...]) -> None:
        rows.append(row)
        for i, j in itertools.combinations(range(n), 2):
            missing.discard((i, j, row[i], row[j]))

    take((False,) * n)
    take((True,) * n)
    while missing:
        i0, j0, a0, b0 = min(missing)
        values: dict[int, bool] = {i0: a0, j0: b0}
        for k in range(n):
            if k in values:
                continue
            gains = []
            for v in (False, True):
                gain = sum(
                    ((min(k, f), max(k, f), v if k < f else fv, fv if k < f else v) in missing)
                    for f, fv in values.items()
                )
                gains.append(gain)
            values[k] = gains[1] > gains[0]
        take(tuple(values[k] for k in range(n)))
    return rows


# --------------------------------------------------------------------------- rollback paths

ROLLBACK_KEYWORDS = ("chain", "previous")
"""`to:` words that name targets relative to the state rolled back from."""


def all_states(adapters: Sequence[AdapterSpec]) -> tuple[AdapterState, ...]:
    """Every state of every adapter, in display order."""
    return tuple(state for spec in adapters for state in expand_adapter(spec))


def _component_features(adapters: Sequence[AdapterSpec]) -> frozenset[str]:
    return frozenset(f for spec in adapters for c in spec.components for f in c.features)


def _migration_of(state: AdapterState, adapters: Sequence[AdapterSpec]) -> frozenset[str]:
    """The component features a state has: what decides which state is below which."""
    return state[2] & _component_features(adapters)


def _previous(state: AdapterState, adapters: Sequence[AdapterSpec]) -> tuple[AdapterState, ...]:
    """One step back along each swept adapter's rollout: the last migrated component undone.

    A plain adapter counts as having migrated every component whose features it has,
    so `ssot` steps back to the rollout's state before its last component.
    """
    out = []
    for spec in adapters:
        if not spec.components:
            continue
        own = state[0].startswith(f"{spec.name}[")
        migrated = [
            c
            for c in spec.components
            if (c.name in state[1] if own else bool(c.features) and set(c.features) <= state[2])
        ]
        if not migrated:
            continue
        kept = [c.name for c in migrated[:-1]]
        features = frozenset(spec.features).union(*(c.features for c in migrated[:-1]))
        out.append((state_name(spec.name, kept), tuple(kept), features))
    return tuple(out)


def _chain_below(state: AdapterState, adapters: Sequence[AdapterSpec]) -> tuple[AdapterState, ...]:
    """The states of each swept adapter's rollout chain that have strictly less migrated."""
    mine = _migration_of(state, adapters)
    out = []
    for spec in adapters:
        if not spec.components:
            continue
        chain = AdapterSpec(spec.name, spec.object, spec.features, spec.components, "chain")
        for candidate in expand_adapter(chain):
            if _migration_of(candidate, adapters) < mine:
                out.append(candidate)
    return tuple(out)


def path_targets(
    source: AdapterState, target: str, adapters: Sequence[AdapterSpec]
) -> tuple[AdapterState, ...]:
    """The states one declared `to:` names for a rollback from `source`.

    `chain` is each state of the rollout chain below `source`, `previous` the state
    one rollout step back, anything else a glob over state names (or a whole
    adapter's name). States with the same migrated components as `source` are left
    out: switching to them changes nothing, so there is nothing to roll back.
    """
    if target == "chain":
        found = _chain_below(source, adapters)
    elif target == "previous":
        found = _previous(source, adapters)
    else:
        found = tuple(
            state
            for spec in adapters
            for state in expand_adapter(spec)
            if adapter_matches(target, state[0], spec.name)
        )
    mine = _migration_of(source, adapters)
    return tuple(s for s in found if _migration_of(s, adapters) != mine)


def rollback_targets(
    adapters: Sequence[AdapterSpec], paths: Sequence[tuple[str, str]], state: str
) -> tuple[AdapterState, ...]:
    """The states the declared `paths` roll adapter state `state` back to, each once.

    A target is the (name, components, features) of a state, like a cell's adapter
    state, so the suite switches to it the way an adapter opens a cell. In the order
    the paths are declared, then the order each path names them; an unknown `state`
    has no targets.
    """
    owners = {name: spec.name for spec in adapters for name, _, _ in expand_adapter(spec)}
    sources = [s for s in all_states(adapters) if s[0] == state]
    if not sources:
        return ()
    source = sources[0]
    # Keyed by features: two names for one set of features (`deprecated` and
    # `partial[]`) are one switch, tested once under the first name reached.
    seen: dict[frozenset[str], AdapterState] = {}
    for frm, to in paths:
        if not adapter_matches(frm, state, owners[state]):
            continue
        for target in path_targets(source, to, adapters):
            seen.setdefault(target[2], target)
    return tuple(seen.values())


def rollback_pairs(
    adapters: Sequence[AdapterSpec], paths: Sequence[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """Every concrete (from state, to state) pair the paths declare, in display order."""
    return tuple(
        (state, target[0])
        for state, _, _ in all_states(adapters)
        for target in rollback_targets(adapters, paths, state)
    )
