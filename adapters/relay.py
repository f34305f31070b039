"""Where a user's WebSocket events arrive: in memory (unit) or over a real loopback socket.

An `Inbox` is one user's client: the messages it received, in arrival order. In the
unit env the inbox is itself the connection registered in netra_backend's
connection manager (anything with `async send_json`). In the integration env a
`LoopbackRelay` runs a real `websockets` server on 127.0.0.1 (port 0); each
`connect(user_id)` opens a real client connection, the server side of which is
registered in the manager, and a reader task fills the inbox from the socket. So
an event reaches a test only by being routed by the manager to that user's
connection and carried over TCP as JSON.

`settle()` waits until every message a server-side connection sent has been read
by its client, so a test can look at its inboxes right after a run without
sleeping a guessed amount of time.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

_HELLO = "_relay_connected"
SETTLE_TIMEOUT = 10.0


class Inbox:
    """One user's client: the messages it received, in order."""

    def __init__(self, user_id: str, key: str | None = None) -> None:
        self.user_id = user_id
        self.key = key or uuid.uuid4().hex
        self.messages: list[dict[str, Any]] = []

    async def send_json(self, message: dict[str, Any]) -> None:
        # The unit env registers the inbox itself as the connection.
        self.messages.append(dict(message))

    def types(self, run_id: str | None = None) -> list[str]:
        return [str(m.get("type")) for m in self.for_run(run_id)]

    def for_run(self, run_id: str | None) -> list[dict[str, Any]]:
        if run_id is None:
            return list(self.messages)
        return [m for m in self.messages if m.get("run_id") == run_id]

    def __repr__(self) -> str:
        return f"Inbox({self.user_id!r}, {len(self.messages)} messages)"


async def maybe_await(value: Any) -> Any:
    """The manager's connect/disconnect may be plain or async; accept both."""
    if inspect.isawaitable(value):
        return await value
    return value


class _ServerSide:
    """The server end of one loopback connection, as netra_backend's manager sees it."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.sent = 0

    async def send_json(self, message: dict[str, Any]) -> None:
        # default=str: timestamps or ids of exotic types still cross the wire,
        # and the test sees exactly what a browser would.
        await self.socket.send(json.dumps(message, default=str, sort_keys=True))
        self.sent += 1


class LoopbackRelay:
    """A real WebSocket server on 127.0.0.1 whose connections feed a connection manager."""

    def __init__(self, manager: Any) -> None:
        self._manager = manager
        self._server: Any = None
        self._port = 0
        self._server_sides: dict[str, _ServerSide] = {}
        self._clients: list[tuple[Inbox, Any, asyncio.Future[None]]] = []

    async def _start(self) -> None:
        from websockets.asyncio.server import serve

        self._server = await serve(self._handle, "127.0.0.1", 0)
        self._port = next(iter(self._server.sockets)).getsockname()[1]

    async def _handle(self, socket: Any) -> None:
        query = parse_qs(urlsplit(socket.request.path).query)
        user_id, key = query["user"][0], query["key"][0]
        side = _ServerSide(socket)
        connection_id = await maybe_await(self._manager.connect(user_id, side))
        self._server_sides[key] = side
        await socket.send(json.dumps({"type": _HELLO}))
        try:
            await socket.wait_closed()
        finally:
            await maybe_await(self._manager.disconnect(user_id, connection_id))

    async def connect(self, user_id: str) -> Inbox:
        """Open a real client connection for `user_id`; returns once the manager knows it."""
        from websockets.asyncio.client import connect

        if self._server is None:
            await self._start()
        inbox = Inbox(user_id)
        url = f"ws://127.0.0.1:{self._port}/ws?user={quote(user_id)}&key={inbox.key}"
        client = await connect(url)
        hello = json.loads(await client.recv())
        if hello.get("type") != _HELLO:
            msg = f"loopback relay: expected the {_HELLO!r} greeting, got {hello!r}"
            raise RuntimeError(msg)
        reader = asyncio.ensure_future(self._read(client, inbox))
        self._clients.append((inbox, client, reader))
        return inbox

    @staticmethod
    async def _read(client: Any, inbox: Inbox) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in client:
                inbox.messages.append(json.loads(raw))
        except ConnectionClosed:
            return

    async def settle(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait until each client has read everything its server side sent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            behind = [
                (inbox, self._server_sides[inbox.key].sent)
                for inbox, _, _ in self._clients
                if len(inbox.messages) < self._server_sides[inbox.key].sent
            ]
            if not behind:
                return
            if loop.time() > deadline:
                detail = ", ".join(f"{i.user_id}: {len(i.messages)}/{sent}" for i, sent in behind)
                msg = f"loopback relay: events sent but not received within {timeout}s ({detail})"
                raise RuntimeError(msg)
            await asyncio.sleep(0.002)

    async def aclose(self) -> None:
        for _, client, reader in self._clients:
            await client.close()
            await _quietly(reader)
        self._clients.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


async def _quietly(task: asyncio.Future[None]) -> None:
    try:
        await asyncio.wait_for(task, 2.0)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        task.cancel()


def inboxes_by_user(inboxes: Iterable[Inbox]) -> dict[str, list[dict[str, Any]]]:
    """All messages received per user id (several connections of one user are merged)."""
    merged: dict[str, list[dict[str, Any]]] = {}
    for inbox in inboxes:
        merged.setdefault(inbox.user_id, []).extend(inbox.messages)
    return merged
