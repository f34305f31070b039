"""ChatService: a message in, an answer out, everything kept, in any migration state."""

from __future__ import annotations

from pathlib import Path

import pytest
from netra_helpers import FIVE_EVENTS, assert_golden_events

from netra_backend.app.core.migration import switch_migration, use_migration
from netra_backend.app.db.store import ChatStore, ThreadNotFound
from netra_backend.app.services.chat import ChatService
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.manager import RecordingConnection


def _user(n: int) -> UserExecutionContext:
    return UserExecutionContext(user_id=f"user{n}", thread_id=f"thread{n}", run_id=f"run{n}")


@pytest.mark.parametrize("state", ["deprecated", "partial:engine,factory", "ssot"])
async def test_send_answers_streams_and_keeps_everything(state: str) -> None:
    service = ChatService(ChatStore())
    connection = RecordingConnection()
    service.manager.connect("user1", connection)
    with use_migration(state):
        result = await service.send(
            _user(1), "thread1", "Analyze the system status", "supervisor_agent"
        )
    assert result.success, result.error
    assert "system status" in result.response.lower()
    assert_golden_events(connection.types(), tools=True)
    history = service.history(_user(1), "thread1")
    assert [(m["role"], m["run_id"]) for m in history] == [
        ("user", result.run_id),
        ("assistant", result.run_id),
    ]
    assert history[1]["content"] == result.response
    (run,) = service.store.list_runs("user1")
    assert (run["status"], run["state"], run["run_id"]) == ("completed", state, result.run_id)
    stored = [e["type"] for e in service.store.list_events(str(result.run_id), "user1")]
    assert stored == connection.types()
    assert set(FIVE_EVENTS) <= set(stored)


async def test_a_rollback_mid_conversation_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    service = ChatService(ChatStore(path))
    with use_migration("ssot"):
        first = await service.send(_user(1), "thread1", "Will it rain today?")
        switch_migration("deprecated")  # roll back
        second = await service.send(_user(1), "thread1", "And what about tomorrow?")
        switch_migration("ssot")  # roll forward again
        third = await service.send(_user(1), "thread1", "Thanks!")
    assert all(r.success for r in (first, second, third))
    # The deprecated engine read what the SSOT engine wrote, and the other way round.
    assert "Continuing our conversation about weather" in second.response
    reopened = ChatStore(path)
    runs = reopened.list_runs("user1", "thread1")
    assert [(r["engine"], r["state"]) for r in runs] == [
        ("UserExecutionEngine", "ssot"),
        ("ExecutionEngine", "deprecated"),
        ("UserExecutionEngine", "ssot"),
    ]
    assert len(reopened.list_messages("thread1", "user1")) == 6


async def test_threads_belong_to_their_user() -> None:
    service = ChatService(ChatStore())
    with use_migration("ssot"):
        await service.send(_user(1), "thread1", "Hello")
        with pytest.raises(ThreadNotFound):
            await service.send(_user(2), "thread1", "Let me read user1's chat")
    with pytest.raises(ThreadNotFound):
        service.history(_user(2), "thread1")


async def test_deprecated_state_leaks_a_cached_answer_between_users_in_chat() -> None:
    service = ChatService(ChatStore())
    asked = "What is the weather like today?"
    with use_migration("deprecated"):
        await service.send(_user(1), "thread1", asked)
        leaked = await service.send(_user(2), "thread2", asked)
    with use_migration("ssot"):
        clean = await service.send(_user(3), "thread3", asked)
    assert leaked.data is not None
    assert leaked.data["user_id"] == "user1"
    assert clean.data is not None
    assert clean.data["user_id"] == "user3"
