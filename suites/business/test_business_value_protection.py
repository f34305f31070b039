"""Seed 10: the chat, which carries the platform's value, works end to end in every state.

As the product uses it: a logged-in user sends a message, the run's events stream
to the user's client, the final answer is relevant, and the conversation is kept
and scoped to its user: another user can neither read the thread nor hear its
events. Written once against `suites.support.chat`: in process through the
ChatService, in staging through the cell's server over HTTP and WebSocket. In
process the store is also read directly (a second handle on it): the run and the
delivered events are persisted too, and nothing of them is listed for another user.
"""

from __future__ import annotations

from typing import Any

from suites.support.chat import chat_for
from suites.support.monitor import REQUIRED_EVENTS, integrity_problems, sequence_problems


async def test_chat_functionality_90_percent_value(sut: Any) -> None:
    chat = chat_for(sut)
    # The bystander connects first: a fault that sends events to "the first connected
    # user" must not pass for correct routing.
    other = await chat.login("chat_other_user")
    user = await chat.login("chat_user")

    text = "What is the weather like today?"
    turn = await chat.send(user, text)
    assert turn.success, f"BUSINESS FAILURE: chat failed: {turn.error}"
    answer = turn.response
    assert len(answer) > 10, f"BUSINESS FAILURE: answer too short: {answer!r}"
    assert "weather" in answer.lower(), f"BUSINESS FAILURE: answer not relevant: {answer}"

    streamed = turn.types()
    assert not sequence_problems(
        streamed, ("agent_started", "agent_thinking", "agent_completed")
    ), f"BUSINESS FAILURE: events not streamed in order: {streamed}"
    completed = turn.events[-1]
    assert completed["payload"]["result"]["response"] == answer, (
        "BUSINESS FAILURE: final answer not streamed"
    )
    assert not integrity_problems(chat.heard(user), user.user_id, [turn.run_id])
    heard = [m.get("type") for m in chat.heard(other)]
    assert heard == [], f"BUSINESS FAILURE: another user heard {heard}"

    history = await chat.history(user, turn.thread_id)
    assert history == [("user", text), ("assistant", answer)], (
        f"BUSINESS FAILURE: history not persisted: {history}"
    )
    foreign = await chat.history(other, turn.thread_id)
    assert foreign is None, f"BUSINESS FAILURE: another user read the thread: {foreign}"

    if not chat.remote:
        store = sut.reopen_store()
        runs = store.list_runs(user.user_id, turn.thread_id)
        assert [(r["run_id"], r["status"]) for r in runs] == [(turn.run_id, "completed")], runs
        assert [e["type"] for e in store.list_events(turn.run_id, user.user_id)] == streamed
        assert store.list_runs(other.user_id) == []
        assert store.list_events(turn.run_id, other.user_id) == []


async def test_500k_arr_functionality_protection(sut: Any) -> None:
    """Three customers one after another, each two turns, the follow-up by a tool-using agent."""
    chat = chat_for(sut)
    customers = [await chat.login(f"customer_{i}") for i in range(3)]
    turns: dict[str, list[Any]] = {}
    for i, customer in enumerate(customers):
        first = await chat.send(customer, f"What is the weather like today in region {i}?")
        assert first.success, f"BUSINESS FAILURE: {first.error}"
        follow = await chat.send(
            customer,
            f"What does the cost of workload {i} look like?",
            thread_id=first.thread_id,
            agent_name="supervisor_agent",
        )
        assert follow.success, f"BUSINESS FAILURE: {follow.error}"
        assert "weather" in first.response.lower(), first.response
        assert "cost" in follow.response.lower(), follow.response
        assert f"workload {i}" in follow.response, (
            f"BUSINESS FAILURE: answer for another customer: {follow.response}"
        )
        assert "Continuing our conversation about weather" in follow.response, (
            f"BUSINESS FAILURE: the follow-up lost the conversation: {follow.response}"
        )
        turns[customer.user_id] = [first, follow]

    for i, customer in enumerate(customers):
        first, follow = turns[customer.user_id]
        history = await chat.history(customer, first.thread_id)
        assert history is not None, f"BUSINESS FAILURE: {customer.name} lost the thread"
        assert [role for role, _ in history] == ["user", "assistant", "user", "assistant"], history
        assert [content for _, content in history] == [
            first.text,
            first.response,
            follow.text,
            follow.response,
        ], history
        assert all(f"region {i}" in c or f"workload {i}" in c for _, c in history[::2])
        assert not sequence_problems(follow.types(), REQUIRED_EVENTS), follow.types()
        assert not integrity_problems(
            chat.heard(customer), customer.user_id, [first.run_id, follow.run_id]
        )
        for other in customers:
            if other is not customer:
                assert await chat.history(other, first.thread_id) is None

    if not chat.remote:
        store = sut.reopen_store()
        for customer in customers:
            first, follow = turns[customer.user_id]
            assert [t["thread_id"] for t in store.list_threads(customer.user_id)] == [
                first.thread_id
            ]
            runs = store.list_runs(customer.user_id, first.thread_id)
            assert [r["status"] for r in runs] == ["completed", "completed"], runs
            for other in customers:
                if other is not customer:
                    assert store.list_runs(other.user_id, first.thread_id) == []
