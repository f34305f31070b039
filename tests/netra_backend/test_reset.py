"""reset_process_state: clears the legacy globals and the process migration."""

from __future__ import annotations

from netra_helpers import World, agent_request

from netra_backend.app.core.migration import current_migration, set_process_migration, use_migration
from netra_backend.app.core.reset import reset_process_state


async def test_reset_forgets_shared_history_cache_and_current_run(world: World) -> None:
    from netra_backend.app.legacy import routing
    from netra_backend.app.legacy.engines import ExecutionEngine
    from netra_backend.app.legacy.shared_state import SHARED_BOOK

    with use_migration("deprecated"):
        engine = ExecutionEngine(world.registry, world.bridge)
        await engine.execute_agent(agent_request(world.user(1), "triage_agent", "weather?"))
    routing.begin("run9", "user9", world.bridge)
    assert SHARED_BOOK.history
    assert SHARED_BOOK.cache
    set_process_migration("deprecated")
    reset_process_state()
    assert not SHARED_BOOK.history
    assert not SHARED_BOOK.cache
    assert routing.current_run() is None
    assert current_migration().spec == "ssot"
