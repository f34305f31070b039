"""The ASGI application: login, health, threads and the chat WebSocket.

Every route is user-scoped by the verified token: a thread that belongs to someone
else answers exactly like a thread that does not exist (404 over HTTP, "thread not
found" over the WebSocket), so its existence is not revealed. Runs execute as tasks
under the configured migration state (a context variable, so building an app never
changes process-wide state); the server keeps them in `Runtime.runs` so a shutdown
can let them finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from netra_backend.app.agents.registry import get_agent_registry
from netra_backend.app.agents.supervisor.execution_context import AgentExecutionResult
from netra_backend.app.core.migration import use_migration
from netra_backend.app.db.store import ChatStore, ThreadNotFound
from netra_backend.app.llm.client import LLMClient, OfflineLLMClient
from netra_backend.app.services.chat import ChatService
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.manager import WebSocketConnectionManager
from netra_backend.server.auth import Identity, TokenError, TokenIssuer, bearer_token
from netra_backend.server.body import BodyError, BodyStatus, read_json_object
from netra_backend.server.config import ServerConfig
from netra_backend.server.latency import DelayedLLM
from netra_backend.server.protocol import (
    ProtocolError,
    UserMessage,
    error_event,
    parse_client_message,
)
from netra_backend.server.users import UserStore

logger = logging.getLogger("netra_backend.server")

POLICY_VIOLATION = 1008
SERVICE_RESTART = 1012
THREAD_NOT_FOUND = "thread not found"


class Runtime:
    """The server's live parts: stores, connections, the chat service and runs in flight."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.users = UserStore(config.db_path)
        self.store = ChatStore(config.db_path)
        _set_synchronous(self.store, config.db_synchronous)
        self.manager = WebSocketConnectionManager()
        llm: LLMClient = OfflineLLMClient()
        if config.llm_latency > 0:
            llm = DelayedLLM(llm, config.llm_latency)
        self.registry = get_agent_registry(llm)
        self.chat = ChatService(self.store, self.manager, registry=self.registry)
        self.issuer = TokenIssuer(config.jwt_secret, ttl=config.token_ttl)
        self.runs: set[asyncio.Task[None]] = set()
        self.draining = False

    def identify(self, token: str | None) -> Identity:
        """The identity of a valid token whose user still exists; `TokenError` otherwise."""
        identity = self.issuer.verify(token)
        if self.users.username(identity.user_id) is None:
            msg = "invalid token (unknown user)"
            raise TokenError(msg)
        return identity

    def in_flight(self) -> int:
        return len(self.runs)

    async def drain(self, timeout: float) -> int:
        """Refuse new runs, wait up to `timeout` for the ones in flight; cancel the rest."""
        self.draining = True
        pending = set(self.runs)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            logger.warning("cancelled %d run(s) still going after %.1fs", len(pending), timeout)
            await asyncio.gather(*pending, return_exceptions=True)
        return len(pending)


def _set_synchronous(store: ChatStore, level: str) -> None:
    """Set SQLite's `synchronous` on the store's connection (a per-connection pragma).

    In WAL mode FULL syncs the disk at every commit (~6 ms here, a dozen commits per
    chat message, all under the store's lock); NORMAL syncs at checkpoints, survives
    a crash of the process and only risks the last commits on a power loss. ChatStore
    has no setting for it yet, so this reaches its connection.
    """
    connect = getattr(store, "_connection", None)
    if callable(connect):
        connect().execute(f"PRAGMA synchronous = {level}")


def create_app(config: ServerConfig, runtime: Runtime | None = None) -> Starlette:
    """The Starlette app for `config` (bootstrap users are created here, once)."""
    runtime = runtime or Runtime(config)
    if config.bootstrap_users:
        created = runtime.users.bootstrap(config.bootstrap_users, cost=config.bootstrap_kdf_n)
        if created:
            logger.info("bootstrap created user(s): %s", ", ".join(created))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await runtime.drain(config.drain_timeout)

    app = Starlette(
        routes=[
            Route("/health", _health, methods=["GET"]),
            Route("/auth/login", _login, methods=["POST"]),
            Route("/threads", _create_thread, methods=["POST"]),
            Route("/threads/{thread_id}/messages", _thread_messages, methods=["GET"]),
            WebSocketRoute("/ws", _chat_socket),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app


# --------------------------------------------------------------------------- HTTP


def _runtime(scope_owner: Request | WebSocket) -> Runtime:
    runtime: Runtime = scope_owner.app.state.runtime
    return runtime


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _unauthorized(message: str) -> JSONResponse:
    return _error(401, message, {"WWW-Authenticate": 'Bearer realm="netra"'})


async def _health(request: Request) -> JSONResponse:
    runtime = _runtime(request)
    status = "draining" if runtime.draining else "ok"
    body = {"status": status, "migration": runtime.config.migration.spec}
    return JSONResponse(body, status_code=503 if runtime.draining else 200)


def _body_error(exc: BodyError) -> JSONResponse:
    # After a 413 the rest of the body is never read: the connection cannot carry another
    # request, so say it will close rather than let the client keep sending.
    headers = {"Connection": "close"} if exc.status is BodyStatus.TOO_LARGE else None
    return _error(int(exc.status), str(exc), headers)


async def _login(request: Request) -> JSONResponse:
    runtime = _runtime(request)
    if runtime.draining:
        return _error(503, "server is shutting down")
    try:
        data = await read_json_object(
            request, runtime.config.max_body_bytes, required=("username", "password")
        )
    except BodyError as exc:
        return _body_error(exc)
    username, password = data["username"], data["password"]
    # The password check is deliberately slow: keep it off the event loop.
    user_id = await run_in_threadpool(runtime.users.authenticate, username, password)
    if user_id is None:
        return _unauthorized("invalid username or password")
    token = runtime.issuer.issue(user_id, username)
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "bearer",
            "user_id": user_id,
            "expires_in": int(runtime.config.token_ttl),
        }
    )


def _request_identity(request: Request) -> Identity | JSONResponse:
    token = bearer_token(request.headers.get("authorization"))
    try:
        return _runtime(request).identify(token)
    except TokenError as exc:
        return _unauthorized(str(exc))


async def _create_thread(request: Request) -> JSONResponse:
    identity = _request_identity(request)
    if isinstance(identity, JSONResponse):
        return identity
    limit = _runtime(request).config.max_body_bytes
    try:
        # No body at all is a thread without a title; anything sent must be a JSON object.
        data = await read_json_object(request, limit, optional=("title",), empty_ok=True)
    except BodyError as exc:
        return _body_error(exc)
    title: str = data.get("title", "")
    thread_id = _runtime(request).store.create_thread(identity.user_id, title=title[:200])
    return JSONResponse({"thread_id": thread_id, "title": title[:200]}, status_code=201)


async def _thread_messages(request: Request) -> JSONResponse:
    identity = _request_identity(request)
    if isinstance(identity, JSONResponse):
        return identity
    thread_id = request.path_params["thread_id"]
    store = _runtime(request).store
    try:
        store.get_thread(thread_id, identity.user_id)
        messages = store.list_messages(thread_id, identity.user_id)
    except ThreadNotFound:
        return _error(404, THREAD_NOT_FOUND)
    return JSONResponse({"thread_id": thread_id, "messages": [_plain(m) for m in messages]})


def _plain(value: Any) -> Any:
    """A store row as JSON-ready data (dataclass, mapping or sequence)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# --------------------------------------------------------------------------- WebSocket


class SocketConnection:
    """A WebSocket as the connection manager sees it; one frame at a time goes out."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.closed = False
        self._lock = asyncio.Lock()

    async def send_json(self, message: dict[str, Any]) -> None:
        if self.closed:
            msg = "connection closed"
            raise ConnectionError(msg)
        async with self._lock:
            await self.websocket.send_text(json.dumps(message))


async def _chat_socket(websocket: WebSocket) -> None:
    runtime = _runtime(websocket)
    token = websocket.query_params.get("token") or bearer_token(
        websocket.headers.get("authorization")
    )
    try:
        identity = runtime.identify(token)
    except TokenError as exc:
        # Closing before accept: the handshake is refused and nothing is revealed.
        logger.info("websocket refused: %s", exc)
        await websocket.close(code=POLICY_VIOLATION)
        return
    if runtime.draining:
        await websocket.close(code=SERVICE_RESTART)
        return
    await websocket.accept()
    connection = SocketConnection(websocket)
    connection_id = runtime.manager.connect(identity.user_id, connection)
    session = _Session(runtime, identity, connection)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            frame = message.get("text")
            if frame is None:
                frame = message.get("bytes") or b""
            await session.handle(frame)
    finally:
        connection.closed = True
        runtime.manager.disconnect(identity.user_id, connection_id)


class _Session:
    """One authenticated WebSocket: turns frames into runs or error events."""

    def __init__(self, runtime: Runtime, identity: Identity, connection: SocketConnection):
        self.runtime = runtime
        self.identity = identity
        self.connection = connection
        self.mine: set[asyncio.Task[None]] = set()

    async def reply(self, event: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await self.connection.send_json(event)

    async def handle(self, frame: str | bytes) -> None:
        config = self.runtime.config
        try:
            message = parse_client_message(frame, config.max_message_bytes)
        except ProtocolError as exc:
            await self.reply(error_event(str(exc), id=exc.ref))
            return
        try:
            problem = self.refusal(message)
            if problem is not None:
                await self.reply(error_event(problem, id=message.ref, thread_id=message.thread_id))
                return
            thread_id = message.thread_id or self.runtime.store.create_thread(
                self.identity.user_id, title=message.text[:60]
            )
        except ThreadNotFound:
            refused = error_event(THREAD_NOT_FOUND, id=message.ref, thread_id=message.thread_id)
            await self.reply(refused)
            return
        except Exception:
            logger.exception("could not start a run for %s", self.identity.user_id)
            await self.reply(error_event("internal error; the run was not started", id=message.ref))
            return
        run_id = f"run_{uuid.uuid4().hex}"
        task = asyncio.create_task(self.run(message, thread_id, run_id))
        for tasks in (self.mine, self.runtime.runs):
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    def refusal(self, message: UserMessage) -> str | None:
        """Why this message cannot start a run, or None; `ThreadNotFound` for a foreign thread."""
        runtime = self.runtime
        if runtime.draining:
            return "server is shutting down; reconnect and send again"
        if message.agent_name not in runtime.registry:
            return f"unknown agent {message.agent_name!r}; use one of {runtime.registry.names()}"
        if len(self.mine) >= runtime.config.max_runs_per_connection:
            limit = runtime.config.max_runs_per_connection
            return f"too many runs in flight on this connection (limit {limit}); wait for one"
        if message.thread_id is not None:
            runtime.store.get_thread(message.thread_id, self.identity.user_id)
        return None

    async def run(self, message: UserMessage, thread_id: str, run_id: str) -> None:
        runtime = self.runtime
        user_id = self.identity.user_id
        context = UserExecutionContext(user_id=user_id, thread_id=thread_id, run_id=run_id)
        result: AgentExecutionResult | None = None
        error: str | None = None
        with use_migration(runtime.config.migration):
            try:
                sending = runtime.chat.send(
                    context, thread_id, message.text, agent_name=message.agent_name
                )
                result = await asyncio.wait_for(sending, timeout=runtime.config.run_timeout)
            except asyncio.TimeoutError:
                error = f"run timed out after {runtime.config.run_timeout:g}s"
            except asyncio.CancelledError:
                error = "run cancelled: the server is shutting down"
                raise
            except Exception as exc:
                logger.exception("run %s failed", run_id)
                error = f"run failed: {type(exc).__name__}"
            finally:
                if error is None and result is not None and not result.success:
                    error = result.error or "run failed"
                answer: dict[str, Any] = {
                    "type": "agent_response",
                    "thread_id": thread_id,
                    # The chat service names the run its events carry; ours is a fallback
                    # for a run that never got that far.
                    "run_id": (result.run_id if result is not None else None) or run_id,
                    "agent_name": message.agent_name,
                    "response": result.response if result is not None else "",
                    "success": error is None,
                }
                if error is not None:
                    answer["error"] = error
                if message.ref is not None:
                    answer["id"] = message.ref
                # The answer goes to its own user by id, whatever the engine did with events.
                with contextlib.suppress(Exception):
                    await runtime.manager.send_to_user(user_id, answer)
