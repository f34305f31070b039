"""The chat service: one user message in, one agent answer out, all of it kept.

`send` stores the user's message, runs the agent through the engine that the
migration state in effect builds, streams the run's events to the user's
connections, and stores the answer, the run and the delivered events. The
thread's earlier messages are passed to the agent, so an answer builds on what
was said before, whichever engine wrote it.
"""

from __future__ import annotations

import uuid
from typing import Any

from netra_backend.app.agents.registry import AgentRegistry, get_agent_registry
from netra_backend.app.agents.supervisor.engine_provider import create_engine
from netra_backend.app.agents.supervisor.execution_context import (
    AgentExecutionContext,
    AgentExecutionResult,
)
from netra_backend.app.core.migration import current_migration
from netra_backend.app.db.store import ChatStore
from netra_backend.app.llm.client import LLMClient
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.manager import WebSocketConnectionManager

HISTORY_LIMIT = 20


class ChatService:
    """Chat on top of the store, the agents and the user's WebSocket connections."""

    def __init__(
        self,
        store: ChatStore,
        manager: WebSocketConnectionManager | None = None,
        registry: AgentRegistry | None = None,
        llm: LLMClient | None = None,
    ) -> None:
        self.store = store
        self.manager = manager if manager is not None else WebSocketConnectionManager()
        self.registry = registry if registry is not None else get_agent_registry(llm)
        self.bridge = AgentWebSocketBridge(self.manager)
        self.bridge.add_observer(self._keep_event)

    def _keep_event(self, message: dict[str, Any]) -> None:
        # Events are stored as delivered: under the run and user they actually reached.
        self.store.record_event(str(message["run_id"]), str(message["user_id"]), message)

    async def send(
        self,
        user_context: UserExecutionContext,
        thread_id: str,
        text: str,
        agent_name: str = "triage_agent",
    ) -> AgentExecutionResult:
        """Answer `text` in the user's thread (created on first use) and keep everything."""
        self.store.ensure_thread(thread_id, user_context.user_id, title=text[:60])
        history = [
            {"role": m["role"], "content": m["content"]}
            for m in self.store.list_messages(thread_id, user_context.user_id)[-HISTORY_LIMIT:]
        ]
        run_id = f"run_{uuid.uuid4().hex[:16]}"
        run_context = user_context.create_child_context(thread_id=thread_id, run_id=run_id)
        self.store.add_message(thread_id, user_context.user_id, "user", text, run_id)
        state = current_migration().spec
        engine = await create_engine(
            run_context, registry=self.registry, websocket_bridge=self.bridge
        )
        engine_name = type(engine).__name__
        self.store.record_run(
            run_id, thread_id, user_context.user_id, agent_name, "running", engine_name, state
        )
        agent_context = AgentExecutionContext(
            agent_name=agent_name,
            user_id=user_context.user_id,
            thread_id=thread_id,
            run_id=run_id,
            user_input=text,
            metadata={**dict(user_context.metadata), "history": history},
        )
        try:
            result: AgentExecutionResult = await engine.execute_agent(agent_context, run_context)
        finally:
            await engine.cleanup()
        answer = result.response if result.success else f"Sorry, that failed: {result.error}"
        self.store.add_message(thread_id, user_context.user_id, "assistant", answer, run_id)
        self.store.record_run(
            run_id,
            thread_id,
            user_context.user_id,
            agent_name,
            "completed" if result.success else "failed",
            engine_name,
            state,
        )
        return result

    def history(self, user_context: UserExecutionContext, thread_id: str) -> list[dict[str, Any]]:
        """The user's messages in `thread_id` (ThreadNotFound for another user's thread)."""
        return self.store.list_messages(thread_id, user_context.user_id)
