"""Helpers for netra_backend's tests: a small world of users, connections and engines."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from netra_backend.app.agents.registry import AgentRegistry, get_agent_registry
from netra_backend.app.agents.supervisor.execution_context import AgentExecutionContext
from netra_backend.app.llm.client import OfflineLLMClient
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.manager import RecordingConnection, WebSocketConnectionManager

FIVE_EVENTS = [
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
]


class GatedLLM(OfflineLLMClient):
    """The offline client, but each answer waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = 0
        self.max_waiting = 0

    async def complete(self, prompt: str, *, system: str = "", user_id: str | None = None) -> str:
        self.waiting += 1
        self.max_waiting = max(self.max_waiting, self.waiting)
        try:
            await self.gate.wait()
        finally:
            self.waiting -= 1
        return await super().complete(prompt, system=system, user_id=user_id)


@dataclasses.dataclass
class World:
    """A manager, a bridge, a registry and one recording connection per user."""

    manager: WebSocketConnectionManager
    bridge: AgentWebSocketBridge
    registry: AgentRegistry
    connections: dict[str, RecordingConnection]

    def user(self, n: int | str, *, connect: bool = True) -> UserExecutionContext:
        ctx = UserExecutionContext(user_id=f"user{n}", thread_id=f"thread{n}", run_id=f"run{n}")
        if connect and ctx.user_id not in self.connections:
            self.connections[ctx.user_id] = RecordingConnection()
            self.manager.connect(ctx.user_id, self.connections[ctx.user_id])
        return ctx

    def events(self, user_id: str) -> list[dict[str, Any]]:
        return self.connections[user_id].messages

    def types(self, user_id: str) -> list[str]:
        return self.connections[user_id].types()


def make_world(llm: Any = None) -> World:
    manager = WebSocketConnectionManager()
    return World(manager, AgentWebSocketBridge(manager), get_agent_registry(llm), {})


def agent_request(
    ctx: UserExecutionContext, agent: str, text: str, **metadata: Any
) -> AgentExecutionContext:
    return AgentExecutionContext(
        agent_name=agent,
        user_id=ctx.user_id,
        thread_id=ctx.thread_id,
        run_id=ctx.run_id,
        user_input=text,
        metadata=dict(metadata),
    )


def assert_golden_events(types: list[str], *, tools: bool) -> None:
    """started first, completed last, thinking before any tool, tool pairs in order."""
    assert types[0] == "agent_started", types
    assert types[-1] == "agent_completed", types
    assert types.count("agent_started") == 1, types
    assert types.count("agent_completed") == 1, types
    assert "agent_thinking" in types, types
    if tools:
        assert all(name in types for name in FIVE_EVENTS), types
        assert types.index("agent_thinking") < types.index("tool_executing"), types
        executing = [i for i, t in enumerate(types) if t == "tool_executing"]
        completed = [i for i, t in enumerate(types) if t == "tool_completed"]
        assert len(executing) == len(completed), types
        assert all(e < c for e, c in zip(executing, completed, strict=False)), types
