"""The one message shape every agent event takes on its way to a user."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Protocol

EVENT_TYPES: tuple[str, ...] = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)


def make_message(
    event_type: str, *, run_id: str, user_id: str, agent_name: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """{type, run_id, user_id, agent_name, timestamp, payload}; timestamp is ISO 8601 UTC."""
    return {
        "type": event_type,
        "run_id": run_id,
        "user_id": user_id,
        "agent_name": agent_name,
        "timestamp": datetime.now(timezone.utc).isoformat(),
        "payload": payload,
    }


class EventSink(Protocol):
    """The five notifications, with the seed's bridge signatures."""

    async def notify_agent_started(
        self, run_id: str, agent_name: str, metadata: dict[str, Any]
    ) -> Any: ...

    async def notify_agent_thinking(
        self, run_id: str, agent_name: str, reasoning: str, step_number: int | None = None
    ) -> Any: ...

    async def notify_tool_executing(
        self, run_id: str, agent_name: str, tool_name: str, parameters: dict[str, Any]
    ) -> Any: ...

    async def notify_tool_completed(
        self, run_id: str, agent_name: str, tool_name: str, result: Any
    ) -> Any: ...

    async def notify_agent_completed(
        self, run_id: str, agent_name: str, result: Any, execution_time_ms: float
    ) -> Any: ...


class Connection(Protocol):
    async def send_json(self, message: dict[str, Any]) -> Any: ...
