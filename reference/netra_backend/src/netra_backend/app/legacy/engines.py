"""DEPRECATED: the three ExecutionEngine classes the migration replaces.

Each is named `ExecutionEngine`, takes `(registry, websocket_bridge,
user_context=None)` and runs agents through the shared run core, but they grew
apart: different extra methods, different defaults. Under a deprecated `state`
they all share the process-wide book; under a deprecated `emitter` they route
events through the process-wide current run.
"""

from __future__ import annotations

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

LEGACY_TIMEOUT = 30.0


class _LegacyEngineBase:
    """The behaviour the three legacy classes have in common."""

    engine_kind = "legacy"

    def __init__(
        self,
        registry: AgentRegistry | None,
        websocket_bridge: Any,
        user_context: UserExecutionContext | None = None,
    ) -> None:
        self.registry = registry if registry is not None else get_agent_registry()
        self.websocket_bridge = (
            websocket_bridge if websocket_bridge is not None else AgentWebSocketBridge()
        )
        self.user_context = user_context
        self._factory = AgentFactory(self.registry)
        self._book = RunBook()
        self._emitters: dict[str, UserWebSocketEmitter] = {}

    def _emitter_for(self, ctx: AgentExecutionContext) -> EventSink:
        emitter = self._emitters.get(ctx.user_id)
        if emitter is None:
            bound = UserExecutionContext(
                user_id=ctx.user_id, thread_id=ctx.thread_id, run_id=ctx.run_id
            )
            emitter = UserWebSocketEmitter(self.websocket_bridge, bound)
            self._emitters[ctx.user_id] = emitter
        return emitter

    async def execute_agent(
        self,
        agent_context: AgentExecutionContext,
        user_context: UserExecutionContext | None = None,
    ) -> AgentExecutionResult:
        """Run one agent. The legacy engine trusts whatever context it is handed."""
        return await execute_run(
            agent_context,
            factory=self._factory,
            own_book=self._book,
            own_sink=lambda: self._emitter_for(agent_context),
            legacy_target=self.websocket_bridge,
            engine_label=f"{type(self).__module__}.{type(self).__name__}",
            timeout=LEGACY_TIMEOUT,
        )

    async def get_execution_stats(self) -> dict[str, Any]:
        return book_in_effect(self._book).stats()

    async def cleanup(self) -> None:
        self._book.cache.clear()
        self._emitters.clear()


class ExecutionEngine(_LegacyEngineBase):
    """The supervisor's original engine (netra_backend.app.agents.supervisor.execution_engine)."""

    engine_kind = "legacy-supervisor"

    def get_active_runs(self) -> dict[str, dict[str, Any]]:
        return dict(book_in_effect(self._book).active_runs)

    async def execute_pipeline(
        self, contexts: list[AgentExecutionContext]
    ) -> list[AgentExecutionResult]:
        """Run agents one after another (the supervisor's sequential pipeline)."""
        return [await self.execute_agent(ctx) for ctx in contexts]


class ConsolidatedExecutionEngine(_LegacyEngineBase):
    """The "consolidated" engine a refactor added next to the first one."""

    engine_kind = "legacy-consolidated"

    async def execute_with_retry(
        self, agent_context: AgentExecutionContext, attempts: int = 2
    ) -> AgentExecutionResult:
        result = await self.execute_agent(agent_context)
        for _ in range(attempts - 1):
            if result.success:
                break
            result = await self.execute_agent(agent_context)
        return result

    def get_metrics(self) -> dict[str, Any]:
        return book_in_effect(self._book).stats()

    async def shutdown(self) -> None:
        await self.cleanup()


class RequestScopedExecutionEngine(_LegacyEngineBase):
    """The services layer's per-request engine, a third copy of the same idea."""

    engine_kind = "legacy-request-scoped"

    async def run_request(self, agent_name: str, user_input: str) -> AgentExecutionResult:
        if self.user_context is None:
            msg = "run_request needs the engine's user_context; pass it to the constructor"
            raise ValueError(msg)
        ctx = AgentExecutionContext(
            agent_name=agent_name,
            user_id=self.user_context.user_id,
            thread_id=self.user_context.thread_id,
            run_id=self.user_context.run_id,
            user_input=user_input,
        )
        return await self.execute_agent(ctx)

    def describe(self) -> str:
        return f"{self.engine_kind} engine for {getattr(self.user_context, 'user_id', None)!r}"
