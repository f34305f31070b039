"""Seed 10, continued: the chat store's promises, one test each (docs/netra_backend_api.md).

The conversation is the product's value, and the store keeps it for both engines:
threads are their user's (another user's is `ThreadNotFound`, exactly as a missing
one), a run's record is updated in place, events are listed per run and user. The
store is the same in every migration state, so every promise holds in every state:
matrix.yaml's default (pass) is their rule. In process only: staging reaches the
store through the server's routes, which the staging and business chat tests use.
"""

from __future__ import annotations

from typing import Any

import pytest

from suites.support.chat import is_remote


@pytest.fixture
def store(sut: Any, cell: Any) -> Any:
    if is_remote(cell):
        pytest.skip("the store is read in process; staging reaches it through the server")
    return sut.reopen_store()


def test_a_thread_is_its_users_only(store: Any) -> None:
    from netra_backend.app.db.store import ThreadNotFound

    thread = store.create_thread("store_alice", title="plans")
    assert store.get_thread(thread, "store_alice")["title"] == "plans"
    with pytest.raises(ThreadNotFound):
        store.get_thread(thread, "store_bob")


def test_another_users_thread_cannot_be_joined(store: Any) -> None:
    from netra_backend.app.db.store import ThreadNotFound

    thread = store.create_thread("store_alice")
    with pytest.raises(ThreadNotFound):
        store.ensure_thread(thread, "store_bob")


def test_messages_and_threads_are_listed_for_their_user_only(store: Any) -> None:
    from netra_backend.app.db.store import ThreadNotFound

    thread = store.create_thread("store_alice")
    store.add_message(thread, "store_alice", "user", "hello")
    assert [m["content"] for m in store.list_messages(thread, "store_alice")] == ["hello"]
    with pytest.raises(ThreadNotFound):
        store.list_messages(thread, "store_bob")
    assert [t["thread_id"] for t in store.list_threads("store_alice")] == [thread]
    assert store.list_threads("store_bob") == []


def test_a_run_record_is_updated_in_place(store: Any) -> None:
    thread = store.create_thread("store_alice")
    store.record_run("run_s1", thread, "store_alice", "triage_agent", "running", "E1", "deprecated")
    store.record_run("run_s1", thread, "store_alice", "triage_agent", "completed", "E2", "ssot")
    runs = store.list_runs("store_alice", thread)
    assert [(r["run_id"], r["status"], r["engine"], r["state"]) for r in runs] == [
        ("run_s1", "completed", "E2", "ssot")
    ]
    assert store.list_runs("store_bob") == []


def test_events_are_listed_per_run_and_user(store: Any) -> None:
    store.record_event("run_e1", "store_alice", {"type": "agent_started"})
    store.record_event("run_e1", "store_alice", {"type": "agent_completed"})
    store.record_event("run_e2", "store_alice", {"type": "agent_started"})
    assert [e["type"] for e in store.list_events("run_e1", "store_alice")] == [
        "agent_started",
        "agent_completed",
    ]
    assert store.list_events("run_e1", "store_bob") == []
