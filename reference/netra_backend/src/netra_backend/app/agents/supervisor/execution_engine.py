"""Legacy import path of `ExecutionEngine` (the supervisor's original engine).

`from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine`
gives the deprecated class until the `engine` component is migrated, and
`UserExecutionEngine` afterwards, decided at each import.
"""

from __future__ import annotations

from netra_backend.app.agents.supervisor.engine_resolution import resolver

__getattr__ = resolver(__name__, "ExecutionEngine")
