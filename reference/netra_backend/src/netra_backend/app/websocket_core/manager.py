"""Live connections per user, and delivery of a message to all of one user's connections."""

from __future__ import annotations

import itertools
from typing import Any

from netra_backend.app.websocket_core.messages import Connection


class RecordingConnection:
    """A connection that keeps what it was sent: for tests and in-process clients."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def send_json(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    def types(self) -> list[str]:
        return [str(m.get("type")) for m in self.messages]


class WebSocketConnectionManager:
    """Maps users to their open connections; a connection that fails to send is dropped."""

    def __init__(self) -> None:
        self._connections: dict[str, dict[str, Connection]] = {}
        self._ids = itertools.count(1)

    def connect(self, user_id: str, connection: Connection) -> str:
        """Add a connection for `user_id` and return its id."""
        connection_id = f"conn_{next(self._ids)}"
        self._connections.setdefault(user_id, {})[connection_id] = connection
        return connection_id

    def disconnect(self, user_id: str, connection_id: str) -> None:
        connections = self._connections.get(user_id, {})
        connections.pop(connection_id, None)
        if not connections:
            self._connections.pop(user_id, None)

    def connection_count(self, user_id: str | None = None) -> int:
        if user_id is not None:
            return len(self._connections.get(user_id, {}))
        return sum(len(c) for c in self._connections.values())

    async def send_to_user(self, user_id: str, message: dict[str, Any]) -> int:
        """Send to every connection of `user_id`; returns how many received it."""
        delivered = 0
        for connection_id, connection in sorted(self._connections.get(user_id, {}).items()):
            try:
                await connection.send_json(message)
            except Exception:  # a dead socket must not stop the others
                self.disconnect(user_id, connection_id)
            else:
                delivered += 1
        return delivered
