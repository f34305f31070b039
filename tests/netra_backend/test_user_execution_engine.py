"""UserExecutionEngine: construction, user checks, limits, timeouts, stats, cleanup."""

from __future__ import annotations

import asyncio

import pytest
from netra_helpers import GatedLLM, World, agent_request, assert_golden_events, make_world

from netra_backend.app.agents.factory import AgentFactory
from netra_backend.app.agents.supervisor.user_execution_engine import (
    EngineClosedError,
    UserExecutionEngine,
)
from netra_backend.app.core.migration import use_migration
from netra_backend.app.websocket_core.emitter import UserWebSocketEmitter


async def test_create_from_legacy_binds_the_users_context(world: World) -> None:
    ctx = world.user(1)
    engine = await UserExecutionEngine.create_from_legacy(
        registry=world.registry, websocket_bridge=world.bridge, user_context=ctx
    )
    assert isinstance(engine, UserExecutionEngine)
    assert engine.get_user_context() == ctx
    for method in ("execute_agent", "get_execution_stats", "cleanup"):
        assert callable(getattr(engine, method))
    with pytest.raises(ValueError, match="UserExecutionContext"):
        await UserExecutionEngine.create_from_legacy(world.registry, world.bridge, None)


def test_legacy_arguments_to_the_constructor_point_at_create_from_legacy(world: World) -> None:
    with pytest.raises(TypeError, match="create_from_legacy"):
        UserExecutionEngine(world.registry, world.bridge, None)  # type: ignore[arg-type]


def test_an_emitter_for_another_user_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="'user2'"):
        UserExecutionEngine(
            world.user(1),
            AgentFactory(world.registry),
            UserWebSocketEmitter(world.bridge, world.user(2)),
        )


async def test_requests_for_another_user_raise_value_error(world: World) -> None:
    one, two = world.user(1), world.user(2)
    engine = await UserExecutionEngine.create_from_legacy(world.registry, world.bridge, one)
    with pytest.raises(ValueError, match="'user2'"):
        await engine.execute_agent(agent_request(two, "triage_agent", "hi"))
    with pytest.raises(ValueError, match="'user2'"):
        await engine.execute_agent(agent_request(one, "triage_agent", "hi"), two)
    assert world.events("user1") == world.events("user2") == []


async def test_an_unknown_agent_is_a_failed_result_without_events(world: World) -> None:
    ctx = world.user(1)
    engine = await UserExecutionEngine.create_from_legacy(world.registry, world.bridge, ctx)
    result = await engine.execute_agent(agent_request(ctx, "ghost_agent", "boo"))
    assert not result.success
    assert "'ghost_agent'" in (result.error or "")
    assert "triage_agent" in (result.error or "")
    assert world.events("user1") == []


async def test_a_slow_agent_times_out_into_a_failed_result_and_a_completed_event() -> None:
    world = make_world(GatedLLM())  # the gate never opens
    ctx = world.user(1)
    engine = await UserExecutionEngine.create_from_legacy(
        world.registry, world.bridge, ctx, timeout=0.05
    )
    result = await engine.execute_agent(agent_request(ctx, "triage_agent", "weather?"))
    assert not result.success
    assert "timed out after 0.05s" in (result.error or "")
    assert world.types("user1")[0] == "agent_started"
    assert world.types("user1")[-1] == "agent_completed"
    assert world.events("user1")[-1]["payload"]["result"]["success"] is False
    assert (await engine.get_execution_stats())["failed_executions"] == 1


async def test_concurrency_is_capped_per_engine() -> None:
    llm = GatedLLM()
    world = make_world(llm)
    ctx = world.user(1)
    engine = await UserExecutionEngine.create_from_legacy(
        world.registry, world.bridge, ctx, max_concurrent=2
    )
    runs = [
        asyncio.ensure_future(
            engine.execute_agent(agent_request(ctx, "triage_agent", f"question {i}"))
        )
        for i in range(5)
    ]
    for _ in range(50):
        await asyncio.sleep(0)
    assert llm.waiting == 2, "only two runs may be inside agents at once"
    llm.gate.set()
    results = await asyncio.gather(*runs)
    assert all(r.success for r in results)
    assert llm.max_waiting == 2


async def test_stats_are_per_engine_once_state_is_migrated(world: World) -> None:
    with use_migration("ssot"):
        engines = [
            await UserExecutionEngine.create_from_legacy(
                world.registry, world.bridge, world.user(i)
            )
            for i in (1, 2)
        ]
        await engines[0].execute_agent(agent_request(world.user(1), "triage_agent", "weather?"))
        first, second = [await e.get_execution_stats() for e in engines]
    assert (first["total_executions"], first["users"]) == (1, ["user1"])
    assert (second["total_executions"], second["users"]) == (0, [])


async def test_cleanup_closes_the_engine(world: World) -> None:
    ctx = world.user(1)
    engine = await UserExecutionEngine.create_from_legacy(world.registry, world.bridge, ctx)
    await engine.execute_agent(agent_request(ctx, "supervisor_agent", "system status"))
    assert_golden_events(world.types("user1"), tools=True)
    await engine.cleanup()
    assert engine.is_closed
    with pytest.raises(EngineClosedError, match="'user1'"):
        await engine.execute_agent(agent_request(ctx, "triage_agent", "again"))


def test_an_engine_serves_several_event_loops(world: World) -> None:
    ctx = world.user(1)
    engine = asyncio.run(UserExecutionEngine.create_from_legacy(world.registry, world.bridge, ctx))
    for text in ("weather?", "status?"):
        result = asyncio.run(engine.execute_agent(agent_request(ctx, "triage_agent", text)))
        assert result.success
