"""The connection manager: per-user delivery, dead connections dropped."""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.manager import RecordingConnection, WebSocketConnectionManager


class _Dead:
    async def send_json(self, message: dict[str, Any]) -> None:
        msg = "socket closed"
        raise ConnectionError(msg)


async def test_messages_reach_only_the_users_own_connections() -> None:
    manager = WebSocketConnectionManager()
    a1, a2, b = RecordingConnection(), RecordingConnection(), RecordingConnection()
    manager.connect("alice", a1)
    manager.connect("alice", a2)
    manager.connect("bob", b)
    assert await manager.send_to_user("alice", {"type": "x"}) == 2
    assert a1.types() == a2.types() == ["x"]
    assert b.messages == []
    assert await manager.send_to_user("carol", {"type": "x"}) == 0


async def test_a_failing_connection_is_dropped_and_the_others_still_receive() -> None:
    manager = WebSocketConnectionManager()
    manager.connect("alice", _Dead())
    live = RecordingConnection()
    manager.connect("alice", live)
    assert await manager.send_to_user("alice", {"type": "x"}) == 1
    assert manager.connection_count("alice") == 1
    assert live.types() == ["x"]


def test_disconnect_forgets_the_connection() -> None:
    manager = WebSocketConnectionManager()
    cid = manager.connect("alice", RecordingConnection())
    other = manager.connect("alice", RecordingConnection())
    assert cid != other
    manager.disconnect("alice", cid)
    manager.disconnect("alice", other)
    manager.disconnect("alice", other)
    assert manager.connection_count() == 0
