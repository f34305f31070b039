"""What every adapter shares: activating a migration state and the system under test.

An adapter binds one migration state of netra_backend to the fixtures the suites
use. `Adapter.open(cell)` is a context manager: it resets netra_backend's
process-global state, enters `use_migration(state)` and sets the process default
to the same state (so a server-style caller sees it too), yields a
`SystemUnderTest`, and on exit resets everything again and restores what was
there before. That is what lets cells of different states interleave in one
worker process and give the same results as run apart.

The suites never build an engine themselves; they ask the `SystemUnderTest`,
which builds it the way code in the state in effect does:

- no component migrated (deprecated): the legacy constructor,
  `execution_engine.ExecutionEngine(registry, websocket_bridge, user_context)`;
- every component migrated (ssot): `await UserExecutionEngine.create_from_legacy(...)`;
- anything in between: `engine_provider.create_engine(...)`, which follows the
  migrated components.

Which of the three applies is decided by the state in effect at the call, not by
the adapter, so a test that rolls the state back mid-session gets the engine of
the state it rolled back to.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import importlib
import itertools
import os
import re
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, Protocol

from adapters.relay import Inbox, LoopbackRelay

COMPONENT_FEATURES: dict[str, str] = {
    "engine": "ssot-engine",
    "factory": "ssot-factory",
    "emitter": "user-emitter",
    "state": "isolated-state",
}
"""The feature each migrated component gives a cell (matrix.yaml says the same)."""

SQLITE_FEATURE = "sqlite"
"""An env with this feature gets a ChatStore on a real SQLite file."""

LOOPBACK_FEATURE = "loopback-websocket"
"""An env with this feature routes events over a real WebSocket on 127.0.0.1."""

LEGACY_ENGINE_MODULE = "netra_backend.app.agents.supervisor.execution_engine"
SSOT_ENGINE_MODULE = "netra_backend.app.agents.supervisor.user_execution_engine"
PROVIDER_MODULE = "netra_backend.app.agents.supervisor.engine_provider"


class CellLike(Protocol):
    """The attributes of the plugin's `cell` fixture an adapter reads (docs/contracts.md)."""

    id: str
    adapter: str
    env: str
    components: tuple[str, ...]
    features: frozenset[str]
    workdir: str


def _migration() -> Any:
    return importlib.import_module("netra_backend.app.core.migration")


def state_with_features(features: frozenset[str] | set[str]) -> Any:
    """The netra_backend migration state whose migrated components give exactly `features`.

    A rollback target from matrix.yaml is a state name with its features (like a
    cell's); this is how a suite switches to it without parsing names.
    """
    migrated = [c for c, feature in COMPONENT_FEATURES.items() if feature in features]
    return _migration().MigrationState.of(*migrated)


def reset_backend() -> None:
    """Reset every process-global piece of netra_backend's state.

    netra_backend's `reset_process_state` clears the legacy shared book (runs,
    history, stats, response cache) and the process-wide "current run" of the
    deprecated routing, without importing the legacy modules when nothing loaded
    them, and puts the process migration default back to NETRA_MIGRATION.
    """
    importlib.import_module("netra_backend.app.core.reset").reset_process_state()


def _process_default() -> Any:
    # Read the default from an empty context: any use_migration block here would hide it.
    return contextvars.Context().run(_migration().current_migration)


_serial = itertools.count(1)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "cell"


class Adapter:
    """One declared adapter: its name and features, and how a cell maps to a state.

    Subclasses define `state_for(cell)`. `features_for(cell)` is what the adapter
    itself says the state gives; `open` refuses a cell whose features (from
    matrix.yaml) disagree, because an expectation written against the wrong
    features would judge the wrong thing.
    """

    name: str = ""
    features: frozenset[str] = frozenset()

    def state_for(self, cell: CellLike) -> Any:
        raise NotImplementedError

    def features_for(self, cell: CellLike) -> frozenset[str]:
        state = self.state_for(cell)
        return frozenset(COMPONENT_FEATURES[c] for c in state.migrated)

    def check_features(self, cell: CellLike) -> None:
        """Fail loudly when matrix.yaml and the adapter disagree about the state's features."""
        mine = self.features_for(cell)
        declared = frozenset(cell.features) & frozenset(COMPONENT_FEATURES.values())
        if mine != declared:
            msg = (
                f"cell {cell.id}: matrix.yaml gives migration features {sorted(declared)} "
                f"but adapter {self.name!r} activates {self.state_for(cell).spec!r} with "
                f"{sorted(mine)}; make the adapter's features in matrix.yaml match"
            )
            raise ValueError(msg)

    @contextlib.contextmanager
    def open(self, cell: CellLike) -> Iterator[SystemUnderTest]:
        """Activate the cell's state around one test; yields the system under test."""
        self.check_features(cell)
        state = self.state_for(cell)
        migration = _migration()
        previous_default = _process_default()
        reset_backend()
        migration.set_process_migration(state)
        try:
            with migration.use_migration(state):
                sut = SystemUnderTest(cell, self, state)
                try:
                    yield sut
                finally:
                    sut.close()
        finally:
            reset_backend()
            migration.set_process_migration(previous_default)

    def __repr__(self) -> str:
        return f"<adapter {self.name} features={sorted(self.features)}>"


class SystemUnderTest:
    """netra_backend in one migration state, wired the way the cell's env asks.

    Public parts: `registry`, `manager` (the WebSocket connection manager),
    `bridge`, `store` (ChatStore: ":memory:" in unit, a SQLite file under the
    cell's workdir with the `sqlite` feature), `chat` (ChatService). Async
    helpers that need the test's event loop (`connect`, `settle`, `engine`) are
    methods; `aclose_in_loop` is awaited by the suites' conftest at the end of
    each async test, in that test's loop. `remote` is False: the system is in
    this process (a staging cell gets the suites' `RemoteSystem` instead).
    """

    remote = False

    def __init__(self, cell: CellLike, adapter: Adapter, state: Any) -> None:
        from netra_backend.app.agents.registry import get_agent_registry
        from netra_backend.app.db.store import ChatStore
        from netra_backend.app.services.chat import ChatService
        from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
        from netra_backend.app.websocket_core.manager import WebSocketConnectionManager

        self.cell = cell
        self.adapter = adapter
        self.initial_state = state
        self.features = frozenset(cell.features)
        self.registry = get_agent_registry()
        self.manager = WebSocketConnectionManager()
        self.bridge = AgentWebSocketBridge(self.manager)
        self.store_path = self._store_path()
        self.store = ChatStore(self.store_path)
        self.chat = ChatService(self.store, self.manager, registry=self.registry)
        self.inboxes: list[Inbox] = []
        self._relay = LoopbackRelay(self.manager) if LOOPBACK_FEATURE in self.features else None
        self._users = itertools.count(1)
        self._reopened: list[Any] = []

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> Any:
        """The migration state in effect now (it changes after `switch`)."""
        return _migration().current_migration()

    def has(self, feature: str) -> bool:
        return feature in self.features

    def state_with(self, features: frozenset[str] | set[str]) -> Any:
        """The migration state with exactly these migration features (a rollback target's)."""
        return state_with_features(features)

    def switch(self, state: Any) -> Any:
        """Roll the state back (or forward) in place: runs in flight follow it at their next step.

        Changes the innermost `use_migration` block, which every task started by
        the test shares, and the process default; returns the previous state.
        """
        migration = _migration()
        target = state if not isinstance(state, str) else migration.MigrationState.parse(state)
        migration.set_process_migration(target)
        return migration.switch_migration(target)

    # ------------------------------------------------------------------ users

    def user(self, name: str, *, thread_id: str | None = None, run_id: str | None = None) -> Any:
        """A logged-in user's context (see support.contexts for the login itself)."""
        from netra_backend.app.services.user_execution_context import UserExecutionContext

        serial = next(self._users)
        return UserExecutionContext(
            user_id=name,
            thread_id=thread_id or f"thread_{name}",
            run_id=run_id or f"run_{name}_{serial}_{uuid.uuid4().hex[:8]}",
        )

    def agent_context(
        self,
        user_context: Any,
        agent_name: str,
        user_input: str,
        *,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        from netra_backend.app.agents.supervisor.execution_context import AgentExecutionContext

        return AgentExecutionContext(
            agent_name=agent_name,
            user_id=user_context.user_id,
            thread_id=user_context.thread_id,
            run_id=run_id or user_context.run_id,
            user_input=user_input,
            metadata=dict(metadata or {}),
        )

    # ------------------------------------------------------------------ engines

    async def engine(self, user_context: Any, websocket_bridge: Any = None) -> Any:
        """An engine for `user_context`, built the way code in the current state builds one."""
        return await build_engine(
            self.state,
            self.registry,
            self.bridge if websocket_bridge is None else websocket_bridge,
            user_context,
        )

    def legacy_factories(self) -> tuple[Any, Any]:
        """The two legacy factory functions, as the seed's 1.3 calls them."""
        module = importlib.import_module(
            "netra_backend.app.agents.supervisor.execution_engine_factory"
        )
        return module.create_execution_engine, module.get_execution_engine

    # ------------------------------------------------------------------ WebSocket side

    async def connect(self, user_id: str) -> Inbox:
        """A client of `user_id`, registered with the connection manager; returns its inbox."""
        if self._relay is not None:
            inbox = await self._relay.connect(user_id)
        else:
            inbox = Inbox(user_id)
            self.manager.connect(user_id, inbox)
        self.inboxes.append(inbox)
        return inbox

    async def settle(self) -> None:
        """Wait until every event sent to a client has arrived there."""
        if self._relay is not None:
            await self._relay.settle()

    # ------------------------------------------------------------------ store

    def _store_path(self) -> str:
        if SQLITE_FEATURE not in self.features:
            return ":memory:"
        folder = Path(self.cell.workdir) / "stores"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{_safe(self.cell.id)}-{os.getpid()}-{next(_serial)}-{uuid.uuid4().hex[:6]}.db"
        return str(folder / name)

    def reopen_store(self) -> Any:
        """A second, independent handle on the same store (a new SQLite connection on a file).

        In memory there is nothing to reopen, so the same store comes back.
        """
        if self.store_path == ":memory:":
            return self.store
        from netra_backend.app.db.store import ChatStore

        store = ChatStore(self.store_path)
        self._reopened.append(store)
        return store

    # ------------------------------------------------------------------ lifecycle

    async def aclose_in_loop(self) -> None:
        if self._relay is not None:
            await self._relay.aclose()

    def close(self) -> None:
        for store in [*self._reopened, self.store]:
            store.close()
        if self.store_path != ":memory:":
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.store_path + suffix)

    def run_coroutine(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine to completion from sync code (for sync suites)."""
        return asyncio.run(coro)


async def build_engine(state: Any, registry: Any, websocket_bridge: Any, user_context: Any) -> Any:
    """Build an engine the way code in `state` does (see the module docstring)."""
    if not state.migrated:
        legacy = importlib.import_module(LEGACY_ENGINE_MODULE)
        return legacy.ExecutionEngine(registry, websocket_bridge, user_context)
    if state.migrated == frozenset(COMPONENT_FEATURES):
        ssot = importlib.import_module(SSOT_ENGINE_MODULE)
        return await ssot.UserExecutionEngine.create_from_legacy(
            registry=registry, websocket_bridge=websocket_bridge, user_context=user_context
        )
    provider = importlib.import_module(PROVIDER_MODULE)
    return await provider.create_engine(
        user_context, registry=registry, websocket_bridge=websocket_bridge, state=state
    )
