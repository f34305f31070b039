"""Seed 3.1: login -> AI response, and the five events, in every migration state.

The engine comes from the system under test, built the way code in the state
builds it (legacy constructor, engine provider, or create_from_legacy); the seed's
try-UserExecutionEngine-then-fall-back dance is what the adapter does per state.

In staging there is no engine to call: each test checks the same promise over the
wire, against the cell's server (`sut.remote`): log in over HTTP, send the message
on the user's WebSocket, receive the run's events and the relevant answer there.
"""

from __future__ import annotations

import time
from typing import Any

from suites.support.chat import chat_for
from suites.support.contexts import (
    create_authenticated_user_context,
    get_real_agent_registry,
)
from suites.support.monitor import REQUIRED_EVENTS, sequence_problems


async def test_golden_path_login_to_ai_response(sut: Any) -> None:
    if sut.remote:
        await _login_to_ai_response_over_the_wire(chat_for(sut))
        return
    user_context = create_authenticated_user_context(sut, "test_user_golden_path")
    inbox = await sut.connect(user_context.user_id)
    engine = await sut.engine(user_context)

    agent_context = sut.agent_context(
        user_context,
        "triage_agent",
        "What is the weather like today?",
        metadata={"test_case": "golden_path_protection"},
    )
    start_time = time.perf_counter()
    result = await engine.execute_agent(agent_context, user_context)
    execution_time = time.perf_counter() - start_time

    assert result.success, f"GOLDEN PATH FAILURE: Agent execution failed: {result.error}"
    assert result.data is not None, "GOLDEN PATH FAILURE: No AI response data"
    assert execution_time < 30.0, f"GOLDEN PATH FAILURE: Response too slow: {execution_time}s"
    ai_response = result.data.get("response", "")
    assert len(ai_response) > 10, "GOLDEN PATH FAILURE: AI response too short/empty"
    assert "weather" in ai_response.lower(), (
        "GOLDEN PATH FAILURE: AI response not relevant to query"
    )

    await sut.settle()
    types = inbox.types(user_context.run_id)
    assert types[-1:] == ["agent_completed"], (
        f"GOLDEN PATH FAILURE: the user's client did not get the run's events: {types}"
    )
    await engine.cleanup()


async def test_golden_path_websocket_events(sut: Any) -> None:
    if sut.remote:
        await _websocket_events_over_the_wire(chat_for(sut))
        return
    user_context = create_authenticated_user_context(sut, "test_user_websocket_events")
    websocket_events_captured: list[tuple[str, str]] = []

    class MockWebSocketBridge:
        """The seed's capturing bridge: any object with the five methods can be the bridge."""

        async def notify_agent_started(self, run_id: str, agent_name: str, metadata: Any) -> None:
            websocket_events_captured.append(("agent_started", agent_name))

        async def notify_agent_thinking(
            self, run_id: str, agent_name: str, reasoning: str, step_number: int | None = None
        ) -> None:
            websocket_events_captured.append(("agent_thinking", agent_name))

        async def notify_tool_executing(
            self, run_id: str, agent_name: str, tool_name: str, parameters: Any
        ) -> None:
            websocket_events_captured.append(("tool_executing", tool_name))

        async def notify_tool_completed(
            self, run_id: str, agent_name: str, tool_name: str, result: Any
        ) -> None:
            websocket_events_captured.append(("tool_completed", tool_name))

        async def notify_agent_completed(
            self, run_id: str, agent_name: str, result: Any, execution_time_ms: float
        ) -> None:
            websocket_events_captured.append(("agent_completed", agent_name))

    engine = await sut.engine(user_context, websocket_bridge=MockWebSocketBridge())
    assert get_real_agent_registry(sut) is sut.registry
    agent_context = sut.agent_context(
        user_context,
        "supervisor_agent",
        "Analyze the current system status",
        metadata={"test_case": "websocket_events_validation"},
    )
    result = await engine.execute_agent(agent_context, user_context)
    assert result.success, f"GOLDEN PATH FAILURE: Agent execution failed: {result.error}"

    assert_all_five_events_in_order([event[0] for event in websocket_events_captured])
    await engine.cleanup()


async def _login_to_ai_response_over_the_wire(chat: Any) -> None:
    user = await chat.login("test_user_golden_path")
    start_time = time.perf_counter()
    turn = await chat.send(user, "What is the weather like today?", agent_name="triage_agent")
    execution_time = time.perf_counter() - start_time

    assert turn.success, f"GOLDEN PATH FAILURE: Agent execution failed: {turn.error}"
    assert execution_time < 30.0, f"GOLDEN PATH FAILURE: Response too slow: {execution_time}s"
    assert len(turn.response) > 10, "GOLDEN PATH FAILURE: AI response too short/empty"
    assert "weather" in turn.response.lower(), (
        "GOLDEN PATH FAILURE: AI response not relevant to query"
    )
    types = turn.types()
    assert (types[:1], types[-1:]) == (["agent_started"], ["agent_completed"]), (
        f"GOLDEN PATH FAILURE: the user's client did not get the run's events: {types}"
    )
    history = await chat.history(user, turn.thread_id)
    assert history == [
        ("user", "What is the weather like today?"),
        ("assistant", turn.response),
    ], f"GOLDEN PATH FAILURE: the conversation was not kept: {history}"


async def _websocket_events_over_the_wire(chat: Any) -> None:
    user = await chat.login("test_user_websocket_events")
    turn = await chat.send(user, "Analyze the current system status", agent_name="supervisor_agent")
    assert turn.success, f"GOLDEN PATH FAILURE: Agent execution failed: {turn.error}"
    assert_all_five_events_in_order(turn.types())


def assert_all_five_events_in_order(event_types: list[str]) -> None:
    """The seed's 3.1 event checks, the same in process and over the wire."""
    for required_event in REQUIRED_EVENTS:
        assert required_event in event_types, (
            f"GOLDEN PATH FAILURE: Required WebSocket event '{required_event}' not delivered"
        )
    assert event_types[0] == "agent_started", (
        "GOLDEN PATH FAILURE: agent_started must be first event"
    )
    assert event_types[-1] == "agent_completed", (
        "GOLDEN PATH FAILURE: agent_completed must be last event"
    )
    assert not sequence_problems(event_types), (
        f"GOLDEN PATH FAILURE: {sequence_problems(event_types)}"
    )
