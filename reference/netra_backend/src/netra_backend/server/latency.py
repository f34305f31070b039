"""A simulated provider latency in front of the offline LLM client.

The offline client answers in microseconds; a real provider takes a while, and
that wait is what makes runs overlap. `--llm-latency` puts it back, for load
runs and shutdown drills (a run that is still in flight when the signal comes).
"""

from __future__ import annotations

import asyncio

from netra_backend.app.llm.client import LLMClient


class DelayedLLM:
    """Any `LLMClient`, answering `latency` seconds later."""

    def __init__(self, inner: LLMClient, latency: float) -> None:
        self.inner = inner
        self.latency = latency

    async def complete(self, prompt: str, *, system: str = "", user_id: str | None = None) -> str:
        await asyncio.sleep(self.latency)
        return await self.inner.complete(prompt, system=system, user_id=user_id)
