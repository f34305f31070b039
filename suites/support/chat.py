"""One chat, reached two ways: in process (the cell's system under test) or over the wire.

The golden_path, business and rollback suites run in every env; in staging there
is no engine to call, only a server to talk to. What they check there is the
product as a user sees it: log in, send a message, receive the run's events and
the answer on the user's socket, read the thread's history back, and be refused
another user's thread. `LocalChat` does that through the system under test's
ChatService and a client inbox; `RemoteChat` through a real server: HTTP (httpx)
for login and history, one real WebSocket (websockets) per logged-in user.

Both give the same small interface, so a test's over-the-wire path is written
once against it:

- `await chat.login(name)` -> `ChatUser` (in staging the next free account of the
  pool: `name` is only a label, the server knows the account's own id);
- `await chat.send(user, text, thread_id=None, agent_name=...)` -> `Turn` (a new
  thread when `thread_id` is None; the events the user's client received for the
  run, then the answer);
- `await chat.history(user, thread_id)` -> the thread's messages as
  `[(role, content), ...]`, or None when the user may not read it (404 / not found);
- `chat.heard(user)` -> every agent event the user's client received so far.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
import uuid
import zlib
from typing import Any

from suites.support.staging import (
    ANSWER_TIMEOUT,
    StagingClient,
    http_client,
    staging_accounts,
    ws_url,
)


@dataclasses.dataclass
class ChatUser:
    """A logged-in user: the label the test gave it and the id the system knows it by."""

    name: str
    user_id: str
    handle: Any = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass
class Turn:
    """One message sent and what came back for it."""

    user: ChatUser
    text: str
    thread_id: str
    run_id: str
    response: str
    success: bool
    error: str | None
    events: list[dict[str, Any]]

    def types(self) -> list[str]:
        return [str(e.get("type")) for e in self.events]


class LocalChat:
    """The chat of an in-process system under test (`SystemUnderTest.chat`)."""

    remote = False

    def __init__(self, sut: Any) -> None:
        self.sut = sut
        self._inboxes: dict[str, Any] = {}

    async def login(self, name: str) -> ChatUser:
        from suites.support.contexts import create_authenticated_user_context

        context = create_authenticated_user_context(self.sut, name)
        self._inboxes[context.user_id] = await self.sut.connect(context.user_id)
        return ChatUser(name, str(context.user_id), context)

    async def send(
        self,
        user: ChatUser,
        text: str,
        *,
        thread_id: str | None = None,
        agent_name: str = "triage_agent",
    ) -> Turn:
        thread = thread_id or f"thread_{user.user_id}_{uuid.uuid4().hex[:12]}"
        result = await self.sut.chat.send(user.handle, thread, text, agent_name=agent_name)
        await self.sut.settle()
        events = self._inboxes[user.user_id].for_run(result.run_id)
        return Turn(
            user=user,
            text=text,
            thread_id=thread,
            run_id=str(result.run_id),
            response=str(result.response or ""),
            success=bool(result.success),
            error=result.error,
            events=events,
        )

    async def history(self, user: ChatUser, thread_id: str) -> list[tuple[str, str]] | None:
        from netra_backend.app.db.store import ThreadNotFound

        try:
            messages = self.sut.chat.history(user.handle, thread_id)
        except ThreadNotFound:
            return None
        return [(str(m["role"]), str(m["content"])) for m in messages]

    def heard(self, user: ChatUser) -> list[dict[str, Any]]:
        return list(self._inboxes[user.user_id].messages)

    async def aclose_in_loop(self) -> None:
        return None


class _Socket:
    """One user's WebSocket and a reader task that keeps everything it receives."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())
        self.closed_reason: str | None = None

    async def _read(self) -> None:
        try:
            async for frame in self.connection:
                self.messages.append(json.loads(frame))
                self._arrived.set()
        except Exception as exc:  # the server went away: say so to whoever waits
            self.closed_reason = f"{type(exc).__name__}: {exc}"
        else:
            self.closed_reason = "connection closed"
        self._arrived.set()

    async def answer(self, ref: str, timeout: float) -> dict[str, Any]:
        """The `agent_response` (or `error`) carrying the client's message id `ref`."""

        async def wait() -> dict[str, Any]:
            while True:
                for message in self.messages:
                    if message.get("id") == ref and message.get("type") in (
                        "agent_response",
                        "error",
                    ):
                        return message
                if self.closed_reason is not None:
                    msg = (
                        f"E2E STAGING FAILURE: the socket closed before the answer to "
                        f"message {ref} ({self.closed_reason})"
                    )
                    raise AssertionError(msg)
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


def _rotated(accounts: list[tuple[str, str]], test: str) -> list[tuple[str, str]]:
    """The pool, starting at an account chosen by the test's id (stable across runs).

    Every test used to log in first with the pool's first account, so a fault that
    sends events to "the first connected user" reached the right user by chance. A
    per-test starting point spreads the tests over the accounts.
    """
    if not accounts:
        return accounts
    node = test.rsplit(" (", 1)[0].split("[", 1)[0]
    start = zlib.crc32(node.encode()) % len(accounts)
    return accounts[start:] + accounts[:start]


class RemoteChat:
    """The chat of a running server at `base_url`, one pooled account per `login`
    (the pool rotated per test, see `_rotated`).

    `tokens` is a login cache (see `StagingClient`); a server started by the test
    itself passes its own. Call `aclose_in_loop()` at the end (the suites' conftest
    does, for a fixture value).
    """

    remote = True

    def __init__(
        self, base_url: str, tokens: dict[tuple[str, str, str], tuple[str, str]] | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._accounts = _rotated(staging_accounts(), os.environ.get("PYTEST_CURRENT_TEST", ""))
        self._next = 0
        self._http: Any = None
        self._sockets: dict[str, _Socket] = {}
        self._refs = itertools.count(1)

    def _client(self) -> StagingClient:
        if self._http is None:
            self._http = http_client()
        return StagingClient(self.base_url, self._http, self._tokens)

    async def login(self, name: str) -> ChatUser:
        if self._next >= len(self._accounts):
            msg = (
                f"E2E STAGING FAILURE: the test logs in more users than the {len(self._accounts)} "
                "staging accounts (STAGING_USERS, or NETRA_BOOTSTRAP_USERS in matrix.yaml); "
                "add accounts there"
            )
            raise AssertionError(msg)
        username, password = self._accounts[self._next]
        self._next += 1
        client = self._client()
        await client.login(username, password)
        user = ChatUser(name, client.user_id, client)
        await self._connect(user)
        return user

    async def _connect(self, user: ChatUser) -> None:
        from websockets.asyncio.client import connect

        client: StagingClient = user.handle
        from urllib.parse import quote

        connection = await connect(f"{ws_url(self.base_url)}/ws?token={quote(client.token)}")
        self._sockets[user.user_id] = _Socket(connection)

    async def reconnect(self, user: ChatUser) -> None:
        """A new socket for `user` (after a server restart), keeping what the old one got."""
        old = self._sockets.get(user.user_id)
        await self._connect(user)
        if old is not None:
            self._sockets[user.user_id].messages[:0] = old.messages
            await old.close()

    async def send(
        self,
        user: ChatUser,
        text: str,
        *,
        thread_id: str | None = None,
        agent_name: str = "triage_agent",
        timeout: float = ANSWER_TIMEOUT,
    ) -> Turn:
        ref = await self.submit(user, text, thread_id=thread_id, agent_name=agent_name)
        return await self.turn(user, text, ref, timeout=timeout)

    async def submit(
        self,
        user: ChatUser,
        text: str,
        *,
        thread_id: str | None = None,
        agent_name: str = "triage_agent",
    ) -> str:
        """Send a message without waiting; `turn(user, text, ref)` collects its answer."""
        ref = f"m{next(self._refs)}"
        frame = {
            "type": "user_message",
            "id": ref,
            "thread_id": thread_id,
            "text": text,
            "agent_name": agent_name,
        }
        await self._sockets[user.user_id].connection.send(json.dumps(frame))
        return ref

    async def turn(
        self, user: ChatUser, text: str, ref: str, *, timeout: float = ANSWER_TIMEOUT
    ) -> Turn:
        socket = self._sockets[user.user_id]
        answer = await socket.answer(ref, timeout)
        run_id = str(answer.get("run_id") or "")
        events = [
            m
            for m in socket.messages
            if m.get("run_id") == run_id and m.get("type") not in ("agent_response", "error")
        ]
        return Turn(
            user=user,
            text=text,
            thread_id=str(answer.get("thread_id") or ""),
            run_id=run_id,
            response=str(answer.get("response") or ""),
            success=answer.get("type") == "agent_response" and bool(answer.get("success")),
            error=answer.get("error"),
            events=events,
        )

    async def history(self, user: ChatUser, thread_id: str) -> list[tuple[str, str]] | None:
        response = await user.handle.messages(thread_id)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, (
            f"E2E STAGING FAILURE: history of {thread_id}: HTTP {response.status_code}"
        )
        return [(str(m["role"]), str(m["content"])) for m in response.json()["messages"]]

    def heard(self, user: ChatUser) -> list[dict[str, Any]]:
        return [
            m
            for m in self._sockets[user.user_id].messages
            if m.get("type") not in ("agent_response", "error")
        ]

    async def aclose_in_loop(self) -> None:
        sockets, self._sockets = list(self._sockets.values()), {}
        for socket in sockets:
            await socket.close()
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()


def chat_for(sut: Any) -> Any:
    """The chat of `sut`: its remote chat in staging, else a `LocalChat` (one per sut)."""
    if getattr(sut, "remote", False):
        return sut.chat
    chat = getattr(sut, "_suites_local_chat", None)
    if chat is None:
        chat = LocalChat(sut)
        sut._suites_local_chat = chat
    return chat


SERVER_FEATURE = "server"
"""A cell whose env has this feature reaches the system through a server (staging)."""


def is_remote(cell: Any) -> bool:
    return SERVER_FEATURE in cell.features


def require_service_url(cell: Any) -> str:
    """The cell's server URL; a staging cell without one fails (never skips)."""
    if not cell.service_url:
        import pytest

        pytest.fail(f"cell {cell.id} has no service_url: the staging env needs a running server")
    return str(cell.service_url)


class RemoteSystem:
    """What the `sut` fixture gives a staging cell: the cell's server, as a chat.

    There is no engine, registry or store to reach in process; a test's staging
    path talks to the server through `chat` (a `RemoteChat`), as a user would.
    The first use of `chat` takes the server's run-wide lock (`server_lock`) until
    `close()`: a test that never talks to the cell's server (a staging rollback
    starts servers of its own) does not hold up the tests that do.
    """

    remote = True

    def __init__(self, cell: Any, url: str) -> None:
        import contextlib

        self.cell = cell
        self.url = url
        self.features = frozenset(cell.features)
        self._chat: RemoteChat | None = None
        self._held = contextlib.ExitStack()

    @property
    def chat(self) -> RemoteChat:
        if self._chat is None:
            from suites.support.staging import server_lock

            self._held.enter_context(server_lock(self.cell.workdir, self.url))
            self._chat = RemoteChat(self.url)
        return self._chat

    def has(self, feature: str) -> bool:
        return feature in self.features

    async def aclose_in_loop(self) -> None:
        if self._chat is not None:
            await self._chat.aclose_in_loop()

    def close(self) -> None:
        self._held.close()

    def __repr__(self) -> str:
        return f"<remote system {self.cell.id} at {self.url}>"
