"""What an agent is, and what an engine offers it while it runs.

An agent is stateless: everything about the request arrives in `AgentRequest`,
and everything it does that users can see (thinking, tool calls) goes through
the `AgentRuntime` the engine passes in. That is what lets one agent object
serve every user at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol


class UnknownAgentError(LookupError):
    """No agent is registered under the requested name."""


@dataclasses.dataclass(frozen=True)
class AgentRequest:
    """One user's request as an agent sees it."""

    user_id: str
    thread_id: str
    run_id: str
    user_input: str
    metadata: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class AgentAnswer:
    """What an agent produced: the answer text and any structured extras."""

    response: str
    extras: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class AgentRuntime(Protocol):
    async def think(self, reasoning: str) -> None:
        """Tell the user what the agent is considering (an agent_thinking event)."""
        ...

    async def use_tool(self, tool_name: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """Run a tool, with tool_executing / tool_completed events around it."""
        ...


class Agent(Protocol):
    name: str

    async def run(self, request: AgentRequest, runtime: AgentRuntime) -> AgentAnswer: ...
