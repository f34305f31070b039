"""Resolve the name `ExecutionEngine` at a legacy import path, per migration state.

Each legacy module defines `__getattr__` with `resolver(...)`: until `engine` is
migrated the name is that module's legacy class; afterwards every path gives
`UserExecutionEngine`. The legacy classes are imported only when asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from netra_backend.app.core.migration import current_migration

LEGACY_ENGINE_MODULES: tuple[str, ...] = (
    "netra_backend.app.agents.supervisor.execution_engine",
    "netra_backend.app.agents.execution_engine_consolidated",
    "netra_backend.app.services.execution_engine",
)
"""Every import path that offers an `ExecutionEngine`, the seed's "multiple classes"."""


def resolve_engine_class(legacy_class_name: str) -> type[Any]:
    """`UserExecutionEngine` once `engine` is migrated, else the named legacy class."""
    if current_migration().is_migrated("engine"):
        from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine

        return UserExecutionEngine
    legacy = importlib.import_module("netra_backend.app.legacy.engines")
    cls: type[Any] = getattr(legacy, legacy_class_name)
    return cls


def resolver(module_name: str, legacy_class_name: str) -> Callable[[str], Any]:
    """A module `__getattr__` serving `ExecutionEngine` (and the legacy name) per state."""

    def __getattr__(name: str) -> Any:
        if name == "ExecutionEngine":
            return resolve_engine_class(legacy_class_name)
        msg = f"module {module_name!r} has no attribute {name!r}"
        raise AttributeError(msg)

    return __getattr__
