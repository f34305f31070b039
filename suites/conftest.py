"""Fixtures every phase suite shares, built on the harness's `cell` fixture.

`sut` opens the cell's adapter (`cell.adapter_object.open(cell)`; in staging see the
fixture): the migration state of the cell is active for the test, netra_backend's
process-global state is reset before and after, and the test gets a `SystemUnderTest`
(registry, bridge, connection manager, store, chat service, and `engine(user_context)`,
which builds an engine the way code in that state does). Suites never build an
engine any other way.

Async tests run without pytest-asyncio: `pytest_pyfunc_call` below runs a
coroutine test function in a fresh event loop (`asyncio.run`) with its fixture
values, then awaits the loop-bound cleanup of any fixture value that has one
(`aclose_in_loop`, e.g. the loopback WebSocket server of the integration env),
in that same loop. A fresh loop per test keeps tests independent, as the cells
interleaving on one worker require.

A coverage rule such as "no line of the legacy engine runs in an ssot cell" counts
what cells execute, not which cell happened to import a module first: the harness
never charges a cell with import-time lines (docs/adapters.md).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine, Iterable, Iterator
from typing import Any

import pytest


@pytest.fixture
def sut(cell: Any) -> Iterator[Any]:
    """netra_backend in the cell's migration state, wired for the cell's env.

    In staging (an env with the `server` feature) that is the cell's running server
    (`cell.service_url`), reached as a `RemoteSystem` (suites.support.chat), held
    for this test alone once it talks to it (`server_lock`).
    """
    from suites.support.chat import RemoteSystem, is_remote, require_service_url

    if is_remote(cell):
        remote = RemoteSystem(cell, require_service_url(cell))
        try:
            yield remote
        finally:
            remote.close()
        return
    with cell.adapter_object.open(cell) as system:
        yield system


async def _drive(test: Coroutine[Any, Any, Any], values: Iterable[Any]) -> None:
    try:
        await test
    finally:
        for value in values:
            close = getattr(value, "aclose_in_loop", None)
            if close is not None and inspect.iscoroutinefunction(close):
                await close()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests in their own event loop; leave plain tests to pytest."""
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(_drive(function(**kwargs), list(pyfuncitem.funcargs.values())))
    return True
