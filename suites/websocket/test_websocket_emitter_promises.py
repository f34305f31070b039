"""Seed 4.1, continued: what the per-user emitter and the tool events promise.

docs/netra_backend_api.md: a `UserWebSocketEmitter` is bound to one user; on a
manager it sends to its user's connections, on a bridge it registers each run with
its user first; tool events name the tool, and `tool_completed` carries its result.
Each test has a bystander connected BEFORE the user it checks, so a fault that
sends events to "the first connected user" (or to everyone) shows. The emitter is
called directly and a run alone is routed correctly in every state, so every
promise here holds in every state: matrix.yaml's default (pass) is their rule.
"""

from __future__ import annotations

from typing import Any

import pytest


async def _notify_all(emitter: Any, run_id: str) -> None:
    await emitter.notify_agent_started(run_id, "triage_agent", {"k": "v"})
    await emitter.notify_agent_thinking(run_id, "triage_agent", "thinking", 1)
    await emitter.notify_tool_executing(run_id, "triage_agent", "system_status", {"a": 1})
    await emitter.notify_tool_completed(run_id, "triage_agent", "system_status", {"ok": True})
    await emitter.notify_agent_completed(run_id, "triage_agent", {"success": True}, 1.0)


EXPECTED = [
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
]


async def test_an_emitter_on_a_manager_sends_to_its_user_only(sut: Any) -> None:
    from netra_backend.app.websocket_core.emitter import UserWebSocketEmitter

    bystander = await sut.connect("emitter_bystander")
    user = sut.user("emitter_user")
    inbox = await sut.connect(user.user_id)
    await _notify_all(UserWebSocketEmitter(sut.manager, user), user.run_id)
    await sut.settle()
    assert bystander.messages == [], f"a bystander heard {bystander.types()}"
    assert inbox.types(user.run_id) == EXPECTED, inbox.types()
    assert {m.get("user_id") for m in inbox.messages} == {user.user_id}


async def test_an_emitter_on_a_bridge_registers_its_run_for_its_user(sut: Any) -> None:
    from netra_backend.app.websocket_core.emitter import UserWebSocketEmitter

    bystander = await sut.connect("emitter_bystander")
    user = sut.user("emitter_bridge_user")
    inbox = await sut.connect(user.user_id)
    await _notify_all(UserWebSocketEmitter(sut.bridge, user), user.run_id)
    await sut.settle()
    assert sut.bridge.user_for_run(user.run_id) == user.user_id
    assert bystander.messages == [], f"a bystander heard {bystander.types()}"
    assert inbox.types(user.run_id) == EXPECTED, inbox.types()


async def test_tool_completed_carries_the_tool_and_its_result(sut: Any) -> None:
    from netra_backend.app.websocket_core.emitter import UserWebSocketEmitter

    user = sut.user("emitter_tool_user")
    inbox = await sut.connect(user.user_id)
    await _notify_all(UserWebSocketEmitter(sut.bridge, user), user.run_id)
    await sut.settle()
    completed = [m for m in inbox.for_run(user.run_id) if m.get("type") == "tool_completed"]
    assert len(completed) == 1, inbox.types()
    payload = completed[0]["payload"]
    assert (payload.get("tool_name"), payload.get("result")) == ("system_status", {"ok": True})


async def test_a_run_streams_its_tools_with_their_results(sut: Any) -> None:
    """Through the engine of the cell's state: a tool's result reaches the user with it."""
    bystander = await sut.connect("tool_bystander")
    user = sut.user("tool_run_user")
    inbox = await sut.connect(user.user_id)
    engine = await sut.engine(user)
    result = await engine.execute_agent(
        sut.agent_context(user, "supervisor_agent", "What is the system status?"), user
    )
    await sut.settle()
    await engine.cleanup()
    assert result.success, result.error
    tools = [m for m in inbox.for_run(result.run_id) if m.get("type") == "tool_completed"]
    assert tools, f"no tool_completed event: {inbox.types(result.run_id)}"
    for message in tools:
        assert message["payload"].get("tool_name"), message
        assert message["payload"].get("result"), f"tool_completed without a result: {message}"
    assert bystander.messages == [], f"a bystander heard {bystander.types()}"


async def test_an_engine_refuses_an_emitter_of_another_user(sut: Any) -> None:
    from netra_backend.app.agents.factory import AgentFactory
    from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine
    from netra_backend.app.websocket_core.emitter import UserWebSocketEmitter

    alice, bob = sut.user("emitter_alice"), sut.user("emitter_bob")
    with pytest.raises(ValueError, match=r"emitter_bob|emitter_alice"):
        UserExecutionEngine(
            alice, AgentFactory(sut.registry), UserWebSocketEmitter(sut.bridge, bob)
        )
