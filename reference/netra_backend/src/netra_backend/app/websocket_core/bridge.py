"""The bridge from agent runs to users' connections, addressed by run id.

A run is registered with its user (`register_run`); each notification names the
run, and the bridge delivers the message to that run's user. Messages for a run
nobody registered are kept in `undelivered` rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netra_backend.app.websocket_core.manager import WebSocketConnectionManager
from netra_backend.app.websocket_core.messages import make_message

MessageObserver = Callable[[dict[str, Any]], Any]


class AgentWebSocketBridge:
    """Turns the five notifications into messages for the run's user."""

    def __init__(self, manager: WebSocketConnectionManager | None = None) -> None:
        self.manager = manager if manager is not None else WebSocketConnectionManager()
        self._run_users: dict[str, str] = {}
        self.undelivered: list[dict[str, Any]] = []
        self._observers: list[MessageObserver] = []

    def register_run(self, run_id: str, user_id: str) -> None:
        self._run_users[run_id] = user_id

    def unregister_run(self, run_id: str) -> None:
        self._run_users.pop(run_id, None)

    def user_for_run(self, run_id: str) -> str | None:
        return self._run_users.get(run_id)

    def add_observer(self, observer: MessageObserver) -> None:
        """Call `observer(message)` for every message delivered (e.g. to persist events)."""
        self._observers.append(observer)

    async def send(
        self, event_type: str, run_id: str, agent_name: str, payload: dict[str, Any]
    ) -> None:
        user_id = self._run_users.get(run_id)
        if user_id is None:
            self.undelivered.append(
                make_message(
                    event_type, run_id=run_id, user_id="", agent_name=agent_name, payload=payload
                )
            )
            return
        await self.send_to_user(
            user_id,
            make_message(
                event_type, run_id=run_id, user_id=user_id, agent_name=agent_name, payload=payload
            ),
        )

    async def send_to_user(self, user_id: str, message: dict[str, Any]) -> None:
        for observer in self._observers:
            observer(message)
        await self.manager.send_to_user(user_id, message)

    async def notify_agent_started(
        self, run_id: str, agent_name: str, metadata: dict[str, Any]
    ) -> None:
        await self.send("agent_started", run_id, agent_name, {"metadata": metadata})

    async def notify_agent_thinking(
        self, run_id: str, agent_name: str, reasoning: str, step_number: int | None = None
    ) -> None:
        await self.send(
            "agent_thinking",
            run_id,
            agent_name,
            {"reasoning": reasoning, "step_number": step_number},
        )

    async def notify_tool_executing(
        self, run_id: str, agent_name: str, tool_name: str, parameters: dict[str, Any]
    ) -> None:
        await self.send(
            "tool_executing", run_id, agent_name, {"tool_name": tool_name, "parameters": parameters}
        )

    async def notify_tool_completed(
        self, run_id: str, agent_name: str, tool_name: str, result: Any
    ) -> None:
        await self.send(
            "tool_completed", run_id, agent_name, {"tool_name": tool_name, "result": result}
        )

    async def notify_agent_completed(
        self, run_id: str, agent_name: str, result: Any, execution_time_ms: float
    ) -> None:
        await self.send(
            "agent_completed",
            run_id,
            agent_name,
            {"result": result, "execution_time_ms": execution_time_ms},
        )
