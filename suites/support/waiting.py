"""Waiting for something to become true inside a test's event loop, with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

DEFAULT_TIMEOUT = 10.0


async def wait_until(
    condition: Callable[[], bool], what: str, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Poll `condition` at every event-loop turn until it holds, else AssertionError naming `what`.

    Polling at every turn (`sleep(0)`) matters: a run in flight advances one step
    per turn, so the caller sees the condition the turn after it became true,
    while the run is still at its next step, not after it has raced to the end.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            msg = f"timed out after {timeout}s waiting for {what}"
            raise AssertionError(msg)
        await asyncio.sleep(0)
