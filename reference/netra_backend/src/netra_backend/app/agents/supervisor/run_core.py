"""One agent run, step by step, as every engine performs it.

Both engines (the deprecated `ExecutionEngine`s and `UserExecutionEngine`) run
agents through `execute_run`. At each step it reads the migration state in
effect, so a state switched while a run is in flight takes effect at the run's
next step (a rollback), and each component's bug appears exactly when that
component is deprecated:

- `emitter`: deprecated -> events go through the process-wide "current run"
  (`legacy.routing`); migrated -> through the engine's per-user emitter.
- `state`: deprecated -> bookkeeping and the response cache live in the process-wide
  book with a cache key of (agent, input); migrated -> in the engine's own book, keyed
  by user, thread, agent, input and metadata.

The explicit `checkpoint()` awaits make two concurrent runs interleave the same
way every time, so the deprecated bugs show deterministically.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from netra_backend.app.agents.base import AgentAnswer, AgentRequest, UnknownAgentError
from netra_backend.app.agents.factory import AgentFactory
from netra_backend.app.agents.supervisor.execution_context import (
    AgentExecutionContext,
    AgentExecutionResult,
)
from netra_backend.app.agents.supervisor.run_book import CachedAnswer, CacheKey, RunBook
from netra_backend.app.core.migration import current_migration
from netra_backend.app.websocket_core.messages import EventSink

PRIVATE_METADATA = ("history",)
"""Metadata keys passed to agents but never echoed into results or events."""


async def checkpoint() -> None:
    """Yield to the event loop: the place concurrent runs interleave."""
    await asyncio.sleep(0)


def _legacy(name: str) -> Any:
    # Imported on first need only, so an all-SSOT process never loads legacy code.
    return importlib.import_module(f"netra_backend.app.legacy.{name}")


def book_in_effect(own: RunBook) -> RunBook:
    """The engine's own book once `state` is migrated, else the process-wide one."""
    if current_migration().is_migrated("state"):
        return own
    shared: RunBook = _legacy("shared_state").SHARED_BOOK
    return shared


def public_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if k not in PRIVATE_METADATA}


class RunEvents:
    """Chooses, at each event, where it goes: the engine's emitter or the legacy router."""

    def __init__(
        self,
        agent_context: AgentExecutionContext,
        own_sink: Callable[[], EventSink],
        legacy_target: Any,
    ) -> None:
        self.ctx = agent_context
        self._own_sink = own_sink
        self._legacy_target = legacy_target
        self._routed_globally = False
        self.step = 0

    def _sink(self) -> tuple[EventSink, str]:
        if current_migration().is_migrated("emitter"):
            return self._own_sink(), self.ctx.run_id
        sink: EventSink = _legacy("routing").RoutedSink(
            self._legacy_target, self.ctx.run_id, self.ctx.user_id
        )
        return sink, self.ctx.run_id

    def begin(self) -> None:
        if not current_migration().is_migrated("emitter"):
            _legacy("routing").begin(self.ctx.run_id, self.ctx.user_id, self._legacy_target)
            self._routed_globally = True

    def end(self) -> None:
        if self._routed_globally:
            _legacy("routing").end()

    async def started(self) -> None:
        sink, run_id = self._sink()
        await sink.notify_agent_started(
            run_id, self.ctx.agent_name, public_metadata(self.ctx.metadata)
        )

    async def thinking(self, reasoning: str) -> None:
        self.step += 1
        sink, run_id = self._sink()
        await sink.notify_agent_thinking(run_id, self.ctx.agent_name, reasoning, self.step)

    async def tool_executing(self, tool_name: str, parameters: dict[str, Any]) -> None:
        sink, run_id = self._sink()
        await sink.notify_tool_executing(run_id, self.ctx.agent_name, tool_name, parameters)

    async def tool_completed(self, tool_name: str, result: Any) -> None:
        sink, run_id = self._sink()
        await sink.notify_tool_completed(run_id, self.ctx.agent_name, tool_name, result)

    async def completed(self, result: dict[str, Any], execution_time_ms: float) -> None:
        sink, run_id = self._sink()
        await sink.notify_agent_completed(run_id, self.ctx.agent_name, result, execution_time_ms)


class _Runtime:
    """What an agent may do while it runs: think and use tools, each one an event."""

    def __init__(self, events: RunEvents, factory: AgentFactory, user_id: str) -> None:
        self.events = events
        self.factory = factory
        self.user_id = user_id
        self.tool_calls: list[tuple[str, dict[str, Any], Any]] = []

    async def think(self, reasoning: str) -> None:
        await checkpoint()
        await self.events.thinking(reasoning)

    async def use_tool(self, tool_name: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
        params = dict(parameters)
        await checkpoint()
        await self.events.tool_executing(tool_name, params)
        result = await self.factory.tool_dispatcher.execute(tool_name, params, user_id=self.user_id)
        await checkpoint()
        await self.events.tool_completed(tool_name, result)
        self.tool_calls.append((tool_name, params, result))
        return result


def _cache_key(ctx: AgentExecutionContext, book: RunBook, own: RunBook) -> CacheKey:
    if book is not own:
        # The deprecated key: nothing about who asked.
        return (ctx.agent_name, ctx.user_input)
    meta = json.dumps(public_metadata(ctx.metadata), sort_keys=True, default=str)
    return (ctx.user_id, ctx.thread_id, ctx.agent_name, ctx.user_input, meta)


def _answer_data(
    ctx: AgentExecutionContext, answer: AgentAnswer, tools: list[str]
) -> dict[str, Any]:
    return {
        "response": answer.response,
        "agent_name": ctx.agent_name,
        "user_id": ctx.user_id,
        "thread_id": ctx.thread_id,
        "user_input": ctx.user_input,
        "metadata": public_metadata(ctx.metadata),
        "tools_used": tools,
        "details": dict(answer.extras),
    }


async def _lookup(book: RunBook, key: CacheKey) -> CachedAnswer | None:
    """A finished answer for `key`, waiting for one in flight (on this loop) if need be."""
    entry = book.cache.get(key)
    if isinstance(entry, CachedAnswer):
        return entry
    if isinstance(entry, asyncio.Future) and entry.get_loop() is asyncio.get_running_loop():
        try:
            return await asyncio.shield(entry)
        except Exception:  # the other run failed; compute our own
            return None
    return None


async def _body(
    ctx: AgentExecutionContext, factory: AgentFactory, own: RunBook, events: RunEvents
) -> dict[str, Any]:
    agent = factory.create(ctx.agent_name)
    await checkpoint()
    await events.started()
    await checkpoint()
    await events.thinking(f"Received the request for {ctx.agent_name}")

    book = book_in_effect(own)
    key = _cache_key(ctx, book, own)
    cached = await _lookup(book, key)
    if cached is not None:
        book.cache_hits += 1
        for tool_name, params, result in cached.tool_calls:
            await checkpoint()
            await events.tool_executing(tool_name, params)
            await events.tool_completed(tool_name, result)
        return dict(cached.data)

    pending: asyncio.Future[CachedAnswer] = asyncio.get_running_loop().create_future()
    book.cache[key] = pending
    try:
        runtime = _Runtime(events, factory, ctx.user_id)
        request = AgentRequest(ctx.user_id, ctx.thread_id, ctx.run_id, ctx.user_input, ctx.metadata)
        answer = await agent.run(request, runtime)
        data = _answer_data(ctx, answer, [name for name, _, _ in runtime.tool_calls])
    except BaseException as exc:
        if book.cache.get(key) is pending:
            del book.cache[key]
        pending.set_exception(RuntimeError(f"shared computation failed: {exc!r}"))
        pending.exception()  # mark retrieved: nobody may be waiting
        raise
    finished = CachedAnswer(dict(data), tuple(runtime.tool_calls))
    pending.set_result(finished)
    book.cache[key] = finished
    return data


def _failed(ctx: AgentExecutionContext, error: str, started: float) -> AgentExecutionResult:
    return AgentExecutionResult(
        success=False,
        agent_name=ctx.agent_name,
        data=None,
        error=error,
        execution_time=time.perf_counter() - started,
        run_id=ctx.run_id,
        user_id=ctx.user_id,
    )


def _record(
    book: RunBook, ctx: AgentExecutionContext, result: AgentExecutionResult, label: str
) -> None:
    entry = {
        "run_id": ctx.run_id,
        "user_id": ctx.user_id,
        "agent_name": ctx.agent_name,
        "success": result.success,
        "engine": label,
    }
    book.record(entry, success=result.success, execution_time=result.execution_time)


async def execute_run(
    ctx: AgentExecutionContext,
    *,
    factory: AgentFactory,
    own_book: RunBook,
    own_sink: Callable[[], EventSink],
    legacy_target: Any,
    engine_label: str,
    timeout: float,
) -> AgentExecutionResult:
    """Run one agent with its events and bookkeeping; failures become failed results."""
    started = time.perf_counter()
    if ctx.agent_name not in factory.names():
        error = str(
            UnknownAgentError(
                f"unknown agent {ctx.agent_name!r}; registered agents: {', '.join(factory.names())}"
            )
        )
        result = _failed(ctx, error, started)
        _record(book_in_effect(own_book), ctx, result, engine_label)
        return result

    events = RunEvents(ctx, own_sink, legacy_target)
    events.begin()
    start_book = book_in_effect(own_book)
    start_book.active_runs[ctx.run_id] = {
        "user_id": ctx.user_id,
        "agent_name": ctx.agent_name,
        "engine": engine_label,
    }
    try:
        try:
            data = await asyncio.wait_for(_body(ctx, factory, own_book, events), timeout)
            result = AgentExecutionResult(
                success=True,
                agent_name=ctx.agent_name,
                data=data,
                execution_time=time.perf_counter() - started,
                run_id=ctx.run_id,
                user_id=ctx.user_id,
                metadata={"engine": engine_label, "migration": current_migration().spec},
            )
        except asyncio.TimeoutError:
            result = _failed(ctx, f"agent {ctx.agent_name!r} timed out after {timeout:g}s", started)
        except Exception as exc:  # an agent failure is a failed result
            result = _failed(
                ctx, f"agent {ctx.agent_name!r} failed: {type(exc).__name__}: {exc}", started
            )
        finally:
            start_book.active_runs.pop(ctx.run_id, None)
        summary = {"success": result.success, "response": result.response, "error": result.error}
        await checkpoint()
        await events.completed(summary, result.execution_time * 1000.0)
        _record(book_in_effect(own_book), ctx, result, engine_label)
        return result
    finally:
        events.end()
