"""Build the engine a caller in a given migration state would build.

Until `engine` is migrated, code constructs the legacy `ExecutionEngine`
directly; afterwards it calls `UserExecutionEngine.create_from_legacy`. Either
engine then follows the state in effect at each step of each run.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.agents.supervisor.engine_resolution import (
    LEGACY_ENGINE_MODULES,
    resolve_engine_class,
)
from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine
from netra_backend.app.core.migration import MigrationState, current_migration, use_migration
from netra_backend.app.services.user_execution_context import UserExecutionContext

__all__ = ["LEGACY_ENGINE_MODULES", "create_engine"]


async def create_engine(
    user_context: UserExecutionContext,
    *,
    registry: AgentRegistry | None = None,
    websocket_bridge: Any = None,
    state: MigrationState | str | None = None,
) -> Any:
    """An engine for `user_context`, of the kind `state` (default: the current one) builds."""
    with use_migration(state if state is not None else current_migration()):
        engine_class = resolve_engine_class("ExecutionEngine")
    if engine_class is UserExecutionEngine:
        return await UserExecutionEngine.create_from_legacy(
            registry, websocket_bridge, user_context
        )
    return engine_class(registry, websocket_bridge, user_context)
