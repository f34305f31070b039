"""Rollback in staging: restart a server in another state over the same database, mid-conversation.

The harness's servers are shared by every cell of their state, so a rollback test
never restarts one of them. It starts its OWN server with the env's service as
matrix.yaml declares it (`migmatrix.testing.start_service`: the same command,
environment, `{secret}` and a scratch folder of its own) in the cell's state,
converses with it over HTTP and WebSocket, and rolls it back the way an operator
does: `RunningService.restart({"NETRA_MIGRATION": target})` - SIGTERM, the runs in
flight finish and deliver their answers (the server drains before it exits), the
same command starts again on the same port, database and signing key in the
target state. The clients reconnect with the tokens they had, continue their
conversations, and read them back: whatever is not there is lost data, named.

The server gets `--llm-latency` (a simulated model latency) on top of the
declared command, so a run is still in flight when the restart begins; without
it the offline model answers before a restart could catch a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from migmatrix.testing import ServiceError, start_service
from suites.support.chat import ChatUser, RemoteChat, Turn

MIGRATION_ENV = "NETRA_MIGRATION"
LLM_LATENCY = "0.03"
"""Seconds per model call: a supervisor run lasts ~0.1 s (several calls), long enough to be
caught in flight by a restart."""


class OwnServer:
    """A server this test started (see the module docstring), and a chat with it."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.chat = RemoteChat(service.url, tokens={})

    @property
    def url(self) -> str:
        return str(self.service.url)

    async def restart(self, state: str, users: Sequence[ChatUser]) -> None:
        """Roll the server to `state` (an adapter state name); `users` reconnect after it."""
        try:
            await asyncio.to_thread(self.service.restart, {MIGRATION_ENV: state})
        except Exception as exc:
            msg = f"ROLLBACK FAILURE: the server did not restart in {state}: {exc}"
            raise AssertionError(msg) from exc
        # A restart whose port another process took meanwhile moves to a new one
        # (migmatrix.testing retries on EADDRINUSE): the chat follows the service.
        self.chat.base_url = self.url.rstrip("/")
        await self.reconnect(users)

    async def reconnect(self, users: Sequence[ChatUser]) -> None:
        """New sockets for `users`, with the tokens they had before the restart."""
        for user in users:
            try:
                await self.chat.reconnect(user)
            except Exception as exc:
                msg = (
                    f"ROLLBACK FAILURE: {user.name} cannot reconnect with the token issued "
                    f"before the restart ({type(exc).__name__}: {exc}): the account or the "
                    f"signing key did not survive it\n{self.log_excerpt()}"
                )
                raise AssertionError(msg) from exc

    async def migration(self) -> str:
        """The state the server says it runs (`/health`)."""
        from suites.support.staging import http_client

        async with http_client(10) as http:
            response = await http.get(f"{self.url}/health")
        return str(response.json().get("migration"))

    def log_excerpt(self) -> str:
        return str(self.service.log_excerpt(20))


@contextlib.asynccontextmanager
async def own_server(
    cell: Any, scratch: Path, environ: Mapping[str, str] | None = None
) -> AsyncIterator[OwnServer]:
    """Start the cell's env's service in `cell`'s state in `scratch`; stop it on the way out.

    The declared command gets `--llm-latency`, which keeps a run in flight long
    enough for a restart to catch it.
    """
    try:
        service = await asyncio.to_thread(
            lambda: start_service(
                cell,
                workdir=scratch,
                extra_args=("--llm-latency", LLM_LATENCY),
                environ=dict(os.environ if environ is None else environ),
            )
        )
    except ServiceError as exc:
        msg = f"ROLLBACK FAILURE: the server of {cell.adapter} did not start: {exc}"
        raise AssertionError(msg) from exc
    server = OwnServer(service)
    try:
        yield server
    finally:
        await server.chat.aclose_in_loop()
        await asyncio.to_thread(service.stop)


async def wait_for_new_run(
    chat: RemoteChat, user: ChatUser, known: set[str], timeout: float = 10.0
) -> str:
    """The id of a run of `user` that started (agent_started received) and is not in `known`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for message in chat.heard(user):
            run_id = str(message.get("run_id"))
            if message.get("type") == "agent_started" and run_id not in known:
                return run_id
        if loop.time() > deadline:
            msg = f"ROLLBACK FAILURE: no run of {user.name} started within {timeout}s"
            raise AssertionError(msg)
        await asyncio.sleep(0.002)


def lost_turns(
    expected: Mapping[tuple[str, str], Sequence[Turn]],
    readable: Mapping[tuple[str, str], Sequence[tuple[str, str]] | None],
    path: str,
) -> list[str]:
    """Every message of `expected` turns that `readable` histories no longer hold, named.

    Keyed by (user name, thread id); a thread that is not readable at all loses all
    of its messages. Order matters too: a conversation read back out of order is
    not the conversation that was held.
    """
    lost: list[str] = []
    for key, turns in expected.items():
        wanted: list[tuple[str, str]] = []
        for turn in turns:
            wanted += [("user", turn.text), ("assistant", turn.response)]
        got = readable.get(key)
        user, thread = key
        if got is None:
            lost.append(
                f"thread {thread} of {user} not readable after {path}: {len(wanted)} messages gone"
            )
            continue
        remaining = list(got)
        missing = []
        for message in wanted:
            if message in remaining:
                remaining.remove(message)
            else:
                missing.append(message[1])
        if missing:
            lost.append(
                f"{len(missing)} message{'s' * (len(missing) != 1)} of thread {thread} "
                f"({user}) not readable after {path}: {missing!r}"
            )
        elif list(got) != wanted:
            lost.append(f"thread {thread} ({user}) read back out of order after {path}: {got!r}")
    return lost
