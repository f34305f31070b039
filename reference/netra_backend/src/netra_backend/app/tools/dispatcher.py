"""The tool dispatcher: named, deterministic tools an agent may call.

Tools are plain async functions of (parameters, user_id) returning JSON-able
dicts. They hold no state between calls, so one dispatcher serves every user.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

ToolFunction = Callable[[Mapping[str, Any], str], Awaitable[dict[str, Any]]]


class UnknownToolError(LookupError):
    """An agent asked for a tool the dispatcher does not have."""


async def system_status(parameters: Mapping[str, Any], user_id: str) -> dict[str, Any]:
    """The health of the (simulated) platform, the same for everyone."""
    return {
        "status": "healthy",
        "components": {"api": "up", "agents": "up", "database": "up", "websocket": "up"},
        "open_incidents": 0,
    }


async def data_lookup(parameters: Mapping[str, Any], user_id: str) -> dict[str, Any]:
    """Records matching a query in the caller's workspace (derived from the query text)."""
    query = str(parameters.get("query", ""))
    digest = hashlib.sha256(query.encode("utf-8")).hexdigest()
    count = int(digest[:2], 16) % 5 + 1
    return {
        "query": query,
        "workspace": user_id,
        "records": [{"id": f"rec_{digest[i * 6 : i * 6 + 6]}"} for i in range(count)],
        "count": count,
    }


class ToolDispatcher:
    """Runs tools by name."""

    def __init__(self, tools: Mapping[str, ToolFunction] | None = None) -> None:
        self._tools: dict[str, ToolFunction] = dict(
            tools
            if tools is not None
            else {"system_status": system_status, "data_lookup": data_lookup}
        )

    def register(self, name: str, tool: ToolFunction) -> None:
        self._tools[name] = tool

    def names(self) -> list[str]:
        return sorted(self._tools)

    async def execute(
        self, tool_name: str, parameters: Mapping[str, Any], *, user_id: str
    ) -> dict[str, Any]:
        tool = self._tools.get(tool_name)
        if tool is None:
            msg = f"unknown tool {tool_name!r}; available: {', '.join(self.names())}"
            raise UnknownToolError(msg)
        return await tool(parameters, user_id)
