"""Fixtures for the server's tests: one live server per module, users made per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import SECRET, LiveServer

from netra_backend.app.core.migration import MigrationState
from netra_backend.server.config import ServerConfig


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn on loopback serving the ssot engine over a fresh SQLite file."""
    db: Path = tmp_path_factory.mktemp("server") / "netra.db"
    config = ServerConfig(db_path=str(db), jwt_secret=SECRET, migration=MigrationState.ssot())
    with LiveServer(config) as server:
        yield server
