"""The bridge: the five notifications become messages for the run's registered user."""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.manager import RecordingConnection, WebSocketConnectionManager
from netra_backend.app.websocket_core.messages import EVENT_TYPES

KEYS = {"type", "run_id", "user_id", "agent_name", "timestamp", "payload"}


async def _all_five(bridge: AgentWebSocketBridge, run_id: str) -> None:
    await bridge.notify_agent_started(run_id, "triage_agent", {"k": "v"})
    await bridge.notify_agent_thinking(run_id, "triage_agent", "hmm", step_number=1)
    await bridge.notify_tool_executing(run_id, "triage_agent", "system_status", {})
    await bridge.notify_tool_completed(run_id, "triage_agent", "system_status", {"ok": True})
    await bridge.notify_agent_completed(run_id, "triage_agent", {"success": True}, 12.5)


async def test_events_go_to_the_registered_user_in_the_message_shape() -> None:
    manager = WebSocketConnectionManager()
    alice, bob = RecordingConnection(), RecordingConnection()
    manager.connect("alice", alice)
    manager.connect("bob", bob)
    bridge = AgentWebSocketBridge(manager)
    bridge.register_run("run_a", "alice")
    seen: list[dict[str, Any]] = []
    bridge.add_observer(seen.append)
    await _all_five(bridge, "run_a")
    assert alice.types() == list(EVENT_TYPES)
    assert bob.messages == []
    assert all(set(m) == KEYS for m in alice.messages)
    assert {(m["run_id"], m["user_id"]) for m in alice.messages} == {("run_a", "alice")}
    assert alice.messages[1]["payload"] == {"reasoning": "hmm", "step_number": 1}
    assert alice.messages[-1]["payload"]["execution_time_ms"] == 12.5
    assert seen == alice.messages


async def test_events_of_an_unregistered_run_are_kept_not_guessed() -> None:
    bridge = AgentWebSocketBridge()
    await bridge.notify_agent_started("run_x", "triage_agent", {})
    assert [m["type"] for m in bridge.undelivered] == ["agent_started"]
    bridge.register_run("run_x", "alice")
    assert bridge.user_for_run("run_x") == "alice"
    bridge.unregister_run("run_x")
    assert bridge.user_for_run("run_x") is None
