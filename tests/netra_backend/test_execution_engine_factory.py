"""ExecutionEngineFactory (per-user limit) and the legacy factory functions per state."""

from __future__ import annotations

import pytest
from netra_helpers import World, agent_request

from netra_backend.app.agents.supervisor.execution_engine_factory import (
    EngineLimitError,
    ExecutionEngineFactory,
    create_execution_engine,
    get_execution_engine,
)
from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine
from netra_backend.app.core.migration import use_migration


async def test_per_user_engine_limit_and_release(world: World) -> None:
    factory = ExecutionEngineFactory(world.registry, world.bridge, max_engines_per_user=2)
    one, two = world.user(1), world.user(2)
    engines = [await factory.create_for_user(one) for _ in range(2)]
    assert all(isinstance(e, UserExecutionEngine) for e in engines)
    with pytest.raises(EngineLimitError, match=r"'user1'.*max_engines_per_user=2.*release"):
        await factory.create_for_user(one)
    other = await factory.create_for_user(two)  # another user's slots are separate
    result = await other.execute_agent(agent_request(two, "triage_agent", "weather?"))
    assert result.success
    await factory.release(engines[0])
    await factory.release(engines[0])
    assert engines[0].is_closed
    assert factory.active_engines("user1") == 1
    assert isinstance(await factory.create_for_user(one), UserExecutionEngine)


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_engines_per_user"):
        ExecutionEngineFactory(max_engines_per_user=0)


def test_legacy_factories_build_different_types_until_migrated(world: World) -> None:
    ctx = world.user(1)
    with use_migration("partial:engine"):
        a = create_execution_engine(world.registry, world.bridge, ctx)
        b = get_execution_engine(world.registry, world.bridge)
    assert type(a) is not type(b)
    assert set(dir(a)) != set(dir(b))
    with use_migration("partial:factory"):
        a = create_execution_engine(world.registry, world.bridge, ctx)
        b = get_execution_engine(world.registry, world.bridge, ctx)
        with pytest.raises(ValueError, match="UserExecutionContext"):
            get_execution_engine(world.registry, world.bridge)
    assert type(a) is type(b) is UserExecutionEngine
