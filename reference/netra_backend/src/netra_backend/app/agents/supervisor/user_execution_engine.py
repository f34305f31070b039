"""UserExecutionEngine: the single source of truth for running agents for one user.

One engine serves one user context. Everything it tracks (active runs, history,
stats, cache, concurrency slots) lives on the instance, and its events go
through an emitter bound to that user. `create_from_legacy` adapts the legacy
constructor's arguments; it does no I/O, so it costs microseconds (the real
system's version cost 41 ms per engine and was removed for it).
"""

from __future__ import annotations

import asyncio
from typing import Any

from netra_backend.app.agents.factory import AgentFactory
from netra_backend.app.agents.registry import AgentRegistry, get_agent_registry
from netra_backend.app.agents.supervisor.execution_context import (
    AgentExecutionContext,
    AgentExecutionResult,
)
from netra_backend.app.agents.supervisor.run_book import RunBook
from netra_backend.app.agents.supervisor.run_core import book_in_effect, execute_run
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import UserWebSocketEmitter
from netra_backend.app.websocket_core.messages import EventSink

DEFAULT_MAX_CONCURRENT = 5
DEFAULT_TIMEOUT = 30.0


class EngineClosedError(RuntimeError):
    """The engine was cleaned up and cannot run agents any more."""


class UserExecutionEngine:
    """Runs agents for exactly one user, with per-instance state."""

    def __init__(
        self,
        context: UserExecutionContext,
        agent_factory: AgentFactory | AgentRegistry,
        websocket_emitter: EventSink,
        *,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not isinstance(context, UserExecutionContext):
            msg = (
                "UserExecutionEngine(context, agent_factory, websocket_emitter) takes a "
                f"UserExecutionContext first, got {type(context).__name__}; for the legacy "
                "(registry, websocket_bridge, user_context) arguments use "
                "`await UserExecutionEngine.create_from_legacy(...)`"
            )
            raise TypeError(msg)
        bound = getattr(websocket_emitter, "user_context", None)
        if isinstance(bound, UserExecutionContext) and bound.user_id != context.user_id:
            msg = (
                f"websocket_emitter is bound to user {bound.user_id!r} but the engine is for "
                f"{context.user_id!r}; create the emitter for the engine's user"
            )
            raise ValueError(msg)
        if max_concurrent < 1:
            msg = f"max_concurrent must be at least 1, got {max_concurrent}"
            raise ValueError(msg)
        self.context = context
        self.agent_factory = (
            agent_factory
            if isinstance(agent_factory, AgentFactory)
            else AgentFactory(agent_factory)
        )
        self.websocket_emitter = websocket_emitter
        self.max_concurrent = max_concurrent
        self.timeout = timeout
        self._book = RunBook()
        self._closed = False
        self._slots: asyncio.Semaphore | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def build_from_legacy(
        cls,
        registry: AgentRegistry | None,
        websocket_bridge: Any,
        user_context: UserExecutionContext | None,
        **options: Any,
    ) -> UserExecutionEngine:
        """The synchronous core of `create_from_legacy` (legacy factories call it)."""
        if user_context is None:
            msg = (
                "a UserExecutionEngine needs the user's UserExecutionContext; the legacy "
                "user_context=None (one engine for everyone) is exactly what the migration removes"
            )
            raise ValueError(msg)
        bridge = websocket_bridge if websocket_bridge is not None else AgentWebSocketBridge()
        factory = AgentFactory(registry if registry is not None else get_agent_registry())
        return cls(user_context, factory, UserWebSocketEmitter(bridge, user_context), **options)

    @classmethod
    async def create_from_legacy(
        cls,
        registry: AgentRegistry | None,
        websocket_bridge: Any,
        user_context: UserExecutionContext | None,
        **options: Any,
    ) -> UserExecutionEngine:
        """Build from the legacy (registry, websocket_bridge, user_context) arguments."""
        return cls.build_from_legacy(registry, websocket_bridge, user_context, **options)

    # ------------------------------------------------------------------ running

    def _concurrency(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; tests may reuse an engine across loops.
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:
            self._slots = asyncio.Semaphore(self.max_concurrent)
            self._slots_loop = loop
        return self._slots

    def _check_user(self, agent_context: AgentExecutionContext, user_context: Any) -> None:
        if (
            user_context is not None
            and getattr(user_context, "user_id", None) != self.context.user_id
        ):
            msg = (
                f"user_context is for user {getattr(user_context, 'user_id', None)!r} but this "
                f"engine serves {self.context.user_id!r}; use that user's own engine"
            )
            raise ValueError(msg)
        if agent_context.user_id != self.context.user_id:
            msg = (
                f"agent_context is for user {agent_context.user_id!r} but this engine serves "
                f"{self.context.user_id!r}; use that user's own engine"
            )
            raise ValueError(msg)

    async def execute_agent(
        self,
        agent_context: AgentExecutionContext,
        user_context: UserExecutionContext | None = None,
    ) -> AgentExecutionResult:
        """Run one agent for this engine's user; ValueError if the request is another user's."""
        self._check_user(agent_context, user_context)
        if self._closed:
            msg = f"the engine for user {self.context.user_id!r} was cleaned up; create a new one"
            raise EngineClosedError(msg)
        async with self._concurrency():
            return await execute_run(
                agent_context,
                factory=self.agent_factory,
                own_book=self._book,
                own_sink=lambda: self.websocket_emitter,
                legacy_target=getattr(self.websocket_emitter, "target", self.websocket_emitter),
                engine_label=type(self).__name__,
                timeout=self.timeout,
            )

    async def get_execution_stats(self) -> dict[str, Any]:
        stats = book_in_effect(self._book).stats()
        stats["user_id"] = self.context.user_id
        stats["max_concurrent"] = self.max_concurrent
        return stats

    def get_user_context(self) -> UserExecutionContext:
        return self.context

    @property
    def is_closed(self) -> bool:
        return self._closed

    async def cleanup(self) -> None:
        """Release the engine: forget its cache and active runs; history stays readable."""
        self._closed = True
        self._book.cache.clear()
        self._book.active_runs.clear()
