"""Helpers for the server's tests: a real uvicorn on a loopback port, in a thread."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import uvicorn
import websockets

from netra_backend.server.app import Runtime, create_app
from netra_backend.server.config import ServerConfig

SECRET = "test-secret-" + "x" * 60  # built at run time; never a deployed value
FIVE = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")


class LiveServer:
    """`create_app(config)` served by uvicorn in a background thread on a free port."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.runtime = Runtime(config)
        self.app = create_app(config, self.runtime)
        uv_config = uvicorn.Config(
            self.app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(uv_config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                msg = "uvicorn did not start"
                raise RuntimeError(msg)
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def port(self) -> int:
        sockets = self.server.servers[0].sockets
        port: int = sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def add_user(self, name: str, password: str = "pw-long-enough") -> tuple[str, str]:
        """Create a user; returns (user_id, token)."""
        user_id = self.runtime.users.create_user(name, password)
        return user_id, self.runtime.issuer.issue(user_id, name)


async def recv(ws: Any, timeout: float = 10.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def converse(
    ws: Any, text: str, thread_id: str | None = None, agent: str = "supervisor_agent"
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Send one message; return (events, agent_response) for it."""
    await ws.send(
        json.dumps(
            {"type": "user_message", "thread_id": thread_id, "text": text, "agent_name": agent}
        )
    )
    events = []
    while True:
        message = await recv(ws)
        if message["type"] == "agent_response":
            return events, message
        if message["type"] == "error":
            msg = f"unexpected error event {message}"
            raise AssertionError(msg)
        events.append(message)


async def refused_status(url: str, **kwargs: Any) -> int | None:
    """The HTTP status a refused WebSocket handshake got (None if it was accepted)."""
    try:
        async with websockets.connect(url, open_timeout=5, **kwargs):
            return None
    except websockets.InvalidStatus as exc:
        return int(exc.response.status_code)


def http(server: LiveServer) -> httpx.AsyncClient:
    """An in-process HTTP client on the server's app (no socket needed)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://app")
