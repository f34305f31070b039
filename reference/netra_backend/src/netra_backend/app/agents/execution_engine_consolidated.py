"""Legacy import path of the "consolidated" `ExecutionEngine` (resolved per migration state)."""

from __future__ import annotations

from netra_backend.app.agents.supervisor.engine_resolution import resolver

__getattr__ = resolver(__name__, "ConsolidatedExecutionEngine")
