"""The agent factory a UserExecutionEngine gets its agents and tools from."""

from __future__ import annotations

from netra_backend.app.agents.base import Agent
from netra_backend.app.agents.registry import AgentRegistry
from netra_backend.app.tools.dispatcher import ToolDispatcher


class AgentFactory:
    """Hands out agents by name for one engine; agents are stateless, so sharing is safe."""

    def __init__(self, registry: AgentRegistry, tool_dispatcher: ToolDispatcher | None = None):
        self.registry = registry
        self.tool_dispatcher = tool_dispatcher or registry.tool_dispatcher

    def create(self, agent_name: str) -> Agent:
        """The agent named `agent_name`; UnknownAgentError names the registered ones."""
        return self.registry.get(agent_name)

    def names(self) -> list[str]:
        return self.registry.names()
