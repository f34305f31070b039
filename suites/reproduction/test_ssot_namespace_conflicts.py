"""Seed 1.1: several ExecutionEngine classes behind one name (reproduction: fails before the fix).

The seed's own asserts are written the wrong way round (`assert DeprecatedEngine
!= UserExecutionEngine` passes on the old code); its docstrings say what the test
must do: FAIL while several classes answer to `ExecutionEngine` and PASS once
only UserExecutionEngine does. The assertions below say that, with the seed's
"SSOT VIOLATION" message. Both follow the `engine` component (feature ssot-engine).
"""

from __future__ import annotations

import inspect
from typing import Any

from suites.support.imports import (
    describe,
    find_execution_engine_imports,
    import_execution_engine_from_file,
)


def test_execution_engine_namespace_conflicts(sut: Any) -> None:
    """REPRODUCTION: `execution_engine.ExecutionEngine` is not UserExecutionEngine."""
    from netra_backend.app.agents.supervisor.execution_engine import (
        ExecutionEngine as DeprecatedEngine,
    )
    from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine

    assert DeprecatedEngine is UserExecutionEngine, (
        f"SSOT VIOLATION: execution_engine.ExecutionEngine is {describe(DeprecatedEngine)}, "
        f"a different class from {describe(UserExecutionEngine)}"
    )
    deprecated_params = list(inspect.signature(DeprecatedEngine.__init__).parameters)
    ssot_params = list(inspect.signature(UserExecutionEngine.__init__).parameters)
    assert deprecated_params == ssot_params, (
        f"SSOT VIOLATION: constructor signatures differ: {deprecated_params} vs {ssot_params}"
    )


def test_import_resolution_consistency(sut: Any) -> None:
    """REPRODUCTION: the ExecutionEngine imports of the codebase resolve to different classes."""
    sites = find_execution_engine_imports()
    # A scan that finds almost nothing proves nothing: the legacy paths must be among the sites.
    modules = {site.module for site in sites}
    assert "netra_backend.app.agents.supervisor.execution_engine" in modules, (
        f"the import scan found no use of the legacy execution_engine module; sites: {sites}"
    )
    imported_classes = [(site, import_execution_engine_from_file(site)) for site in sites]
    unique_classes = {cls for _, cls in imported_classes}
    by_class: dict[str, list[str]] = {}
    for site, cls in imported_classes:
        by_class.setdefault(describe(cls), []).append(f"{site.file}:{site.line}")
    assert len(unique_classes) == 1, (
        f"SSOT VIOLATION: {len(unique_classes)} different ExecutionEngine classes found: "
        + "; ".join(f"{name} <- {', '.join(where)}" for name, where in sorted(by_class.items()))
    )
