"""suites.support.rollback: data loss named item by item."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from suites.support.rollback import Ledger, lost_data

from netra_backend.app.db.store import ChatStore


def _result(run_id: str, response: str) -> SimpleNamespace:
    return SimpleNamespace(success=True, response=response, error=None, run_id=run_id)


def _conversation(store: ChatStore) -> Ledger:
    """Two turns of alice in thread t1, written to `store` the way the chat service does."""
    ledger = Ledger()
    store.create_thread("alice", thread_id="t1")
    for run_id, text, answer in (("r1", "hello?", "hi alice"), ("r2", "rain?", "no rain")):
        store.add_message("t1", "alice", "user", text, run_id)
        store.add_message("t1", "alice", "assistant", answer, run_id)
        store.record_run(run_id, "t1", "alice", "triage_agent", "completed", "E", "ssot")
        for kind in ("agent_started", "agent_completed"):
            store.record_event(run_id, "alice", {"type": kind, "run_id": run_id})
        ledger.turn(
            "alice", "t1", text, _result(run_id, answer), ["agent_started", "agent_completed"]
        )
    return ledger


def test_nothing_lost_is_an_empty_list() -> None:
    store = ChatStore()
    assert lost_data(_conversation(store), store, "ssot -> deprecated") == []


def test_lost_messages_runs_and_events_are_each_named(tmp_path: Path) -> None:
    written = ChatStore(tmp_path / "before.db")
    ledger = _conversation(written)
    # The store after a bad rollback: only the first turn survived, without its completion event.
    after = ChatStore(tmp_path / "after.db")
    after.create_thread("alice", thread_id="t1")
    after.add_message("t1", "alice", "user", "hello?", "r1")
    after.add_message("t1", "alice", "assistant", "hi alice", "r1")
    after.record_run("r1", "t1", "alice", "triage_agent", "running", "E", "ssot")
    after.record_event("r1", "alice", {"type": "agent_started", "run_id": "r1"})

    lost = lost_data(ledger, after, "ssot -> deprecated")
    assert lost == [
        "2 messages of thread t1 (user alice) not readable after ssot -> deprecated: "
        "['rain?', 'no rain']",
        "1 run of thread t1 (user alice) not readable after ssot -> deprecated: ['r2']",
        "runs of thread t1 (user alice) not completed after ssot -> deprecated: {'r1': 'running'}",
        "1 event of run r1 (user alice) not readable after ssot -> deprecated: ['agent_completed']",
        "2 events of run r2 (user alice) not readable after ssot -> deprecated: "
        "['agent_completed', 'agent_started']",
    ]
