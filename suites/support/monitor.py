"""Seed 4.1 / 8: a WebSocket event monitor and the checks on what it saw.

`WebSocketEventMonitor` stands in for a bridge (it has the five `notify_*`
methods with the seed's signatures) and records each notification as
{"type", "run_id", "agent_name", "data", "timestamp"}; given `forward_to`, it also
passes every notification on (to the real bridge, so users still get their
events). It can equally be fed delivered messages (`observe`), e.g. what a
user's client received. It is a context manager, sync or async, as the seed
uses it.

The checks return lists of problems (empty = fine), so a test can assert with
its own message and the problems in it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

REQUIRED_EVENTS: tuple[str, ...] = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)
MESSAGE_KEYS: frozenset[str] = frozenset(
    {"type", "run_id", "user_id", "agent_name", "timestamp", "payload"}
)


class WebSocketEventMonitor:
    """Records agent events; a drop-in bridge for an engine."""

    def __init__(self, forward_to: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self._forward = forward_to

    # -- the seed's interface
    def __enter__(self) -> WebSocketEventMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    async def __aenter__(self) -> WebSocketEventMonitor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def get_events(self) -> list[dict[str, Any]]:
        return list(self.events)

    def types(self) -> list[str]:
        return [str(e["type"]) for e in self.events]

    def on_event(
        self,
        event_type: str,
        data: Mapping[str, Any],
        run_id: str | None = None,
        agent_name: str | None = None,
    ) -> None:
        self.events.append(
            {
                "type": event_type,
                "run_id": run_id,
                "agent_name": agent_name,
                "data": dict(data),
                "timestamp": time.monotonic(),
            }
        )

    def observe(self, message: Mapping[str, Any]) -> None:
        """Record a delivered message (the shape users receive)."""
        self.on_event(
            str(message.get("type")), message, message.get("run_id"), message.get("agent_name")
        )

    # -- a bridge stand-in: any object with these methods can be an engine's bridge
    def register_run(self, run_id: str, user_id: str) -> None:
        register = getattr(self._forward, "register_run", None)
        if callable(register):
            register(run_id, user_id)

    async def _pass_on(self, method: str, *args: Any) -> None:
        if self._forward is not None:
            await getattr(self._forward, method)(*args)

    async def notify_agent_started(self, run_id: str, agent_name: str, metadata: Any) -> None:
        self.on_event("agent_started", {"metadata": metadata}, run_id, agent_name)
        await self._pass_on("notify_agent_started", run_id, agent_name, metadata)

    async def notify_agent_thinking(
        self, run_id: str, agent_name: str, reasoning: str, step_number: int | None = None
    ) -> None:
        self.on_event(
            "agent_thinking",
            {"reasoning": reasoning, "step_number": step_number},
            run_id,
            agent_name,
        )
        await self._pass_on("notify_agent_thinking", run_id, agent_name, reasoning, step_number)

    async def notify_tool_executing(
        self, run_id: str, agent_name: str, tool_name: str, parameters: Any
    ) -> None:
        self.on_event(
            "tool_executing", {"tool_name": tool_name, "parameters": parameters}, run_id, agent_name
        )
        await self._pass_on("notify_tool_executing", run_id, agent_name, tool_name, parameters)

    async def notify_tool_completed(
        self, run_id: str, agent_name: str, tool_name: str, result: Any
    ) -> None:
        self.on_event(
            "tool_completed", {"tool_name": tool_name, "result": result}, run_id, agent_name
        )
        await self._pass_on("notify_tool_completed", run_id, agent_name, tool_name, result)

    async def notify_agent_completed(
        self, run_id: str, agent_name: str, result: Any, execution_time_ms: float
    ) -> None:
        self.on_event(
            "agent_completed",
            {"result": result, "execution_time_ms": execution_time_ms},
            run_id,
            agent_name,
        )
        await self._pass_on("notify_agent_completed", run_id, agent_name, result, execution_time_ms)


def create_websocket_event_monitor(forward_to: Any = None) -> WebSocketEventMonitor:
    """Seed 8: a monitor usable as an engine's websocket_bridge."""
    return WebSocketEventMonitor(forward_to)


def sequence_problems(types: Sequence[str], required: Iterable[str] = REQUIRED_EVENTS) -> list[str]:
    """What is wrong with one run's event sequence: missing events, order, tool pairing."""
    problems = [f"{name} not delivered" for name in required if name not in types]
    if not types:
        return [*problems, "no events at all"]
    if types[0] != "agent_started":
        problems.append(f"first event is {types[0]}, not agent_started")
    if types[-1] != "agent_completed":
        problems.append(f"last event is {types[-1]}, not agent_completed")
    if types.count("agent_started") != 1 or types.count("agent_completed") != 1:
        problems.append(f"expected one agent_started and one agent_completed, got {list(types)}")
    open_tools = 0
    for name in types:
        if name == "tool_executing":
            open_tools += 1
        elif name == "tool_completed":
            open_tools -= 1
            if open_tools < 0:
                problems.append("tool_completed without a tool_executing before it")
                open_tools = 0
    if open_tools:
        problems.append(f"{open_tools} tool_executing without tool_completed")
    return problems


def integrity_problems(
    messages: Sequence[Mapping[str, Any]], user_id: str, run_ids: Iterable[str]
) -> list[str]:
    """What is wrong with the messages one user received: shape, owner, runs, time order."""
    allowed = set(run_ids)
    problems: list[str] = []
    for index, message in enumerate(messages):
        missing = sorted(MESSAGE_KEYS - set(message))
        if missing:
            problems.append(f"message {index} ({message.get('type')}) lacks {missing}")
        if message.get("user_id") != user_id:
            problems.append(
                f"message {index} ({message.get('type')}) is addressed to "
                f"{message.get('user_id')!r}, received by {user_id!r}"
            )
        if message.get("run_id") not in allowed:
            problems.append(
                f"message {index} ({message.get('type')}) belongs to run "
                f"{message.get('run_id')!r}, not one of {user_id!r}'s runs {sorted(allowed)}"
            )
    stamps = [str(m.get("timestamp", "")) for m in messages]
    if stamps != sorted(stamps):
        problems.append("timestamps go backwards")
    return problems
