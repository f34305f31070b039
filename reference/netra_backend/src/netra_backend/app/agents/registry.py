"""The agent registry: agents by name, plus the tool dispatcher they use."""

from __future__ import annotations

from netra_backend.app.agents.base import Agent, UnknownAgentError
from netra_backend.app.agents.builtin import DataHelperAgent, SupervisorAgent, TriageAgent
from netra_backend.app.llm.client import LLMClient, OfflineLLMClient
from netra_backend.app.tools.dispatcher import ToolDispatcher


class AgentRegistry:
    """Stateless agents by name; safe to share between users and engines."""

    def __init__(self, tool_dispatcher: ToolDispatcher | None = None) -> None:
        self._agents: dict[str, Agent] = {}
        self.tool_dispatcher = tool_dispatcher or ToolDispatcher()

    def register(self, name: str, agent: Agent) -> None:
        self._agents[name] = agent

    def get(self, name: str) -> Agent:
        agent = self._agents.get(name)
        if agent is None:
            msg = f"unknown agent {name!r}; registered agents: {', '.join(self.names())}"
            raise UnknownAgentError(msg)
        return agent

    def names(self) -> list[str]:
        return sorted(self._agents)

    def __contains__(self, name: object) -> bool:
        return name in self._agents


def get_agent_registry(llm: LLMClient | None = None) -> AgentRegistry:
    """A registry with triage_agent, supervisor_agent and data_helper_agent on `llm`."""
    client = llm if llm is not None else OfflineLLMClient()
    registry = AgentRegistry()
    for agent in (TriageAgent(client), SupervisorAgent(client), DataHelperAgent(client)):
        registry.register(agent.name, agent)
    return registry
