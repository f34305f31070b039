"""Every legacy import path resolves `ExecutionEngine` per state; SSOT never loads legacy code."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

from netra_backend.app.agents.supervisor.engine_resolution import LEGACY_ENGINE_MODULES
from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine
from netra_backend.app.core.migration import use_migration


def _classes() -> list[type]:
    return [importlib.import_module(m).ExecutionEngine for m in LEGACY_ENGINE_MODULES]


def test_deprecated_paths_give_three_different_classes() -> None:
    with use_migration("partial:factory,emitter,state"):
        classes = _classes()
    assert len(set(classes)) == 3
    assert UserExecutionEngine not in classes


def test_migrated_paths_all_give_user_execution_engine() -> None:
    with use_migration("partial:engine"):
        assert set(_classes()) == {UserExecutionEngine}
        from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine

    assert ExecutionEngine is UserExecutionEngine


def test_other_names_are_ordinary_attribute_errors() -> None:
    module = importlib.import_module(LEGACY_ENGINE_MODULES[0])
    with pytest.raises(AttributeError, match="'Nope'"):
        module.Nope  # noqa: B018


@pytest.mark.slow  # a fresh interpreter
def test_an_all_ssot_process_never_imports_legacy_code() -> None:
    code = """
import asyncio, sys
from netra_backend.app.agents.supervisor.execution_engine import ExecutionEngine
from netra_backend.app.agents.supervisor.engine_provider import create_engine
from netra_backend.app.agents.supervisor.execution_context import AgentExecutionContext as A
from netra_backend.app.services.user_execution_context import UserExecutionContext as U
async def main():
    u = U("user1", "thread1", "run1")
    e = await create_engine(u)
    r = await e.execute_agent(A("supervisor_agent", "user1", "thread1", "run1", "status?"))
    assert r.success, r.error
asyncio.run(main())
print(sorted(m for m in sys.modules if "legacy" in m))
"""
    env = {**os.environ, "NETRA_MIGRATION": "ssot"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
