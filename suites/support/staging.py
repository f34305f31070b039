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

A password check costs the server a deliberately slow KDF (~0.1 s), so a worker
logs each account in once per server and reuses the token (`StagingClient.login`
through `_TOKENS`): a token is valid for an hour, and across a restart of the same
server (same signing key).

`server_lock(cell, url)` keeps the tests of one xdist run from talking to one
server at the same time. A server in a state without the per-user emitter routes
the events of interleaved runs to each other's users (the bug the reproduction
suite shows), so two workers' tests on the same server would see each other's
events at random; each test then has the server to itself, and interleaving is
something a test does on purpose, never by accident.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

STAGING_BOOTSTRAP_USERS = (
    "staging_alice:alice-staging-pw,staging_bob:bob-staging-pw,staging_carol:carol-staging-pw,"
    "staging_dave:dave-staging-pw,staging_erin:erin-staging-pw"
)
ANSWER_TIMEOUT = 60.0


def staging_accounts() -> list[tuple[str, str]]:
    text = os.environ.get("STAGING_USERS") or STAGING_BOOTSTRAP_USERS
    accounts = []
    for item in text.split(","):
        name, sep, password = item.strip().partition(":")
        if sep:
            accounts.append((name, password))
    return accounts


_TOKENS: dict[tuple[str, str, str], tuple[str, str]] = {}
"""(server URL, user, password) -> (token, user id): one login per account and server."""


@contextlib.contextmanager
def server_lock(workdir: str | None, url: str) -> Iterator[None]:
    """Hold the run-wide lock of the server at `url` (see the module docstring).

    The lock file lives in the run's scratch folder, shared by every worker; without
    one (or without fcntl) there is nothing to coordinate with and nothing is locked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    if not workdir:
        yield
        return
    folder = Path(workdir) / "staging-locks"
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", url) + ".lock"
    with open(folder / name, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_TLS: list[Any] = []


def http_client(timeout: float = 30.0) -> Any:
    """An `httpx.AsyncClient` sharing one TLS context per process.

    httpx builds a fresh context (loading every CA certificate) per client: ~55 ms of
    CPU, more than a whole staging exchange. The context is only read, so sharing it
    is safe; verification stays on (certifi's CAs, as httpx's default).
    """
    import ssl

    import httpx

    if not _TLS:
        try:
            import certifi

            _TLS.append(ssl.create_default_context(cafile=certifi.where()))
        except ImportError:  # pragma: no cover - httpx depends on certifi
            _TLS.append(ssl.create_default_context())
    return httpx.AsyncClient(timeout=timeout, verify=_TLS[0])


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

    def __init__(
        self,
        base_url: str,
        http: Any,
        tokens: dict[tuple[str, str, str], tuple[str, str]] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        # A server started by a test itself may later reuse a port another one had:
        # it passes a cache of its own, so no token of another signing key is reused.
        self.tokens = _TOKENS if tokens is None else tokens
        self.token = ""
        self.user_id = ""

    async def health(self) -> dict[str, Any]:
        response = await self.http.get(f"{self.base_url}/health")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def login(self, username: str, password: str) -> str:
        cached = self.tokens.get((self.base_url, username, password))
        if cached is not None:
            self.token, self.user_id = cached
            return self.token
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
        self.tokens[(self.base_url, username, password)] = (self.token, self.user_id)
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
