"""The agent registry, the built-in agents and the agent factory."""

from __future__ import annotations

from typing import Any

import pytest

from netra_backend.app.agents.base import AgentRequest, UnknownAgentError
from netra_backend.app.agents.factory import AgentFactory
from netra_backend.app.agents.registry import get_agent_registry


class _Runtime:
    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []

    async def think(self, reasoning: str) -> None:
        self.log.append(("think", reasoning))

    async def use_tool(self, tool_name: str, parameters: Any) -> dict[str, Any]:
        self.log.append(("tool", tool_name))
        return {"status": "healthy", "count": 2}


def _request(text: str, **metadata: Any) -> AgentRequest:
    return AgentRequest("user1", "thread1", "run1", text, metadata)


def test_the_registry_holds_the_three_agents() -> None:
    registry = get_agent_registry()
    assert registry.names() == ["data_helper_agent", "supervisor_agent", "triage_agent"]
    assert "triage_agent" in registry
    with pytest.raises(UnknownAgentError, match=r"'nobody'.*triage_agent"):
        registry.get("nobody")


@pytest.mark.parametrize(
    ("agent", "text", "tools"),
    [
        ("triage_agent", "What is the weather like today?", []),
        ("supervisor_agent", "Analyze the current system status", ["system_status"]),
        ("supervisor_agent", "What does my cost data say?", ["system_status", "data_lookup"]),
        ("data_helper_agent", "Find my records", ["data_lookup"]),
    ],
)
async def test_agents_think_use_their_tools_and_answer(
    agent: str, text: str, tools: list[str]
) -> None:
    runtime = _Runtime()
    answer = await get_agent_registry().get(agent).run(_request(text), runtime)
    assert runtime.log[0][0] == "think"
    assert [name for kind, name in runtime.log if kind == "tool"] == tools
    assert text in answer.response


async def test_history_from_the_chat_service_reaches_the_answer() -> None:
    history = [
        {"role": "user", "content": "Will it rain?"},
        {"role": "assistant", "content": "..."},
    ]
    answer = (
        await get_agent_registry()
        .get("triage_agent")
        .run(_request("And tomorrow?", history=history), _Runtime())
    )
    assert "Continuing our conversation about weather" in answer.response


def test_the_factory_hands_out_registered_agents() -> None:
    registry = get_agent_registry()
    factory = AgentFactory(registry)
    assert factory.create("triage_agent") is registry.get("triage_agent")
    assert factory.tool_dispatcher is registry.tool_dispatcher
    with pytest.raises(UnknownAgentError):
        factory.create("ghost")
