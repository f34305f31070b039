"""The run core in every migration state (all 16 subsets of the four components).

Each state is checked with both engines, so the table in docs/netra_backend_api.md
holds whichever engine runs: the golden path works for one user everywhere, and
each deprecated bug appears exactly when its component is deprecated.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from netra_helpers import (
    World,
    agent_request,
    assert_golden_events,
    make_world,
)

from netra_backend.app.agents.supervisor.engine_provider import create_engine
from netra_backend.app.agents.supervisor.execution_engine_factory import (
    create_execution_engine,
    get_execution_engine,
)
from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine
from netra_backend.app.core.migration import MigrationState, all_states, use_migration

STATES = all_states()
STATE_IDS = [s.spec for s in STATES]


async def _engine(world: World, kind: str, ctx: Any) -> Any:
    if kind == "ssot":
        return await UserExecutionEngine.create_from_legacy(world.registry, world.bridge, ctx)
    from netra_backend.app.legacy.engines import ExecutionEngine as LegacyEngine

    return LegacyEngine(world.registry, world.bridge, ctx)


@pytest.mark.parametrize("kind", ["legacy", "ssot"])
@pytest.mark.parametrize("state", STATES, ids=STATE_IDS)
async def test_golden_path_for_one_user(state: MigrationState, kind: str) -> None:
    world = make_world()
    with use_migration(state):
        ctx = world.user(1)
        engine = await _engine(world, kind, ctx)
        cases = [
            ("triage_agent", "What is the weather like today?", "weather", False),
            ("supervisor_agent", "Analyze the current system status", "system status", True),
            ("data_helper_agent", "Look up my data records", "data", True),
        ]
        for agent, text, topic, tools in cases:
            world.connections[ctx.user_id].messages.clear()
            result = await engine.execute_agent(agent_request(ctx, agent, text), ctx)
            assert result.success, result.error
            response = result.data["response"]
            assert topic in response.lower(), response
            assert text in response, "the answer quotes the user's own words"
            assert_golden_events(world.types(ctx.user_id), tools=tools)
            assert {m["run_id"] for m in world.events(ctx.user_id)} == {ctx.run_id}
            assert {m["user_id"] for m in world.events(ctx.user_id)} == {ctx.user_id}
        await engine.cleanup()


async def _two_users_same_question(state: MigrationState, kind: str) -> tuple[World, list[Any]]:
    world = make_world()
    with use_migration(state):
        contexts = [world.user(1), world.user(2)]
        engines = [await _engine(world, kind, ctx) for ctx in contexts]
        requests = [
            agent_request(
                ctx,
                "supervisor_agent",
                "Analyze the system status",
                marker=f"test_data_{ctx.user_id}",
            )
            for ctx in contexts
        ]
        results = await asyncio.gather(
            *(e.execute_agent(r, c) for e, r, c in zip(engines, requests, contexts, strict=False))
        )
    return world, list(results)


@pytest.mark.parametrize("kind", ["legacy", "ssot"])
@pytest.mark.parametrize("state", STATES, ids=STATE_IDS)
async def test_two_concurrent_users_show_exactly_the_deprecated_bugs(
    state: MigrationState, kind: str
) -> None:
    world, (first, second) = await _two_users_same_question(state, kind)
    assert first.success
    assert second.success

    # state: the (agent, input) cache hands user2 the answer computed for user1.
    data_leaked = "test_data_user1" in str(second) or "'user1'" in str(second.data)
    assert data_leaked == (not state.is_migrated("state"))
    assert "test_data_user2" not in str(first)
    if state.is_migrated("state"):
        assert "test_data_user2" in str(second)
        assert second.data["user_id"] == "user2"

    # emitter: the process-wide current run sends user1's events to user2.
    misrouted = any(m["run_id"] != "run1" for m in world.events("user1")) or any(
        m["run_id"] != "run2" for m in world.events("user2")
    )
    lost = world.types("user1").count("agent_started") != 1
    assert (misrouted or lost) == (not state.is_migrated("emitter"))
    if state.is_migrated("emitter"):
        for user in ("user1", "user2"):
            assert_golden_events(world.types(user), tools=True)
            assert {m["user_id"] for m in world.events(user)} == {user}


@pytest.mark.parametrize("state", STATES, ids=STATE_IDS)
async def test_engine_and_factory_components_decide_the_types(state: MigrationState) -> None:
    world = make_world()
    with use_migration(state):
        ctx = world.user(1)
        from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine

        built = await create_engine(ctx, registry=world.registry, websocket_bridge=world.bridge)
        one = create_execution_engine(world.registry, world.bridge, ctx)
        two = get_execution_engine(world.registry, world.bridge, ctx)
    assert (ExecutionEngine is UserExecutionEngine) == state.is_migrated("engine")
    assert isinstance(built, UserExecutionEngine) == state.is_migrated("engine")
    same = type(one) is type(two) is UserExecutionEngine and set(dir(one)) == set(dir(two))
    assert same == state.is_migrated("factory")
    if not state.is_migrated("factory"):
        assert set(dir(one)) != set(dir(two)), "the legacy factories differ in methods too"


@pytest.mark.parametrize(
    ("before", "after"),
    [("ssot", "deprecated"), ("deprecated", "ssot"), ("partial:engine,factory", "ssot")],
)
@pytest.mark.parametrize("kind", ["legacy", "ssot"])
async def test_switching_state_with_runs_in_flight_loses_nothing(
    before: str, after: str, kind: str
) -> None:
    from netra_helpers import GatedLLM

    llm = GatedLLM()
    world = make_world(llm)
    with use_migration(before):
        contexts = [world.user(1), world.user(2)]
        engines = [await _engine(world, kind, ctx) for ctx in contexts]
        tasks = [
            asyncio.ensure_future(
                e.execute_agent(
                    agent_request(c, "supervisor_agent", f"system status for {c.user_id}")
                )
            )
            for e, c in zip(engines, contexts, strict=False)
        ]
        while llm.waiting < 2:  # both runs are inside the agent, mid-flight
            await asyncio.sleep(0)
        from netra_backend.app.core.migration import current_migration, switch_migration

        switch_migration(after)
        assert current_migration().spec == after
        llm.gate.set()
        results = await asyncio.gather(*tasks)
        stats = [await e.get_execution_stats() for e in engines]

    for ctx, result in zip(contexts, results, strict=False):
        assert result.success, result.error
        assert ctx.user_id in result.data["response"], "each user's own question is answered"
        assert result.metadata["migration"] == after, "the run finished under the new state"
    # Every run is accounted for and none is left active, wherever its books were kept.
    assert sum(s["total_executions"] for s in stats) >= 2
    assert all(s["active_runs"] == 0 for s in stats)
    from netra_backend.app.legacy.shared_state import SHARED_BOOK

    assert SHARED_BOOK.active_runs == {}
    # No event is lost: two runs, two starts and two completions delivered in all.
    delivered = world.types("user1") + world.types("user2")
    assert delivered.count("agent_started") == delivered.count("agent_completed") == 2
    if MigrationState.parse(after).is_migrated("emitter"):
        for user, run in (("user1", "run1"), ("user2", "run2")):
            last = world.events(user)[-1]
            assert (last["type"], last["run_id"]) == ("agent_completed", run)
