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

The result check comes first, so with shared state the test fails for that reason
whatever the emitter; with isolated state and the old emitter it fails for the
events; with both migrated it passes.
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


async def test_user_context_contamination_reproduction(sut: Any) -> None:
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
    assert result1.success, f"user1's run failed: {result1.error}"
    assert result2.success, f"user2's run failed: {result2.error}"

    leaked = check_for_user_data_contamination(
        result2, user1_context
    ) + check_for_user_data_contamination(result1, user2_context)
    assert not leaked, f"CRITICAL SECURITY VIOLATION: User data contamination detected: {leaked}"

    misrouted = check_websocket_event_contamination(
        user1_context, user2_context, received_by_user(sut)
    )
    assert not misrouted, f"CRITICAL: WebSocket events sent to wrong user: {misrouted}"

    await engine1.cleanup()
    await engine2.cleanup()
