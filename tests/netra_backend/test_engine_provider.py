"""create_engine builds the engine a caller in the given (or current) state builds."""

from __future__ import annotations

from netra_helpers import World, agent_request

from netra_backend.app.agents.supervisor.engine_provider import create_engine
from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine
from netra_backend.app.core.migration import use_migration


async def test_explicit_state_overrides_the_current_one(world: World) -> None:
    ctx = world.user(1)
    with use_migration("ssot"):
        legacy = await create_engine(
            ctx, registry=world.registry, websocket_bridge=world.bridge, state="deprecated"
        )
        ssot = await create_engine(ctx, registry=world.registry, websocket_bridge=world.bridge)
    assert not isinstance(legacy, UserExecutionEngine)
    assert isinstance(ssot, UserExecutionEngine)
    assert ssot.get_user_context() == ctx
    with use_migration("ssot"):
        result = await legacy.execute_agent(agent_request(ctx, "triage_agent", "weather?"))
    assert result.success
    assert result.metadata["engine"].endswith("ExecutionEngine")
