"""The deprecated engines: three classes, different methods, and their shared-state bugs."""

from __future__ import annotations

import asyncio

from netra_helpers import World, agent_request

from netra_backend.app.core.migration import use_migration
from netra_backend.app.legacy.engines import (
    ConsolidatedExecutionEngine,
    ExecutionEngine,
    RequestScopedExecutionEngine,
)


def test_three_classes_with_different_capabilities(world: World) -> None:
    engines = [
        cls(world.registry, world.bridge)
        for cls in (ExecutionEngine, ConsolidatedExecutionEngine, RequestScopedExecutionEngine)
    ]
    assert len({type(e) for e in engines}) == 3
    method_sets = [frozenset(n for n in dir(e) if not n.startswith("_")) for e in engines]
    assert len(set(method_sets)) == 3
    common = frozenset.intersection(*method_sets)
    assert {"execute_agent", "get_execution_stats", "cleanup"} <= common


async def test_deprecated_state_shares_stats_and_history_between_users(world: World) -> None:
    with use_migration("deprecated"):
        one = ExecutionEngine(world.registry, world.bridge, world.user(1))
        two = ExecutionEngine(world.registry, world.bridge, world.user(2))
        await one.execute_agent(agent_request(world.user(1), "triage_agent", "weather?"))
        stats_seen_by_two = await two.get_execution_stats()
    assert stats_seen_by_two["users"] == ["user1"], "user2's engine reports user1's run"
    with use_migration("ssot"):
        assert (await two.get_execution_stats())["users"] == []


async def test_deprecated_cache_answers_user2_with_user1s_data_even_after_the_fact(
    world: World,
) -> None:
    with use_migration("deprecated"):
        one = ExecutionEngine(world.registry, world.bridge)
        first = await one.execute_agent(
            agent_request(world.user(1), "triage_agent", "weather?", secret="s1")
        )
        second = await one.execute_agent(
            agent_request(world.user(2), "triage_agent", "weather?", secret="s2")
        )
    assert first.data is not None
    assert second.data is not None
    assert second.data["user_id"] == "user1"
    assert second.data["metadata"] == {"secret": "s1"}


async def test_deprecated_routing_sends_interleaved_events_to_the_last_started_run(
    world: World,
) -> None:
    with use_migration("partial:state"):  # only the emitter bug is left
        engines = [ExecutionEngine(world.registry, world.bridge, world.user(i)) for i in (1, 2)]
        await asyncio.gather(
            *(
                e.execute_agent(agent_request(world.user(i), "triage_agent", f"weather {i}?"))
                for e, i in zip(engines, (1, 2), strict=False)
            )
        )
    assert world.events("user1") == [], "user1 started first and heard nothing"
    assert world.types("user2").count("agent_started") == 2


async def test_extra_legacy_methods_work(world: World) -> None:
    ctx = world.user(1)
    with use_migration("deprecated"):
        supervisor = ExecutionEngine(world.registry, world.bridge, ctx)
        piped = await supervisor.execute_pipeline(
            [
                agent_request(ctx, "triage_agent", "weather?"),
                agent_request(ctx, "data_helper_agent", "records"),
            ]
        )
        assert [r.success for r in piped] == [True, True]
        assert supervisor.get_active_runs() == {}
        consolidated = ConsolidatedExecutionEngine(world.registry, world.bridge, ctx)
        retried = await consolidated.execute_with_retry(
            agent_request(ctx, "ghost", "x"), attempts=3
        )
        assert not retried.success
        assert consolidated.get_metrics()["failed_executions"] == 3
        await consolidated.shutdown()
        scoped = RequestScopedExecutionEngine(world.registry, world.bridge, ctx)
        assert (await scoped.run_request("triage_agent", "status?")).success
        assert "user1" in scoped.describe()
