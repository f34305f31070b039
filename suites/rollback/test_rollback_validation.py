"""Seed 9: roll the migration back in the middle of a conversation; nothing may be lost.

`test_rollback_scenario`: a user's conversation runs through the chat service in
the cell's state; while an answer is being computed (its run has started and is
waiting at a step) the state is switched back, the way an operator rolls back a
deploy. The run in flight finishes under the state it was rolled back to (its
result says which), the next message is answered by the engine the rolled-back
state builds, and afterwards every message, run and event is still readable —
through a second handle on the store (a new SQLite connection on the file in the
integration env) and by the rolled-back engine, which continues the conversation
from what the newer engine wrote. Two targets: all the way back to deprecated,
and one step back along the rollout order (the cell's state minus its last
migrated component).

`test_partial_migration_state`: from the cell's state, step down the rollout
order one component at a time to deprecated, one message per state in one
thread: every state on the way keeps the golden path (relevant answer, five
events in order for a tool-using agent, history intact).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from suites.support.contexts import create_authenticated_user_context
from suites.support.monitor import REQUIRED_EVENTS, integrity_problems, sequence_problems
from suites.support.waiting import wait_until

ROLLOUT_ORDER = ("engine", "factory", "emitter", "state")


def _state(components: set[str] | frozenset[str]) -> Any:
    from netra_backend.app.core.migration import MigrationState

    return MigrationState(frozenset(components))


def one_step_back(state: Any) -> Any:
    """The state before the last component of `state` (in rollout order) was migrated."""
    migrated = [c for c in ROLLOUT_ORDER if c in state.migrated]
    return _state(set(migrated[:-1]))


def _readable(
    store: Any, user_id: str, thread_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return store.list_messages(thread_id, user_id), store.list_runs(user_id, thread_id)


@pytest.mark.parametrize("target", ["deprecated", "one-step-back"])
async def test_rollback_scenario(sut: Any, target: str) -> None:
    start = sut.state
    rolled_back = _state(set()) if target == "deprecated" else one_step_back(start)
    user = create_authenticated_user_context(sut, "rollback_user")
    thread_id = f"thread_rollback_{user.run_id}"
    inbox = await sut.connect(user.user_id)

    first = await sut.chat.send(user, thread_id, "What is the weather like today?")
    assert first.success, f"ROLLBACK FAILURE: first message failed: {first.error}"

    # The second answer is in flight when the state is switched back. The chat
    # service's bridge tells us synchronously when the run has started.
    started: list[str] = []
    known = {first.run_id}
    sut.chat.bridge.add_observer(
        lambda m: (
            started.append(m["run_id"])
            if m["type"] == "agent_started" and m["run_id"] not in known
            else None
        )
    )
    in_flight = asyncio.ensure_future(
        sut.chat.send(
            user,
            thread_id,
            "Will it rain this evening? Check the system status too",
            agent_name="supervisor_agent",
        )
    )
    await wait_until(lambda: bool(started), "the second run to start")
    assert not in_flight.done(), "the second run finished before the rollback could happen"
    previous = sut.switch(rolled_back)
    assert previous == start
    second = await in_flight
    assert second.success, f"ROLLBACK FAILURE: the run in flight failed: {second.error}"
    assert second.metadata.get("migration") == rolled_back.spec, (
        f"ROLLBACK FAILURE: the run in flight did not follow the rollback: {second.metadata}"
    )

    third = await sut.chat.send(user, thread_id, "And what should I wear?")
    assert third.success, (
        f"ROLLBACK FAILURE: the first message after the rollback failed: {third.error}"
    )
    await sut.settle()

    # Nothing lost: messages, runs and events, read through a second handle on the store.
    runs = [first.run_id, second.run_id, third.run_id]
    store = sut.reopen_store()
    messages, recorded = _readable(store, user.user_id, thread_id)
    assert [(m["role"], m["run_id"]) for m in messages] == [
        (role, run) for run in runs for role in ("user", "assistant")
    ], f"ROLLBACK FAILURE: messages lost or reordered: {messages}"
    assert [m["content"] for m in messages[1::2]] == [r.response for r in (first, second, third)]
    assert {r["run_id"]: r["status"] for r in recorded} == dict.fromkeys(runs, "completed"), (
        f"ROLLBACK FAILURE: runs lost or unfinished: {recorded}"
    )
    assert [r["state"] for r in recorded if r["run_id"] == third.run_id] == [rolled_back.spec]
    for run_id, required in zip(
        runs,
        (
            ("agent_started", "agent_completed"),
            REQUIRED_EVENTS,
            ("agent_started", "agent_completed"),
        ),
        strict=False,
    ):
        stored = [e["type"] for e in store.list_events(run_id, user.user_id)]
        assert not sequence_problems(stored, required), (
            f"ROLLBACK FAILURE: events of {run_id} lost: stored {stored}"
        )
        assert inbox.types(run_id) == stored, (
            f"ROLLBACK FAILURE: {run_id}: the client got {inbox.types(run_id)}, "
            f"the store kept {stored}"
        )
    assert not integrity_problems(inbox.messages, user.user_id, runs)

    # The engine rolled back to reads the conversation the newer engine wrote.
    engine = await sut.engine(user)
    history = [{"role": m["role"], "content": m["content"]} for m in messages]
    result = await engine.execute_agent(
        sut.agent_context(
            user, "triage_agent", "Summarize our chat", metadata={"history": history}
        ),
        user,
    )
    assert result.success, result.error
    assert "Continuing our conversation about" in result.response, (
        f"ROLLBACK FAILURE: the rolled-back engine did not see the history: {result.response}"
    )
    await engine.cleanup()


async def test_partial_migration_state(sut: Any) -> None:
    state = sut.state
    path = [state]
    while path[-1].migrated:
        path.append(one_step_back(path[-1]))
    user = create_authenticated_user_context(sut, "partial_path_user")
    thread_id = f"thread_partial_{user.run_id}"
    inbox = await sut.connect(user.user_id)

    results = []
    for step, current in enumerate(path):
        sut.switch(current)
        text = (
            "What is the weather like today?"
            if step == 0
            else f"Analyze the current system status, step {step}"
        )
        result = await sut.chat.send(user, thread_id, text, agent_name="supervisor_agent")
        assert result.success, f"PARTIAL MIGRATION FAILURE in {current.spec}: {result.error}"
        topic = "weather" if step == 0 else "system status"
        assert topic in result.response.lower(), (
            f"PARTIAL MIGRATION FAILURE in {current.spec}: answer not relevant: {result.response}"
        )
        if step:
            assert "Continuing our conversation about" in result.response, (
                f"PARTIAL MIGRATION FAILURE in {current.spec}: history lost: {result.response}"
            )
        results.append(result)
    await sut.settle()

    for current, result in zip(path, results, strict=False):
        types = inbox.types(result.run_id)
        assert not sequence_problems(types, REQUIRED_EVENTS), (
            f"PARTIAL MIGRATION FAILURE in {current.spec}: events {types}"
        )
    messages = sut.reopen_store().list_messages(thread_id, user.user_id)
    assert len(messages) == 2 * len(path), f"PARTIAL MIGRATION FAILURE: history {messages}"
    runs = sut.reopen_store().list_runs(user.user_id, thread_id)
    assert [r["state"] for r in runs] == [s.spec for s in path], runs
