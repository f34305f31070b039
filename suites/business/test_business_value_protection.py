"""Seed 10: the chat, which carries the platform's value, works end to end in every state.

Through the ChatService, as the product uses it: a logged-in user sends a
message, the run's events stream to the user's client, the final answer is
relevant, and the conversation (messages, run, events) is persisted and scoped
to its user: another user can neither read the thread nor hear its events.
"""

from __future__ import annotations

from typing import Any

import pytest

from suites.support.contexts import create_authenticated_user_context
from suites.support.monitor import REQUIRED_EVENTS, integrity_problems, sequence_problems


async def test_chat_functionality_90_percent_value(sut: Any) -> None:
    from netra_backend.app.db.store import ThreadNotFound

    user = create_authenticated_user_context(sut, "chat_user")
    other = create_authenticated_user_context(sut, "chat_other_user")
    inbox = await sut.connect(user.user_id)
    other_inbox = await sut.connect(other.user_id)
    thread_id = f"thread_chat_{user.run_id}"

    result = await sut.chat.send(user, thread_id, "What is the weather like today?")
    assert result.success, f"BUSINESS FAILURE: chat failed: {result.error}"
    answer = result.response
    assert len(answer) > 10, f"BUSINESS FAILURE: answer too short: {answer!r}"
    assert "weather" in answer.lower(), f"BUSINESS FAILURE: answer not relevant: {answer}"
    await sut.settle()

    streamed = inbox.types(result.run_id)
    assert not sequence_problems(
        streamed, ("agent_started", "agent_thinking", "agent_completed")
    ), f"BUSINESS FAILURE: events not streamed in order: {streamed}"
    completed = inbox.for_run(result.run_id)[-1]
    assert completed["payload"]["result"]["response"] == answer, (
        "BUSINESS FAILURE: final answer not streamed"
    )
    assert not integrity_problems(inbox.messages, user.user_id, [result.run_id])
    assert other_inbox.messages == [], f"BUSINESS FAILURE: another user heard {other_inbox.types()}"

    store = sut.reopen_store()
    history = store.list_messages(thread_id, user.user_id)
    assert [(m["role"], m["content"]) for m in history] == [
        ("user", "What is the weather like today?"),
        ("assistant", answer),
    ], f"BUSINESS FAILURE: history not persisted: {history}"
    runs = store.list_runs(user.user_id, thread_id)
    assert [(r["run_id"], r["status"]) for r in runs] == [(result.run_id, "completed")], runs
    assert [e["type"] for e in store.list_events(result.run_id, user.user_id)] == streamed

    with pytest.raises(ThreadNotFound):
        sut.chat.history(other, thread_id)
    assert store.list_runs(other.user_id) == []
    assert store.list_events(result.run_id, other.user_id) == []


async def test_500k_arr_functionality_protection(sut: Any) -> None:
    """Three customers one after another, each two turns, the follow-up by a tool-using agent."""
    customers = [create_authenticated_user_context(sut, f"customer_{i}") for i in range(3)]
    inboxes = {c.user_id: await sut.connect(c.user_id) for c in customers}
    threads = {}
    for i, customer in enumerate(customers):
        thread_id = f"thread_customer_{i}_{customer.run_id}"
        threads[customer.user_id] = thread_id
        first = await sut.chat.send(
            customer, thread_id, f"What is the weather like today in region {i}?"
        )
        follow = await sut.chat.send(
            customer,
            thread_id,
            f"What does the cost of workload {i} look like?",
            agent_name="supervisor_agent",
        )
        assert first.success, f"BUSINESS FAILURE: {first.error}"
        assert follow.success, f"BUSINESS FAILURE: {follow.error}"
        assert "weather" in first.response.lower(), first.response
        assert "cost" in follow.response.lower(), follow.response
        assert f"workload {i}" in follow.response, (
            f"BUSINESS FAILURE: answer for another customer: {follow.response}"
        )
        assert "Continuing our conversation about weather" in follow.response, (
            f"BUSINESS FAILURE: the follow-up lost the conversation: {follow.response}"
        )
    await sut.settle()

    store = sut.reopen_store()
    for i, customer in enumerate(customers):
        thread_id = threads[customer.user_id]
        messages = store.list_messages(thread_id, customer.user_id)
        assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"], messages
        assert all(
            f"region {i}" in m["content"] or f"workload {i}" in m["content"] for m in messages[::2]
        )
        assert [t["thread_id"] for t in store.list_threads(customer.user_id)] == [thread_id]
        runs = store.list_runs(customer.user_id, thread_id)
        assert [r["status"] for r in runs] == ["completed", "completed"], runs
        inbox = inboxes[customer.user_id]
        assert not sequence_problems(inbox.types(runs[1]["run_id"]), REQUIRED_EVENTS), inbox.types()
        assert not integrity_problems(inbox.messages, customer.user_id, [r["run_id"] for r in runs])
        for other in customers:
            if other is not customer:
                assert store.list_runs(other.user_id, thread_id) == []
