"""Shared fixtures for netra_backend's own tests.

Coroutine tests run under `asyncio.run` (no pytest-asyncio needed), and every
test starts and ends with the process-wide legacy state cleared, the way the
matrix adapters reset it between cells.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator

import pytest
from netra_helpers import World, make_world

from netra_backend.app.core.reset import reset_process_state


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


@pytest.fixture(autouse=True)
def _clean_process_state() -> Iterator[None]:
    reset_process_state()
    yield
    reset_process_state()


@pytest.fixture
def world() -> World:
    return make_world()
