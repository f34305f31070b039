"""UserWebSocketEmitter: bound to one user, on a bridge, a bare bridge-like object or a manager."""

from __future__ import annotations

from typing import Any

from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.emitter import UserWebSocketEmitter
from netra_backend.app.websocket_core.manager import RecordingConnection, WebSocketConnectionManager
from netra_backend.app.websocket_core.messages import EVENT_TYPES

ALICE = UserExecutionContext(user_id="alice", thread_id="thread_a", run_id="run_a")


async def _all_five(emitter: UserWebSocketEmitter, run_id: str) -> None:
    await emitter.notify_agent_started(run_id, "a", {})
    await emitter.notify_agent_thinking(run_id, "a", "hmm")
    await emitter.notify_tool_executing(run_id, "a", "t", {})
    await emitter.notify_tool_completed(run_id, "a", "t", 1)
    await emitter.notify_agent_completed(run_id, "a", {}, 1.0)


def _world() -> tuple[WebSocketConnectionManager, RecordingConnection, RecordingConnection]:
    manager = WebSocketConnectionManager()
    alice, bob = RecordingConnection(), RecordingConnection()
    manager.connect("alice", alice)
    manager.connect("bob", bob)
    return manager, alice, bob


async def test_on_a_bridge_the_run_is_claimed_for_the_bound_user() -> None:
    manager, alice, bob = _world()
    bridge = AgentWebSocketBridge(manager)
    bridge.register_run("run_shared", "bob")  # a stale mapping from someone else's run
    await _all_five(UserWebSocketEmitter(bridge, ALICE), "run_shared")
    assert alice.types() == list(EVENT_TYPES)
    assert bob.messages == []


async def test_on_a_manager_messages_go_straight_to_the_bound_user() -> None:
    manager, alice, bob = _world()
    await _all_five(UserWebSocketEmitter(manager, ALICE), "run_a")
    assert alice.types() == list(EVENT_TYPES)
    assert {m["user_id"] for m in alice.messages} == {"alice"}
    assert bob.messages == []


async def test_any_bridge_like_object_is_called_with_the_seed_signatures() -> None:
    calls: list[tuple[Any, ...]] = []

    class MockBridge:
        async def notify_agent_started(self, run_id: str, agent_name: str, metadata: Any) -> None:
            calls.append(("agent_started", run_id))

        async def notify_agent_thinking(
            self, run_id: str, agent_name: str, reasoning: str, step_number: Any = None
        ) -> None:
            calls.append(("agent_thinking", run_id))

        async def notify_tool_executing(
            self, run_id: str, agent_name: str, tool_name: str, parameters: Any
        ) -> None:
            calls.append(("tool_executing", run_id))

        async def notify_tool_completed(
            self, run_id: str, agent_name: str, tool_name: str, result: Any
        ) -> None:
            calls.append(("tool_completed", run_id))

        async def notify_agent_completed(
            self, run_id: str, agent_name: str, result: Any, execution_time_ms: Any
        ) -> None:
            calls.append(("agent_completed", run_id))

    emitter = UserWebSocketEmitter(MockBridge(), ALICE)
    assert emitter.user_id == "alice"
    await _all_five(emitter, "run_a")
    assert calls == [(t, "run_a") for t in EVENT_TYPES]
