"""Seed 2.2, continued: the promises of the SSOT engine's API, one test per promise.

The seed's compatibility test asks that the legacy methods (`execute_agent`,
`get_execution_stats`, `cleanup`) "still work" on a UserExecutionEngine; these tests
say what working means, as docs/netra_backend_api.md promises it. Each test checks
one failure mode, so one broken promise never hides another. They build
UserExecutionEngine directly (the class exists in every state) and run it in the
cell's state, so every promise holds in every state: matrix.yaml's default (pass)
is their rule. A user alone is always routed correctly, whatever the emitter, so
the event checks hold before the emitter is migrated too.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

QUESTION = "What is the system status?"


class SlowLLM:
    """An LLM that takes far longer than the engine's timeout."""

    async def complete(self, prompt: str, *, system: str = "", user_id: str | None = None) -> str:
        await asyncio.sleep(5)
        return "too late"


async def _engine(sut: Any, user: Any, **options: Any) -> Any:
    from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine

    registry = options.pop("registry", sut.registry)
    return await UserExecutionEngine.create_from_legacy(registry, sut.bridge, user, **options)


async def test_engine_refuses_an_agent_context_of_another_user(sut: Any) -> None:
    alice, bob = sut.user("promise_alice"), sut.user("promise_bob")
    engine = await _engine(sut, alice)
    with pytest.raises(ValueError, match="promise_bob"):
        await engine.execute_agent(sut.agent_context(bob, "triage_agent", QUESTION))
    await engine.cleanup()


async def test_engine_refuses_a_user_context_of_another_user(sut: Any) -> None:
    alice, bob = sut.user("promise_alice"), sut.user("promise_bob")
    engine = await _engine(sut, alice)
    with pytest.raises(ValueError, match="promise_bob"):
        await engine.execute_agent(sut.agent_context(alice, "triage_agent", QUESTION), bob)
    await engine.cleanup()


async def test_engine_refuses_runs_after_cleanup(sut: Any) -> None:
    from netra_backend.app.agents.supervisor.user_execution_engine import EngineClosedError

    user = sut.user("promise_closed")
    engine = await _engine(sut, user)
    await engine.cleanup()
    assert engine.is_closed, "cleanup() must close the engine"
    with pytest.raises(EngineClosedError):
        await engine.execute_agent(sut.agent_context(user, "triage_agent", QUESTION), user)


async def test_engine_stats_describe_its_own_user_and_runs(sut: Any) -> None:
    """Whose engine, its limit, and its runs counted by outcome.

    Exact counts per engine are test_execution_stats_isolated's (they hold only with
    isolated state); here the counts need only add up and see the failed run.
    """
    user = sut.user("promise_stats")
    engine = await _engine(sut, user, max_concurrent=3)
    await engine.execute_agent(sut.agent_context(user, "triage_agent", QUESTION), user)
    await engine.execute_agent(sut.agent_context(user, "no_such_agent", QUESTION), user)
    stats = await engine.get_execution_stats()
    assert (stats["user_id"], stats["max_concurrent"]) == ("promise_stats", 3), stats
    assert (
        stats["successful_executions"] + stats["failed_executions"] == stats["total_executions"]
    ), stats
    assert stats["successful_executions"] >= 1, stats
    assert stats["failed_executions"] >= 1, stats
    assert "promise_stats" in stats["users"], stats
    await engine.cleanup()


async def test_a_timeout_is_a_failed_result(sut: Any) -> None:
    from netra_backend.app.agents.registry import get_agent_registry

    user = sut.user("promise_timeout")
    engine = await _engine(sut, user, registry=get_agent_registry(SlowLLM()), timeout=0.05)
    result = await engine.execute_agent(sut.agent_context(user, "triage_agent", QUESTION), user)
    assert not result.success, "a run past the engine's timeout must fail"
    assert "timed out after" in str(result.error), result.error
    await engine.cleanup()


async def test_a_timeout_still_sends_a_failed_agent_completed(sut: Any) -> None:
    from netra_backend.app.agents.registry import get_agent_registry

    user = sut.user("promise_timeout_events")
    inbox = await sut.connect(user.user_id)
    engine = await _engine(sut, user, registry=get_agent_registry(SlowLLM()), timeout=0.05)
    result = await engine.execute_agent(sut.agent_context(user, "triage_agent", QUESTION), user)
    await sut.settle()
    completed = [m for m in inbox.for_run(result.run_id) if m.get("type") == "agent_completed"]
    assert len(completed) == 1, f"expected one agent_completed, got {inbox.types(result.run_id)}"
    assert completed[0]["payload"]["result"]["success"] is False, completed[0]
    await engine.cleanup()


async def test_an_unknown_agent_is_a_failed_result_without_events(sut: Any) -> None:
    user = sut.user("promise_unknown")
    inbox = await sut.connect(user.user_id)
    engine = await _engine(sut, user)
    result = await engine.execute_agent(sut.agent_context(user, "no_such_agent", QUESTION), user)
    await sut.settle()
    assert not result.success
    assert "triage_agent" in str(result.error), f"the error must name the agents: {result.error}"
    assert inbox.for_run(result.run_id) == [], inbox.types(result.run_id)
    await engine.cleanup()


async def test_factory_limits_engines_per_user(sut: Any) -> None:
    from netra_backend.app.agents.supervisor.execution_engine_factory import (
        EngineLimitError,
        ExecutionEngineFactory,
    )

    factory = ExecutionEngineFactory(sut.registry, sut.bridge, max_engines_per_user=2)
    user = sut.user("promise_limit")
    engines = [await factory.create_for_user(user) for _ in range(2)]
    assert factory.active_engines(user.user_id) == 2
    with pytest.raises(EngineLimitError, match="promise_limit"):
        await factory.create_for_user(user)
    other = await factory.create_for_user(sut.user("promise_other"))  # a per-user limit
    for engine in [*engines, other]:
        await factory.release(engine)


async def test_factory_release_frees_a_slot(sut: Any) -> None:
    from netra_backend.app.agents.supervisor.execution_engine_factory import (
        EngineLimitError,
        ExecutionEngineFactory,
    )

    factory = ExecutionEngineFactory(sut.registry, sut.bridge, max_engines_per_user=2)
    user = sut.user("promise_release")
    first = await factory.create_for_user(user)
    second = await factory.create_for_user(user)
    await factory.release(first)
    assert factory.active_engines(user.user_id) == 1, "release() frees exactly one slot"
    third = await factory.create_for_user(user)
    assert third.get_user_context() == user
    with pytest.raises(EngineLimitError):
        await factory.create_for_user(user)
    for engine in (second, third):
        await factory.release(engine)
    assert factory.active_engines(user.user_id) == 0


@pytest.mark.parametrize(("limit", "valid"), [(0, False), (1, True)])
async def test_engine_concurrency_limit_must_be_at_least_one(
    sut: Any, limit: int, valid: bool
) -> None:
    user = sut.user("promise_concurrency")
    if not valid:
        with pytest.raises(ValueError, match="max_concurrent"):
            await _engine(sut, user, max_concurrent=limit)
        return
    engine = await _engine(sut, user, max_concurrent=limit)
    result = await engine.execute_agent(sut.agent_context(user, "triage_agent", QUESTION), user)
    assert result.success, result.error
    await engine.cleanup()


async def test_engine_is_open_until_cleanup(sut: Any) -> None:
    user = sut.user("promise_open")
    engine = await _engine(sut, user)
    assert engine.is_closed is False, "a new engine must be open"
    await engine.cleanup()
    assert engine.is_closed is True


async def test_engine_accepts_its_own_user_by_value(sut: Any) -> None:
    """The same user id, as another string object (ids arrive over the wire), is the same user."""
    user = sut.user("promise_same")
    engine = await _engine(sut, user)
    same_id = "".join(["promise_", "same"])
    context = sut.agent_context(user, "triage_agent", QUESTION)
    result = await engine.execute_agent(dataclasses.replace(context, user_id=same_id))
    assert result.success, result.error
    await engine.cleanup()


async def test_engine_and_factory_defaults(sut: Any) -> None:
    from netra_backend.app.agents.supervisor.execution_engine_factory import (
        ExecutionEngineFactory,
    )

    engine = await _engine(sut, sut.user("promise_defaults"))
    assert (engine.max_concurrent, engine.timeout) == (5, 30.0)
    assert ExecutionEngineFactory(sut.registry, sut.bridge).max_engines_per_user == 3
    await engine.cleanup()


def test_factory_limit_must_be_at_least_one(sut: Any) -> None:
    from netra_backend.app.agents.supervisor.execution_engine_factory import (
        ExecutionEngineFactory,
    )

    with pytest.raises(ValueError, match="max_engines_per_user"):
        ExecutionEngineFactory(sut.registry, sut.bridge, max_engines_per_user=0)
    assert ExecutionEngineFactory(sut.registry, sut.bridge, max_engines_per_user=1)


async def test_factory_engines_stream_through_the_given_bridge(sut: Any) -> None:
    from netra_backend.app.agents.supervisor.execution_engine_factory import (
        ExecutionEngineFactory,
    )

    user = sut.user("promise_factory_events")
    inbox = await sut.connect(user.user_id)
    factory = ExecutionEngineFactory(sut.registry, sut.bridge)
    engine = await factory.create_for_user(user)
    result = await engine.execute_agent(sut.agent_context(user, "triage_agent", QUESTION), user)
    await sut.settle()
    await factory.release(engine)
    assert result.success, result.error
    types = inbox.types(result.run_id)
    assert types[:1] == ["agent_started"], types
    assert types[-1:] == ["agent_completed"], types
