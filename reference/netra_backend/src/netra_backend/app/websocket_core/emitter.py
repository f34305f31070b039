"""An emitter bound to one user: whatever run it is told about, only that user hears it.

Built on a bridge (anything with the five `notify_*` methods; the run is
registered with the bound user first, when the bridge can register runs) or
directly on a connection manager (messages go to the bound user's connections).
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.messages import make_message


class UserWebSocketEmitter:
    """The five notifications, delivered to one user only."""

    def __init__(self, bridge_or_manager: Any, user_context: UserExecutionContext) -> None:
        self.target = bridge_or_manager
        self.user_context = user_context
        self._registered: set[str] = set()
        self._direct = hasattr(bridge_or_manager, "send_to_user") and not hasattr(
            bridge_or_manager, "notify_agent_started"
        )

    @property
    def user_id(self) -> str:
        return self.user_context.user_id

    def _register(self, run_id: str) -> None:
        if run_id in self._registered:
            return
        register = getattr(self.target, "register_run", None)
        if callable(register):
            register(run_id, self.user_id)
        self._registered.add(run_id)

    async def _send(
        self, event_type: str, run_id: str, agent_name: str, payload: dict[str, Any]
    ) -> None:
        message = make_message(
            event_type, run_id=run_id, user_id=self.user_id, agent_name=agent_name, payload=payload
        )
        await self.target.send_to_user(self.user_id, message)

    async def notify_agent_started(
        self, run_id: str, agent_name: str, metadata: dict[str, Any]
    ) -> None:
        if self._direct:
            await self._send("agent_started", run_id, agent_name, {"metadata": metadata})
            return
        self._register(run_id)
        await self.target.notify_agent_started(run_id, agent_name, metadata)

    async def notify_agent_thinking(
        self, run_id: str, agent_name: str, reasoning: str, step_number: int | None = None
    ) -> None:
        if self._direct:
            payload = {"reasoning": reasoning, "step_number": step_number}
            await self._send("agent_thinking", run_id, agent_name, payload)
            return
        self._register(run_id)
        await self.target.notify_agent_thinking(run_id, agent_name, reasoning, step_number)

    async def notify_tool_executing(
        self, run_id: str, agent_name: str, tool_name: str, parameters: dict[str, Any]
    ) -> None:
        if self._direct:
            payload = {"tool_name": tool_name, "parameters": parameters}
            await self._send("tool_executing", run_id, agent_name, payload)
            return
        self._register(run_id)
        await self.target.notify_tool_executing(run_id, agent_name, tool_name, parameters)

    async def notify_tool_completed(
        self, run_id: str, agent_name: str, tool_name: str, result: Any
    ) -> None:
        if self._direct:
            payload = {"tool_name": tool_name, "result": result}
            await self._send("tool_completed", run_id, agent_name, payload)
            return
        self._register(run_id)
        await self.target.notify_tool_completed(run_id, agent_name, tool_name, result)

    async def notify_agent_completed(
        self, run_id: str, agent_name: str, result: Any, execution_time_ms: float
    ) -> None:
        if self._direct:
            payload = {"result": result, "execution_time_ms": execution_time_ms}
            await self._send("agent_completed", run_id, agent_name, payload)
            return
        self._register(run_id)
        await self.target.notify_agent_completed(run_id, agent_name, result, execution_time_ms)
