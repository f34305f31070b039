"""Engine factories: the SSOT per-user factory and the legacy factory functions.

`ExecutionEngineFactory` always builds `UserExecutionEngine`s and caps how many
one user may hold. The legacy functions `create_execution_engine` and
`get_execution_engine` build different legacy types (with different methods)
until the `factory` component is migrated; then both build `UserExecutionEngine`.
"""

from __future__ import annotations

import importlib
from typing import Any

from netra_backend.app.agents.registry import AgentRegistry, get_agent_registry
from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine
from netra_backend.app.core.migration import current_migration
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge

DEFAULT_MAX_ENGINES_PER_USER = 3


class EngineLimitError(RuntimeError):
    """A user already holds the maximum number of engines."""


class ExecutionEngineFactory:
    """Creates one `UserExecutionEngine` per request, at most N live per user."""

    def __init__(
        self,
        registry: AgentRegistry | None = None,
        websocket_bridge: Any = None,
        max_engines_per_user: int = DEFAULT_MAX_ENGINES_PER_USER,
        **engine_options: Any,
    ) -> None:
        if max_engines_per_user < 1:
            msg = f"max_engines_per_user must be at least 1, got {max_engines_per_user}"
            raise ValueError(msg)
        self.registry = registry if registry is not None else get_agent_registry()
        self.websocket_bridge = (
            websocket_bridge if websocket_bridge is not None else AgentWebSocketBridge()
        )
        self.max_engines_per_user = max_engines_per_user
        self.engine_options = engine_options
        self._live: dict[str, list[UserExecutionEngine]] = {}

    async def create_for_user(self, context: UserExecutionContext) -> UserExecutionEngine:
        live = self._live.setdefault(context.user_id, [])
        if len(live) >= self.max_engines_per_user:
            msg = (
                f"user {context.user_id!r} already holds {len(live)} engines "
                f"(max_engines_per_user={self.max_engines_per_user}); release one with "
                "`await factory.release(engine)` first"
            )
            raise EngineLimitError(msg)
        engine = UserExecutionEngine.build_from_legacy(
            self.registry, self.websocket_bridge, context, **self.engine_options
        )
        live.append(engine)
        return engine

    async def release(self, engine: UserExecutionEngine) -> None:
        """Clean the engine up and free its slot (releasing twice is harmless)."""
        live = self._live.get(engine.context.user_id, [])
        if engine in live:
            live.remove(engine)
        if not live:
            self._live.pop(engine.context.user_id, None)
        await engine.cleanup()

    def active_engines(self, user_id: str) -> int:
        return len(self._live.get(user_id, []))


def _legacy_engines() -> Any:
    return importlib.import_module("netra_backend.app.legacy.engines")


def create_execution_engine(
    registry: AgentRegistry | None = None,
    websocket_bridge: Any = None,
    user_context: UserExecutionContext | None = None,
) -> Any:
    """Legacy factory #1: the supervisor's ExecutionEngine, or UserExecutionEngine once migrated."""
    if current_migration().is_migrated("factory"):
        return UserExecutionEngine.build_from_legacy(registry, websocket_bridge, user_context)
    return _legacy_engines().ExecutionEngine(registry, websocket_bridge, user_context)


def get_execution_engine(
    registry: AgentRegistry | None = None,
    websocket_bridge: Any = None,
    user_context: UserExecutionContext | None = None,
) -> Any:
    """Legacy factory #2: the consolidated engine, or UserExecutionEngine once migrated."""
    if current_migration().is_migrated("factory"):
        return UserExecutionEngine.build_from_legacy(registry, websocket_bridge, user_context)
    return _legacy_engines().ConsolidatedExecutionEngine(registry, websocket_bridge, user_context)
