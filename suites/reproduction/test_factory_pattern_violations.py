"""Seed 1.3: the factories build different engine types (reproduction: fails before the fix).

`create_execution_engine` and `get_execution_engine` are the two legacy factory
functions; the third engine is built directly, the way code in the state builds
one. All three must be the same type with the same capabilities. The factories
follow the `factory` component (ssot-factory) and the direct engine the `engine`
component (ssot-engine): the test passes only when both are migrated.
"""

from __future__ import annotations

import inspect
from typing import Any

from suites.support.imports import describe


async def _built(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def capabilities(engine: Any) -> set[str]:
    """The public methods an engine offers its callers."""
    return {
        name
        for name in dir(type(engine))
        if not name.startswith("_") and callable(getattr(engine, name))
    }


async def test_multiple_execution_engine_factories(sut: Any) -> None:
    create_execution_engine, get_execution_engine = sut.legacy_factories()
    contexts = [sut.user(f"factory_user_{i}") for i in (1, 2, 3)]

    factory1_engine = await _built(create_execution_engine(sut.registry, sut.bridge, contexts[0]))
    factory2_engine = await _built(get_execution_engine(sut.registry, sut.bridge, contexts[1]))
    direct_engine = await sut.engine(contexts[2])

    engines = {
        "create_execution_engine": factory1_engine,
        "get_execution_engine": factory2_engine,
        "direct": direct_engine,
    }
    kinds = {name: describe(type(engine)) for name, engine in engines.items()}
    assert type(factory1_engine) is type(factory2_engine) is type(direct_engine), (
        f"SSOT VIOLATION: Multiple ExecutionEngine types from different factories: {kinds}"
    )

    methods = {name: capabilities(engine) for name, engine in engines.items()}
    assert (
        methods["create_execution_engine"] == methods["get_execution_engine"] == methods["direct"]
    ), f"SSOT VIOLATION: Different ExecutionEngine capabilities: {methods}"
    for engine in engines.values():
        await engine.cleanup()
