"""The deprecated state: no component migrated; the legacy ExecutionEngine everywhere.

Engines are built with the legacy constructor
`ExecutionEngine(registry, websocket_bridge, user_context)`, which shares its runs,
history, stats and response cache with every other engine and routes events by a
process-wide "current run". The adapter declares no feature.
"""

from __future__ import annotations

from typing import Any

from adapters.base import Adapter, CellLike, _migration


class DeprecatedAdapter(Adapter):
    name = "deprecated"
    features: frozenset[str] = frozenset()

    def state_for(self, cell: CellLike) -> Any:
        return _migration().MigrationState.deprecated()


adapter = DeprecatedAdapter()
