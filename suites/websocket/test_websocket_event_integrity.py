"""Seed 4.1: WebSocket events arrive complete, in order and only at their user, in every state.

Runs here are one user at a time (the interleaving of concurrent users is the
reproduction suite's business), so every state must deliver each run's events
to its own user: started first, completed last, tools paired, nothing foreign.
The events are watched twice: by the seed's WebSocketEventMonitor standing in
front of the real bridge, and by each user's real client (a live WebSocket in
the integration env).
"""

from __future__ import annotations

import importlib
from typing import Any

from suites.support.contexts import create_authenticated_user_context
from suites.support.monitor import (
    REQUIRED_EVENTS,
    WebSocketEventMonitor,
    create_websocket_event_monitor,
    integrity_problems,
    sequence_problems,
)

TEST_PATTERNS = [
    {
        "name": "UserExecutionEngine Pattern",
        "import_path": "netra_backend.app.agents.supervisor.user_execution_engine",
        "class_name": "UserExecutionEngine",
    },
]


async def test_websocket_events_during_migration(sut: Any) -> None:
    for pattern in TEST_PATTERNS:
        # The seed resolves the class by name; the state's way of building it is the adapter's.
        assert hasattr(importlib.import_module(pattern["import_path"]), pattern["class_name"])
        user_context = create_authenticated_user_context(sut, "websocket_test_user")
        inbox = await sut.connect(user_context.user_id)
        monitor = create_websocket_event_monitor(forward_to=sut.bridge)
        engine = await sut.engine(user_context, websocket_bridge=monitor)
        agent_context = sut.agent_context(
            user_context,
            "triage_agent",
            "Test WebSocket event delivery",
            metadata={"websocket_test": pattern["name"]},
        )
        with monitor:
            result = await engine.execute_agent(agent_context, user_context)
            events_received = monitor.get_events()
        assert result.success, (
            f"WEBSOCKET FAILURE: run failed with {pattern['name']}: {result.error}"
        )
        for required_event in ("agent_started", "agent_thinking", "agent_completed"):
            assert any(e["type"] == required_event for e in events_received), (
                f"WEBSOCKET FAILURE: {required_event} not received with {pattern['name']}"
            )
        event_types = [e["type"] for e in events_received]
        assert event_types[0] == "agent_started", "First event must be agent_started"
        assert event_types[-1] == "agent_completed", "Last event must be agent_completed"
        named = sorted({str(e["run_id"]) for e in events_received})
        assert named == [user_context.run_id], f"WEBSOCKET FAILURE: events name other runs: {named}"

        await sut.settle()
        assert inbox.types() == event_types, (
            f"WEBSOCKET FAILURE: the client got {inbox.types()}, the bridge was told {event_types}"
        )
        problems = integrity_problems(inbox.messages, user_context.user_id, [user_context.run_id])
        assert not problems, f"WEBSOCKET FAILURE: {problems}"
        await engine.cleanup()


async def test_event_integrity_per_user(sut: Any) -> None:
    """Three users, one after another, each with a tool-using agent: each gets exactly its run."""
    users = [create_authenticated_user_context(sut, f"ws_user_{i}") for i in range(3)]
    inboxes = {u.user_id: await sut.connect(u.user_id) for u in users}
    monitors: dict[str, WebSocketEventMonitor] = {}
    for user_context in users:
        monitor = create_websocket_event_monitor(forward_to=sut.bridge)
        monitors[user_context.user_id] = monitor
        engine = await sut.engine(user_context, websocket_bridge=monitor)
        result = await engine.execute_agent(
            sut.agent_context(user_context, "supervisor_agent", "Check the system status for me"),
            user_context,
        )
        assert result.success, f"WEBSOCKET FAILURE: {user_context.user_id}: {result.error}"
        await engine.cleanup()
    await sut.settle()

    for user_context in users:
        inbox = inboxes[user_context.user_id]
        types = inbox.types(user_context.run_id)
        assert not sequence_problems(types, REQUIRED_EVENTS), (
            f"WEBSOCKET FAILURE: {user_context.user_id}: {sequence_problems(types)} in {types}"
        )
        problems = integrity_problems(inbox.messages, user_context.user_id, [user_context.run_id])
        assert not problems, f"WEBSOCKET FAILURE: {user_context.user_id}: {problems}"
        assert types == monitors[user_context.user_id].types(), (
            f"WEBSOCKET FAILURE: {user_context.user_id} received {types}, "
            f"its run emitted {monitors[user_context.user_id].types()}"
        )


async def test_event_order_across_agents(sut: Any) -> None:
    """One user runs the three agents in turn on one connection: runs never interleave."""
    user_context = create_authenticated_user_context(sut, "ws_agents_user")
    inbox = await sut.connect(user_context.user_id)
    engine = await sut.engine(user_context)
    run_ids = []
    for agent_name, text in (
        ("triage_agent", "What is the weather like today?"),
        ("supervisor_agent", "Analyze the current system status"),
        ("data_helper_agent", "Look up my usage records"),
    ):
        run_id = f"{user_context.run_id}_{agent_name}"
        run_ids.append(run_id)
        result = await engine.execute_agent(
            sut.agent_context(user_context, agent_name, text, run_id=run_id), user_context
        )
        assert result.success, f"WEBSOCKET FAILURE: {agent_name}: {result.error}"
    await sut.settle()
    await engine.cleanup()

    order = [m["run_id"] for m in inbox.messages]
    blocks = [run for i, run in enumerate(order) if i == 0 or order[i - 1] != run]
    assert blocks == run_ids, f"WEBSOCKET FAILURE: runs interleaved or out of order: {blocks}"
    assert not sequence_problems(inbox.types(run_ids[1]), REQUIRED_EVENTS), inbox.types(run_ids[1])
    for run_id in (run_ids[0], run_ids[2]):
        assert not sequence_problems(inbox.types(run_id), ("agent_started", "agent_completed"))
    assert not integrity_problems(inbox.messages, user_context.user_id, run_ids)


async def test_events_reach_every_connection_of_the_user_only(sut: Any) -> None:
    """A user with two open tabs gets the run on both; a bystander gets nothing."""
    user_context = create_authenticated_user_context(sut, "ws_two_tabs_user")
    bystander = create_authenticated_user_context(sut, "ws_bystander")
    first, second = await sut.connect(user_context.user_id), await sut.connect(user_context.user_id)
    other = await sut.connect(bystander.user_id)
    engine = await sut.engine(user_context)
    result = await engine.execute_agent(
        sut.agent_context(user_context, "supervisor_agent", "Analyze the current system status"),
        user_context,
    )
    assert result.success, result.error
    await sut.settle()
    await engine.cleanup()
    assert first.types() == second.types(), f"tabs differ: {first.types()} vs {second.types()}"
    assert not sequence_problems(first.types(), REQUIRED_EVENTS), first.types()
    assert other.messages == [], f"WEBSOCKET FAILURE: a bystander received {other.types()}"
