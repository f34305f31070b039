"""Which components of the ExecutionEngine migration are migrated, right now.

A migration state is a set of migrated components. The state in effect is read
at every action by both engines, so switching it while runs are in flight is a
rollback (or a roll-forward) that those runs follow at their next step.

The state comes, in order, from the innermost `use_migration` block of the
current context (asyncio tasks inherit it), else from the process default,
which starts as `NETRA_MIGRATION` (default "ssot") and can be changed with
`set_process_migration`. `switch_migration` changes the state of the innermost
block in place, so tasks already started under it see the change too.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
from collections.abc import Iterator

COMPONENTS: tuple[str, ...] = ("engine", "factory", "emitter", "state")
"""The components in their planned rollout order."""

FEATURES: dict[str, str] = {
    "engine": "ssot-engine",
    "factory": "ssot-factory",
    "emitter": "user-emitter",
    "state": "isolated-state",
}
"""The feature name each component adds to a matrix cell once migrated."""

ENV_VAR = "NETRA_MIGRATION"


class MigrationError(ValueError):
    """A migration spec names an unknown component or has an unknown form."""


@dataclasses.dataclass(frozen=True)
class MigrationState:
    """A set of migrated components; everything else is deprecated."""

    migrated: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.migrated) - set(COMPONENTS))
        if unknown:
            msg = (
                f"unknown migration component(s) {', '.join(map(repr, unknown))}; "
                f"use some of {', '.join(COMPONENTS)}"
            )
            raise MigrationError(msg)

    @classmethod
    def parse(cls, text: str) -> MigrationState:
        """Read "deprecated", "ssot", "partial:engine,factory" or "partial:" (none migrated)."""
        spec = text.strip()
        if spec == "deprecated":
            return cls.deprecated()
        if spec == "ssot":
            return cls.ssot()
        if spec.startswith("partial:"):
            names = [part.strip() for part in spec[len("partial:") :].split(",")]
            return cls(frozenset(name for name in names if name))
        msg = (
            f"unknown migration state {text!r}; use 'deprecated', 'ssot' or "
            f"'partial:<components>' with components from {', '.join(COMPONENTS)}"
        )
        raise MigrationError(msg)

    @classmethod
    def deprecated(cls) -> MigrationState:
        return cls(frozenset())

    @classmethod
    def ssot(cls) -> MigrationState:
        return cls(frozenset(COMPONENTS))

    @classmethod
    def of(cls, *components: str) -> MigrationState:
        """The state with exactly these components migrated."""
        return cls(frozenset(components))

    def is_migrated(self, component: str) -> bool:
        if component not in COMPONENTS:
            msg = f"unknown migration component {component!r}; use one of {', '.join(COMPONENTS)}"
            raise MigrationError(msg)
        return component in self.migrated

    @property
    def spec(self) -> str:
        """The canonical text: "deprecated", "ssot" or "partial:..." in rollout order."""
        if not self.migrated:
            return "deprecated"
        if self.migrated == frozenset(COMPONENTS):
            return "ssot"
        return "partial:" + ",".join(c for c in COMPONENTS if c in self.migrated)

    @property
    def features(self) -> frozenset[str]:
        return frozenset(FEATURES[c] for c in self.migrated)

    def __str__(self) -> str:
        return self.spec


def all_states() -> list[MigrationState]:
    """Every subset of the components (16 states), in a stable order."""
    states = []
    for mask in range(1 << len(COMPONENTS)):
        chosen = frozenset(c for i, c in enumerate(COMPONENTS) if mask >> i & 1)
        states.append(MigrationState(chosen))
    return states


def _coerce(state: MigrationState | str) -> MigrationState:
    return state if isinstance(state, MigrationState) else MigrationState.parse(state)


def _from_environment() -> MigrationState:
    return MigrationState.parse(os.environ.get(ENV_VAR, "ssot"))


class _Holder:
    """A mutable cell so a switch inside a block reaches tasks started under it."""

    __slots__ = ("state",)

    def __init__(self, state: MigrationState) -> None:
        self.state = state


_process_default = _Holder(_from_environment())
_context: contextvars.ContextVar[_Holder | None] = contextvars.ContextVar(
    "netra_migration", default=None
)


def current_migration() -> MigrationState:
    """The state in effect for the caller: the innermost block, else the process default."""
    holder = _context.get()
    return (holder or _process_default).state


@contextlib.contextmanager
def use_migration(state: MigrationState | str) -> Iterator[None]:
    """Run a block (and the tasks it starts) under `state`; restores the previous one on exit."""
    token = _context.set(_Holder(_coerce(state)))
    try:
        yield
    finally:
        _context.reset(token)


def switch_migration(state: MigrationState | str) -> MigrationState:
    """Switch the state in effect here, in place, and return the previous one.

    Inside a `use_migration` block this changes that block's state, which every
    task started in the block shares; outside any block it changes the process
    default. Runs in flight follow the new state at their next action.
    """
    holder = _context.get() or _process_default
    previous = holder.state
    holder.state = _coerce(state)
    return previous


def set_process_migration(state: MigrationState | str) -> None:
    """Set the process default (used where no `use_migration` block is active)."""
    _process_default.state = _coerce(state)


def reset_process_migration() -> None:
    """Go back to the process default given by `NETRA_MIGRATION`."""
    _process_default.state = _from_environment()
