"""Put the process back in a clean state between tests or matrix cells.

The deprecated code keeps module globals; this clears them without importing
the legacy modules when they were never loaded (so an all-SSOT process never
loads them at all).
"""

from __future__ import annotations

import sys

from netra_backend.app.core.migration import reset_process_migration

_LEGACY_MODULES = ("netra_backend.app.legacy.shared_state", "netra_backend.app.legacy.routing")


def reset_process_state(*, migration: bool = True) -> None:
    """Clear the legacy shared book and current run; optionally reset the process migration."""
    for name in _LEGACY_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            module.reset()
    if migration:
        reset_process_migration()
