"""Seed 2.2: legacy constructor calls give a working UserExecutionEngine.

The seed imports `UserExecutionEngine as ExecutionEngine` and calls
`create_from_legacy`; that module exists in every state, so taken literally the
test cannot fail before the migration. What the migration promises is that code
still written against the legacy name and constructor gets a UserExecutionEngine:
`test_legacy_constructor_compatibility` asks that of the legacy import path and of
the engine the state builds from the legacy arguments (feature ssot-engine).
`test_create_from_legacy_bridge` is the seed's literal test, which holds in every
state because the compatibility bridge exists from the start.
"""

from __future__ import annotations

import importlib
from typing import Any

from suites.support.imports import describe

LEGACY_PATH = "netra_backend.app.agents.supervisor.execution_engine"


def _check_engine(engine: Any, user_context: Any, engine_class: Any, how: str) -> None:
    assert engine is not None, f"Legacy constructor compatibility failed ({how})"
    assert isinstance(engine, engine_class), (
        f"MIGRATION INCOMPLETE: {how} should return UserExecutionEngine, "
        f"got {describe(type(engine))}"
    )
    for method in ("execute_agent", "get_execution_stats", "cleanup", "get_user_context"):
        assert hasattr(engine, method), f"{method} method missing ({how})"
    assert engine.get_user_context() == user_context, (
        f"User context not properly set in legacy compatibility ({how})"
    )


async def test_legacy_constructor_compatibility(sut: Any) -> None:
    from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine

    execution_engine_class = importlib.import_module(LEGACY_PATH).ExecutionEngine
    assert hasattr(execution_engine_class, "create_from_legacy"), (
        f"MIGRATION INCOMPLETE: {LEGACY_PATH}.ExecutionEngine is "
        f"{describe(execution_engine_class)}, which has no create_from_legacy compatibility bridge"
    )
    user_context = sut.user("legacy_ctor_user")
    engine = await execution_engine_class.create_from_legacy(
        registry=sut.registry, websocket_bridge=sut.bridge, user_context=user_context
    )
    _check_engine(
        engine,
        user_context,
        UserExecutionEngine,
        f"{LEGACY_PATH}.ExecutionEngine.create_from_legacy",
    )

    built = await sut.engine(user_context)
    _check_engine(
        built, user_context, UserExecutionEngine, "the engine built from legacy arguments"
    )
    result = await built.execute_agent(
        sut.agent_context(user_context, "triage_agent", "What is the system status?"), user_context
    )
    assert result.success, f"legacy-built engine failed to run an agent: {result.error}"
    await engine.cleanup()
    await built.cleanup()


async def test_create_from_legacy_bridge(sut: Any) -> None:
    from netra_backend.app.agents.supervisor.user_execution_engine import (
        UserExecutionEngine as ExecutionEngine,
    )

    user_context = sut.user("bridge_user")
    engine = await ExecutionEngine.create_from_legacy(
        registry=sut.registry, websocket_bridge=sut.bridge, user_context=user_context
    )
    _check_engine(engine, user_context, ExecutionEngine, "UserExecutionEngine.create_from_legacy")
    await engine.cleanup()
