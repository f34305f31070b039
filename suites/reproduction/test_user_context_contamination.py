"""Seed 1.2: two users at once through the deprecated engine leak into each other.

Both users ask the same agent the same question at the same time, each with
their own engine (built the way the state builds engines) and their own live
WebSocket client. Two things can go wrong, each owned by one component:

- results (component `state`, feature isolated-state): a shared response cache
  keyed without the user hands user 2 the answer computed for user 1, with user
  1's ids in it -> "CRITICAL SECURITY VIOLATION";
- events (component `emitter`, feature user-emitter): routing by a process-wide
  "current run" sends one user's events to the other -> "CRITICAL: WebSocket
  events sent to wrong user".

Each failure mode has its own test, with its own expectation in matrix.yaml: one
scenario (both users at once, the same question), checked for results in one test
and for events in the other. A single test checking both would stop at the first
failed assertion, and the second mode would never be judged in the states where the
first one fails (a fault in the events of a shared-state state would go unseen).
"""

from __future__ import annotations

import asyncio
from typing import Any

from suites.support.contamination import (
    check_for_user_data_contamination,
    check_websocket_event_contamination,
)
from suites.support.relay_view import received_by_user

QUESTION = "Analyze the data usage of my account"


async def execute_user_agent(sut: Any, engine: Any, user_context: Any) -> Any:
    agent_context = sut.agent_context(
        user_context, "supervisor_agent", QUESTION, metadata={"account": user_context.user_id}
    )
    return await engine.execute_agent(agent_context, user_context)


async def contaminated_scenario(sut: Any) -> tuple[Any, Any, Any, Any]:
    """Both users at once; (user1, user2, result1, result2) once the events settled."""
    user1_context = sut.user("user1", thread_id="thread1", run_id="run1")
    user2_context = sut.user("user2", thread_id="thread2", run_id="run2")
    await sut.connect(user1_context.user_id)
    await sut.connect(user2_context.user_id)

    engine1 = await sut.engine(user1_context)
    engine2 = await sut.engine(user2_context)

    task1 = asyncio.create_task(execute_user_agent(sut, engine1, user1_context))
    task2 = asyncio.create_task(execute_user_agent(sut, engine2, user2_context))
    result1, result2 = await asyncio.gather(task1, task2)
    await sut.settle()
    await engine1.cleanup()
    await engine2.cleanup()
    assert result1.success, f"user1's run failed: {result1.error}"
    assert result2.success, f"user2's run failed: {result2.error}"
    return user1_context, user2_context, result1, result2


async def test_user_context_contamination_results(sut: Any) -> None:
    """Results: neither user's answer holds the other user's data (component `state`)."""
    user1_context, user2_context, result1, result2 = await contaminated_scenario(sut)
    leaked = check_for_user_data_contamination(
        result2, user1_context
    ) + check_for_user_data_contamination(result1, user2_context)
    assert not leaked, f"CRITICAL SECURITY VIOLATION: User data contamination detected: {leaked}"


async def test_user_context_contamination_events(sut: Any) -> None:
    """Events: each user gets exactly their own run's events (component `emitter`)."""
    user1_context, user2_context, _, _ = await contaminated_scenario(sut)
    misrouted = check_websocket_event_contamination(
        user1_context, user2_context, received_by_user(sut)
    )
    assert not misrouted, f"CRITICAL: WebSocket events sent to wrong user: {misrouted}"
