"""A client of the netra_backend server, for the staging suite (seed 5).

Written against a base URL (`cell.service_url`: the server the harness started
for the env, or `STAGING_URL`), over real HTTP (httpx) and a real WebSocket
(websockets):

- `POST {url}/auth/login {"username", "password"}` -> `{"access_token", ...}`
- `GET {url}/health` -> `{"status": "ok", "migration": <state spec>}`
- WebSocket `{ws_url}/ws?token=<token>`: send `{"type": "user_message",
  "thread_id", "text", "agent_name"}`, receive the run's events, then
  `{"type": "agent_response", "thread_id", "run_id", "response", "success"}`
- `GET {url}/threads/{id}/messages` with `Authorization: Bearer <token>`

Credentials come from `STAGING_USERS` ("name:password,name:password"), else the
accounts the matrix's staging service bootstraps (`STAGING_BOOTSTRAP_USERS`,
the same text as `NETRA_BOOTSTRAP_USERS` in matrix.yaml).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from typing import Any
from urllib.parse import quote

STAGING_BOOTSTRAP_USERS = "staging_alice:alice-staging-pw,staging_bob:bob-staging-pw"
ANSWER_TIMEOUT = 60.0


def staging_accounts() -> list[tuple[str, str]]:
    text = os.environ.get("STAGING_USERS") or STAGING_BOOTSTRAP_USERS
    accounts = []
    for item in text.split(","):
        name, sep, password = item.strip().partition(":")
        if sep:
            accounts.append((name, password))
    return accounts


def ws_url(base_url: str) -> str:
    if base_url.startswith("https://"):
        return "wss://" + base_url[len("https://") :]
    if base_url.startswith("http://"):
        return "ws://" + base_url[len("http://") :]
    return base_url


@dataclasses.dataclass
class Exchange:
    """One message sent over the socket and everything received until its answer."""

    events: list[dict[str, Any]]
    answer: dict[str, Any]

    def types(self) -> list[str]:
        return [str(e.get("type")) for e in self.events]


class StagingClient:
    """One logged-in user of a running server."""

    def __init__(self, base_url: str, http: Any) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.token = ""
        self.user_id = ""

    async def health(self) -> dict[str, Any]:
        response = await self.http.get(f"{self.base_url}/health")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def login(self, username: str, password: str) -> str:
        response = await self.http.post(
            f"{self.base_url}/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, (
            f"E2E STAGING FAILURE: login of {username!r} gave HTTP {response.status_code}: "
            f"{response.text}"
        )
        body = response.json()
        self.token = str(body["access_token"])
        self.user_id = str(body.get("user_id") or username)
        return self.token

    async def messages(self, thread_id: str, token: str | None = None) -> Any:
        return await self.http.get(
            f"{self.base_url}/threads/{quote(thread_id)}/messages",
            headers={"Authorization": f"Bearer {token or self.token}"},
        )

    def socket(self) -> Any:
        from websockets.asyncio.client import connect

        return connect(f"{ws_url(self.base_url)}/ws?token={quote(self.token)}")

    @staticmethod
    async def exchange(
        socket: Any,
        text: str,
        *,
        thread_id: str | None = None,
        agent_name: str = "triage_agent",
        timeout: float = ANSWER_TIMEOUT,
    ) -> Exchange:
        """Send one user message and read until its `agent_response` (or an error event)."""
        await socket.send(
            json.dumps(
                {
                    "type": "user_message",
                    "thread_id": thread_id,
                    "text": text,
                    "agent_name": agent_name,
                }
            )
        )
        events: list[dict[str, Any]] = []

        async def read() -> dict[str, Any]:
            while True:
                message = json.loads(await socket.recv())
                if message.get("type") in ("agent_response", "error"):
                    return dict(message)
                events.append(message)

        answer = await asyncio.wait_for(read(), timeout)
        return Exchange(events, answer)
