"""DEPRECATED: event routing through a process-wide "current run".

Each run makes itself the current run when it starts; every event is then sent
for whatever run is current at that moment. One run alone is routed correctly;
two interleaved runs send events to each other's user.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.messages import make_message

_CURRENT_RUN: dict[str, str] = {}


def begin(run_id: str, user_id: str, target: Any) -> None:
    """Make `run_id` the current run (and tell the bridge whose run it is)."""
    _CURRENT_RUN["run_id"] = run_id
    _CURRENT_RUN["user_id"] = user_id
    register = getattr(target, "register_run", None)
    if callable(register):
        register(run_id, user_id)


def end() -> None:
    """Clear the current run, whoever it belongs to."""
    _CURRENT_RUN.clear()


def current_run() -> tuple[str, str] | None:
    if "run_id" not in _CURRENT_RUN:
        return None
    return _CURRENT_RUN["run_id"], _CURRENT_RUN["user_id"]


def reset() -> None:
    _CURRENT_RUN.clear()


class RoutedSink:
    """Sends each event for the current run, falling back to the caller's run if none."""

    def __init__(self, target: Any, run_id: str, user_id: str) -> None:
        self.target = target
        self.own = (run_id, user_id)

    def _route(self) -> tuple[str, str]:
        return current_run() or self.own

    async def _emit(
        self, event_type: str, agent_name: str, payload: dict[str, Any], *args: Any
    ) -> None:
        run_id, user_id = self._route()
        if hasattr(self.target, f"notify_{event_type}"):
            await getattr(self.target, f"notify_{event_type}")(run_id, agent_name, *args)
            return
        message = make_message(
            event_type, run_id=run_id, user_id=user_id, agent_name=agent_name, payload=payload
        )
        await self.target.send_to_user(user_id, message)

    async def notify_agent_started(
        self, run_id: str, agent_name: str, metadata: dict[str, Any]
    ) -> None:
        await self._emit("agent_started", agent_name, {"metadata": metadata}, metadata)

    async def notify_agent_thinking(
        self, run_id: str, agent_name: str, reasoning: str, step_number: int | None = None
    ) -> None:
        payload = {"reasoning": reasoning, "step_number": step_number}
        await self._emit("agent_thinking", agent_name, payload, reasoning, step_number)

    async def notify_tool_executing(
        self, run_id: str, agent_name: str, tool_name: str, parameters: dict[str, Any]
    ) -> None:
        payload = {"tool_name": tool_name, "parameters": parameters}
        await self._emit("tool_executing", agent_name, payload, tool_name, parameters)

    async def notify_tool_completed(
        self, run_id: str, agent_name: str, tool_name: str, result: Any
    ) -> None:
        payload = {"tool_name": tool_name, "result": result}
        await self._emit("tool_completed", agent_name, payload, tool_name, result)

    async def notify_agent_completed(
        self, run_id: str, agent_name: str, result: Any, execution_time_ms: float
    ) -> None:
        payload = {"result": result, "execution_time_ms": execution_time_ms}
        await self._emit("agent_completed", agent_name, payload, result, execution_time_ms)
