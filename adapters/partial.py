"""A partial state: the components of the cell migrated, the others still deprecated.

The cell names its migrated components (`cell.components`, in rollout order, e.g.
("engine", "factory") for `partial[engine+factory]`); each adds its feature:
engine -> ssot-engine, factory -> ssot-factory, emitter -> user-emitter,
state -> isolated-state. Engines are built by
`engine_provider.create_engine(..., state=...)`, which follows the migrated
components. The same adapter serves every state of a sweep, the empty one
(`partial[]`, equal to deprecated in behaviour) and the full one included.
"""

from __future__ import annotations

from typing import Any, ClassVar

from adapters.base import COMPONENT_FEATURES, Adapter, CellLike, _migration


class PartialAdapter(Adapter):
    name = "partial"
    # Per component, not per adapter: which ones apply depends on the cell.
    component_features: ClassVar[dict[str, str]] = dict(COMPONENT_FEATURES)

    def state_for(self, cell: CellLike) -> Any:
        unknown = sorted(set(cell.components) - set(COMPONENT_FEATURES))
        if unknown:
            msg = (
                f"cell {cell.id}: unknown migration component(s) {unknown}; "
                f"the partial adapter knows {', '.join(COMPONENT_FEATURES)}"
            )
            raise ValueError(msg)
        return _migration().MigrationState.of(*cell.components)


adapter = PartialAdapter()
