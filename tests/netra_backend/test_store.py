"""ChatStore on real SQLite: scoping by user, runs and events, shared files, several processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from netra_backend.app.db.store import ChatStore, ThreadNotFound


def test_threads_and_messages_are_scoped_by_user() -> None:
    store = ChatStore()
    thread = store.create_thread("alice", "Weather")
    store.add_message(thread, "alice", "user", "Will it rain?", run_id="run1")
    store.add_message(thread, "alice", "assistant", "No.", run_id="run1")
    assert [m["content"] for m in store.list_messages(thread, "alice")] == ["Will it rain?", "No."]
    assert store.get_thread(thread, "alice")["title"] == "Weather"
    for call in (
        lambda: store.get_thread(thread, "bob"),
        lambda: store.list_messages(thread, "bob"),
        lambda: store.add_message(thread, "bob", "user", "let me in"),
    ):
        with pytest.raises(ThreadNotFound, match="'bob'"):
            call()
    assert [t["thread_id"] for t in store.list_threads("alice")] == [thread]
    assert store.list_threads("bob") == []


def test_bad_roles_and_duplicate_ids_are_refused() -> None:
    store = ChatStore()
    store.create_thread("alice", thread_id="t1")
    with pytest.raises(ValueError, match="'robot'"):
        store.add_message("t1", "alice", "robot", "beep")
    with pytest.raises(ValueError, match="'t1' already exists"):
        store.create_thread("bob", thread_id="t1")
    assert store.ensure_thread("t1", "alice")["user_id"] == "alice"
    with pytest.raises(ThreadNotFound):
        store.ensure_thread("t1", "bob")


def test_runs_are_upserted_and_events_kept_in_order() -> None:
    store = ChatStore()
    store.create_thread("alice", thread_id="t1")
    store.record_run(
        "run1", "t1", "alice", "triage_agent", "running", "ExecutionEngine", "deprecated"
    )
    store.record_run("run1", "t1", "alice", "triage_agent", "completed", "ExecutionEngine", "ssot")
    store.record_run(
        "run1", "t9", "bob", "triage_agent", "completed", "UserExecutionEngine", "ssot"
    )
    (run,) = store.list_runs("alice")
    assert (run["status"], run["state"]) == ("completed", "ssot")
    assert store.list_runs("alice", thread_id="t9") == []
    for kind in ("agent_started", "agent_completed"):
        store.record_event("run1", "alice", {"type": kind, "payload": {"x": 1}})
    assert [e["type"] for e in store.list_events("run1", "alice")] == [
        "agent_started",
        "agent_completed",
    ]
    assert store.list_events("run1", "bob") == []


def test_two_stores_on_one_file_read_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "chat.db"
    with ChatStore(path) as writer, ChatStore(str(path)) as reader:
        writer.create_thread("alice", thread_id="t1")
        writer.add_message("t1", "alice", "user", "hello")
        assert [m["content"] for m in reader.list_messages("t1", "alice")] == ["hello"]
    with ChatStore(path) as reopened:
        assert len(reopened.list_messages("t1", "alice")) == 1


def test_memory_stores_are_private() -> None:
    ChatStore().create_thread("alice", thread_id="t1")
    with pytest.raises(ThreadNotFound):
        ChatStore().get_thread("t1", "alice")


async def test_many_tasks_write_through_one_store() -> None:
    store = ChatStore()
    store.create_thread("alice", thread_id="t1")

    async def write(i: int) -> None:
        await asyncio.sleep(0)
        store.add_message("t1", "alice", "user", f"m{i}")

    await asyncio.gather(*(write(i) for i in range(100)))
    assert len(store.list_messages("t1", "alice")) == 100


@pytest.mark.slow  # four writer processes
def test_several_processes_write_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    worker = textwrap.dedent(
        """
        import sys
        from netra_backend.app.db.store import ChatStore
        store = ChatStore(sys.argv[1])
        user = sys.argv[2]
        store.ensure_thread("thread_" + user, user)
        for i in range(40):
            store.add_message("thread_" + user, user, "user", f"{user} {i}")
            store.record_event(f"run_{i}", user, {"type": "agent_started"})
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", worker, str(path), f"user{n}"], stderr=subprocess.PIPE
        )
        for n in range(4)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    store = ChatStore(path)
    for n in range(4):
        assert len(store.list_messages(f"thread_user{n}", f"user{n}")) == 40
        assert len(store.list_events("run_7", f"user{n}")) == 1
