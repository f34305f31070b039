"""The SSOT state: every component migrated; UserExecutionEngine is the only engine.

Engines are built through `await UserExecutionEngine.create_from_legacy(registry,
websocket_bridge, user_context)`, the compatibility bridge migrated callers use.
Every legacy import path resolves to UserExecutionEngine, every factory returns
one, events go through a per-user emitter and all state is per engine.
"""

from __future__ import annotations

from typing import Any

from adapters.base import COMPONENT_FEATURES, Adapter, CellLike, _migration


class SsotAdapter(Adapter):
    name = "ssot"
    features: frozenset[str] = frozenset(COMPONENT_FEATURES.values())

    def state_for(self, cell: CellLike) -> Any:
        return _migration().MigrationState.ssot()


adapter = SsotAdapter()
