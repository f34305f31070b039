"""Threads, messages, runs and their events in SQLite (stdlib sqlite3).

`ChatStore(":memory:")` is private to the store; a file path is shared with
every other store and process opening that file. The schema is created on first
use. One connection per store, guarded by a lock, so the store is safe from
many asyncio tasks and threads; WAL mode and a busy timeout make it safe from
several processes on one file. Every read is scoped by user: a thread of
another user is `ThreadNotFound`, exactly as a missing one.

Both engines write through the same store, so a run started under one
migration state and continued under another reads what the first wrote.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    thread_id  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    title      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id  TEXT NOT NULL REFERENCES threads(thread_id),
    user_id    TEXT NOT NULL,
    role       TEXT NOT NULL,
    content    TEXT NOT NULL,
    run_id     TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages(thread_id, id);
CREATE TABLE IF NOT EXISTS runs (
    user_id    TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    thread_id  TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    status     TEXT NOT NULL,
    engine     TEXT NOT NULL,
    state      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, run_id)
);
CREATE TABLE IF NOT EXISTS events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    type       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_run ON events(user_id, run_id, id);
"""

ROLES = ("user", "assistant", "system")


class ThreadNotFound(LookupError):
    """No thread with that id belongs to that user."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class ChatStore:
    """The chat history of all users, every read and write scoped by user."""

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, timeout: float = 10.0):
        self.path = os.fspath(path)
        self.timeout = timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    # ------------------------------------------------------------------ connection

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, check_same_thread=False, isolation_level=None
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def _write(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        with self._lock:
            conn = self._connection()
            # BEGIN IMMEDIATE takes the write lock up front, so concurrent processes
            # wait on the busy timeout instead of failing mid-transaction.
            conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = conn.execute(sql, params)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return cursor

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._connection().execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> ChatStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ threads

    def create_thread(self, user_id: str, title: str = "", thread_id: str | None = None) -> str:
        """A new thread for `user_id`; returns its id (given, or a fresh one)."""
        new_id = thread_id or f"thread_{uuid.uuid4().hex}"
        try:
            self._write(
                "INSERT INTO threads(thread_id, user_id, title, created_at) VALUES (?, ?, ?, ?)",
                (new_id, user_id, title, _now()),
            )
        except sqlite3.IntegrityError as exc:
            msg = f"thread {new_id!r} already exists; pick another id or use ensure_thread"
            raise ValueError(msg) from exc
        return new_id

    def ensure_thread(self, thread_id: str, user_id: str, title: str = "") -> dict[str, Any]:
        """The user's thread `thread_id`, created if nobody has it; another user's is refused."""
        with self._lock:
            self._write(
                "INSERT OR IGNORE INTO threads(thread_id, user_id, title, created_at) "
                "VALUES (?, ?, ?, ?)",
                (thread_id, user_id, title, _now()),
            )
            return self.get_thread(thread_id, user_id)

    def get_thread(self, thread_id: str, user_id: str) -> dict[str, Any]:
        rows = self._read(
            "SELECT thread_id, user_id, title, created_at FROM threads "
            "WHERE thread_id = ? AND user_id = ?",
            (thread_id, user_id),
        )
        if not rows:
            msg = f"thread {thread_id!r} not found for user {user_id!r}"
            raise ThreadNotFound(msg)
        return dict(rows[0])

    def list_threads(self, user_id: str) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT thread_id, user_id, title, created_at FROM threads WHERE user_id = ? "
            "ORDER BY created_at, thread_id",
            (user_id,),
        )
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------ messages

    def add_message(
        self, thread_id: str, user_id: str, role: str, content: str, run_id: str | None = None
    ) -> int:
        """Append a message to the user's thread; returns its id."""
        if role not in ROLES:
            msg = f"unknown message role {role!r}; use one of {', '.join(ROLES)}"
            raise ValueError(msg)
        with self._lock:
            self.get_thread(thread_id, user_id)
            cursor = self._write(
                "INSERT INTO messages(thread_id, user_id, role, content, run_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (thread_id, user_id, role, content, run_id, _now()),
            )
            return int(cursor.lastrowid or 0)

    def list_messages(self, thread_id: str, user_id: str) -> list[dict[str, Any]]:
        """The thread's messages, oldest first (ThreadNotFound for another user's thread)."""
        with self._lock:
            self.get_thread(thread_id, user_id)
            rows = self._read(
                "SELECT id, thread_id, user_id, role, content, run_id, created_at FROM messages "
                "WHERE thread_id = ? AND user_id = ? ORDER BY id",
                (thread_id, user_id),
            )
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------ runs and events

    def record_run(
        self,
        run_id: str,
        thread_id: str,
        user_id: str,
        agent_name: str,
        status: str,
        engine: str,
        state: str,
    ) -> None:
        """Insert or update a run (its status, and the engine and state that ran it)."""
        now = _now()
        self._write(
            "INSERT INTO runs(user_id, run_id, thread_id, agent_name, status, engine, state, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(user_id, run_id) DO UPDATE SET status = excluded.status, "
            "engine = excluded.engine, state = excluded.state, updated_at = excluded.updated_at",
            (user_id, run_id, thread_id, agent_name, status, engine, state, now, now),
        )

    def list_runs(self, user_id: str, thread_id: str | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT run_id, thread_id, user_id, agent_name, status, engine, state, created_at, "
            "updated_at FROM runs WHERE user_id = ?"
        )
        params: tuple[Any, ...] = (user_id,)
        if thread_id is not None:
            sql += " AND thread_id = ?"
            params = (user_id, thread_id)
        return [dict(r) for r in self._read(sql + " ORDER BY rowid", params)]

    def record_event(self, run_id: str, user_id: str, event: dict[str, Any]) -> None:
        """Keep one delivered event (the whole message, as JSON) under the user's run."""
        self._write(
            "INSERT INTO events(run_id, user_id, type, body, created_at) VALUES (?, ?, ?, ?, ?)",
            (run_id, user_id, str(event.get("type", "")), json.dumps(event, default=str), _now()),
        )

    def list_events(self, run_id: str, user_id: str) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT body FROM events WHERE user_id = ? AND run_id = ? ORDER BY id",
            (user_id, run_id),
        )
        return [json.loads(r["body"]) for r in rows]
