"""Bookkeeping of agent runs: active runs, history, stats and the response cache.

The SSOT engines keep one `RunBook` per instance. The deprecated code keeps one
for the whole process (`netra_backend.app.legacy.shared_state`), which is the
"state shared by all users" bug.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

CacheKey = tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class CachedAnswer:
    """A finished answer and the tool calls that produced it (replayed as events on a hit)."""

    data: dict[str, Any]
    tool_calls: tuple[tuple[str, dict[str, Any], Any], ...]


@dataclasses.dataclass
class RunBook:
    """Mutable bookkeeping; one per engine (SSOT) or one per process (deprecated)."""

    active_runs: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    history: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    cache: dict[CacheKey, CachedAnswer | asyncio.Future[CachedAnswer]] = dataclasses.field(
        default_factory=dict
    )
    succeeded: int = 0
    failed: int = 0
    cache_hits: int = 0
    total_time: float = 0.0

    def clear(self) -> None:
        self.active_runs.clear()
        self.history.clear()
        self.cache.clear()
        self.succeeded = self.failed = self.cache_hits = 0
        self.total_time = 0.0

    def record(self, entry: dict[str, Any], *, success: bool, execution_time: float) -> None:
        self.history.append(entry)
        if success:
            self.succeeded += 1
        else:
            self.failed += 1
        self.total_time += execution_time

    def stats(self) -> dict[str, Any]:
        total = self.succeeded + self.failed
        return {
            "total_executions": total,
            "successful_executions": self.succeeded,
            "failed_executions": self.failed,
            "cache_hits": self.cache_hits,
            "active_runs": len(self.active_runs),
            "average_execution_time": self.total_time / total if total else 0.0,
            "users": sorted({str(h.get("user_id")) for h in self.history}),
            "run_ids": [str(h.get("run_id")) for h in self.history],
        }
