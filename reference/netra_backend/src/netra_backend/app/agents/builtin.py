"""The three agents of the reference system."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netra_backend.app.agents.base import AgentAnswer, AgentRequest, AgentRuntime
from netra_backend.app.llm.client import LLMClient, detect_topic


def _context_lines(request: AgentRequest) -> list[str]:
    """System-prompt lines from the conversation history the chat service passes along."""
    history = request.metadata.get("history")
    if not isinstance(history, list):
        return []
    earlier = [
        m.get("content", "") for m in history if isinstance(m, Mapping) and m.get("role") == "user"
    ]
    if not earlier:
        return []
    return [f"Earlier topic: {detect_topic(str(earlier[-1]))}"]


class TriageAgent:
    """Works out what the user wants and answers directly."""

    name = "triage_agent"

    def __init__(self, llm: LLMClient) -> None:
        self.llm = llm

    async def run(self, request: AgentRequest, runtime: AgentRuntime) -> AgentAnswer:
        topic = detect_topic(request.user_input)
        await runtime.think(f"Triage: the request is about {topic}")
        system = "\n".join(["Role: triage", *_context_lines(request)])
        text = await self.llm.complete(request.user_input, system=system, user_id=request.user_id)
        return AgentAnswer(text, {"topic": topic})


class SupervisorAgent:
    """Checks the platform with tools before answering; always calls at least one tool."""

    name = "supervisor_agent"

    def __init__(self, llm: LLMClient) -> None:
        self.llm = llm

    async def run(self, request: AgentRequest, runtime: AgentRuntime) -> AgentAnswer:
        topic = detect_topic(request.user_input)
        await runtime.think(f"Supervisor: planning tool calls for a {topic} request")
        status = await runtime.use_tool("system_status", {})
        facts = [f"Fact: system status is {status.get('status', 'unknown')}."]
        tool_results: dict[str, Any] = {"system_status": status}
        if topic in {"data", "cost", "performance"}:
            found = await runtime.use_tool("data_lookup", {"query": request.user_input})
            facts.append(f"Fact: {found.get('count', 0)} matching records found.")
            tool_results["data_lookup"] = found
        system = "\n".join(["Role: supervisor", *_context_lines(request), *facts])
        text = await self.llm.complete(request.user_input, system=system, user_id=request.user_id)
        return AgentAnswer(text, {"topic": topic, "tool_results": tool_results})


class DataHelperAgent:
    """Looks data up for the user and summarises it."""

    name = "data_helper_agent"

    def __init__(self, llm: LLMClient) -> None:
        self.llm = llm

    async def run(self, request: AgentRequest, runtime: AgentRuntime) -> AgentAnswer:
        await runtime.think("Data helper: looking up records for the request")
        found = await runtime.use_tool("data_lookup", {"query": request.user_input})
        system = "\n".join(
            [
                "Role: data helper",
                *_context_lines(request),
                f"Fact: {found.get('count', 0)} matching records found.",
            ]
        )
        text = await self.llm.complete(request.user_input, system=system, user_id=request.user_id)
        return AgentAnswer(text, {"topic": detect_topic(request.user_input), "records": found})
