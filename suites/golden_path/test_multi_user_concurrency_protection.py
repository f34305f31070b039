"""Seed 3.2: five users at once, two agents each, all answered and none contaminated.

Each user's words differ ("... from user 3"), so even the deprecated engine's
shared cache never hands one user another's answer: the golden path holds in
every state. (Identical words are the reproduction suite's business.)

In staging the five users are five accounts on the cell's server, each on its own
WebSocket, all sending at once. As in process, the answers are checked, not the
events: a server in a state without the per-user emitter routes interleaved runs'
events to each other's users (the reproduction suite's finding), while each answer
goes to its own user in every state.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from suites.support.chat import chat_for
from suites.support.contexts import create_authenticated_user_context

NUM_CONCURRENT_USERS = 5
AGENTS_TO_TEST = ("triage_agent", "data_helper_agent")


async def simulate_user_session(
    sut: Any, user_context: Any, user_id: int
) -> tuple[int, list[tuple[str, Any]]]:
    engine = await sut.engine(user_context)
    user_results = []
    for agent_name in AGENTS_TO_TEST:
        agent_context = sut.agent_context(
            user_context,
            agent_name,
            f"Test query for {agent_name} from user {user_id}",
            run_id=f"{user_context.run_id}_{agent_name}",
            metadata={"user_session": user_id, "concurrent_test": True},
        )
        result = await engine.execute_agent(agent_context, user_context)
        user_results.append((agent_name, result))
    await engine.cleanup()
    return user_id, user_results


async def test_concurrent_users_golden_path(sut: Any) -> None:
    if sut.remote:
        await _concurrent_users_over_the_wire(chat_for(sut))
        return
    user_contexts = [
        create_authenticated_user_context(sut, f"concurrent_user_{i}")
        for i in range(NUM_CONCURRENT_USERS)
    ]
    start_time = time.perf_counter()
    all_user_results = await asyncio.gather(
        *(simulate_user_session(sut, context, i) for i, context in enumerate(user_contexts))
    )
    total_time = time.perf_counter() - start_time
    assert total_time < 30.0, (
        f"CONCURRENT USER FAILURE: {NUM_CONCURRENT_USERS} users took {total_time:.1f}s"
    )

    for user_id, user_results in all_user_results:
        assert [name for name, _ in user_results] == list(AGENTS_TO_TEST)
        for agent_name, result in user_results:
            assert result.success, (
                f"CONCURRENT USER FAILURE: User {user_id} agent {agent_name} failed"
            )
            assert f"user {user_id}" in str(result.data), (
                f"ISOLATION FAILURE: User {user_id} data not found in result"
            )
    for user_id, user_results in all_user_results:
        for _, result in user_results:
            for other_user_id in range(NUM_CONCURRENT_USERS):
                if other_user_id != user_id:
                    assert f"user {other_user_id}" not in str(result.data), (
                        f"CONTAMINATION FAILURE: User {other_user_id} data found "
                        f"in User {user_id} result"
                    )


async def _concurrent_users_over_the_wire(chat: Any) -> None:
    users = [await chat.login(f"concurrent_user_{i}") for i in range(NUM_CONCURRENT_USERS)]

    async def session(user: Any, user_id: int) -> tuple[int, list[tuple[str, Any]]]:
        turns = []
        for agent_name in AGENTS_TO_TEST:
            text = f"Test query for {agent_name} from user {user_id}"
            turns.append((agent_name, await chat.send(user, text, agent_name=agent_name)))
        return user_id, turns

    start_time = time.perf_counter()
    all_user_results = await asyncio.gather(*(session(u, i) for i, u in enumerate(users)))
    total_time = time.perf_counter() - start_time
    assert total_time < 30.0, (
        f"CONCURRENT USER FAILURE: {NUM_CONCURRENT_USERS} users took {total_time:.1f}s"
    )
    for user_id, turns in all_user_results:
        assert [name for name, _ in turns] == list(AGENTS_TO_TEST)
        for agent_name, turn in turns:
            assert turn.success, (
                f"CONCURRENT USER FAILURE: User {user_id} agent {agent_name} failed: {turn.error}"
            )
            assert f"user {user_id}" in turn.response, (
                f"ISOLATION FAILURE: User {user_id} data not found in answer {turn.response!r}"
            )
            for other_user_id in range(NUM_CONCURRENT_USERS):
                if other_user_id != user_id:
                    assert f"user {other_user_id}" not in turn.response, (
                        f"CONTAMINATION FAILURE: User {other_user_id} data found "
                        f"in User {user_id} answer"
                    )
