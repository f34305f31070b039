"""Seed 2.1: after the migration every ExecutionEngine import gives UserExecutionEngine,
and concurrent users are isolated (validation: fails before the fix, passes after).

The seed checks import statements as text; the statements do not change between
states here (the legacy modules serve `ExecutionEngine` through a module
`__getattr__`), so the check is what the text check stood for: what each import
site resolves to in the state in effect. That follows the `engine` component.
The isolation test follows the `state` component.
"""

from __future__ import annotations

import asyncio
from typing import Any

from suites.support.contamination import check_for_user_data_contamination
from suites.support.imports import (
    describe,
    scan_for_deprecated_execution_engine_imports,
    scan_for_execution_engine_imports,
    ssot_class,
)

NUM_USERS = 5
QUESTION = "Summarize the private data stored for my account"


def test_single_execution_engine_import_source(sut: Any) -> None:
    execution_engine_imports = scan_for_execution_engine_imports()
    assert execution_engine_imports, "the import scan found no ExecutionEngine import at all"
    target = ssot_class()
    for file_path, site, resolved in execution_engine_imports:
        assert resolved is target, (
            f"MIGRATION INCOMPLETE: {file_path}:{site.line} `{site.statement}` still resolves "
            f"to deprecated {describe(resolved)}"
        )
    deprecated_imports = scan_for_deprecated_execution_engine_imports()
    assert len(deprecated_imports) == 0, (
        f"MIGRATION INCOMPLETE: {len(deprecated_imports)} deprecated imports remain"
    )


async def execute_isolated_agent(
    sut: Any, engine: Any, user_context: Any, private_data: str
) -> Any:
    """One user's request: the same words every user uses, with their private data attached."""
    agent_context = sut.agent_context(
        user_context, "data_helper_agent", QUESTION, metadata={"private_data": private_data}
    )
    return await engine.execute_agent(agent_context, user_context)


async def test_user_context_isolation_after_migration(sut: Any) -> None:
    user_contexts = [
        sut.user(f"user{i}", thread_id=f"thread{i}", run_id=f"run{i}") for i in range(NUM_USERS)
    ]
    engines = [await sut.engine(context) for context in user_contexts]
    tasks = [
        asyncio.create_task(execute_isolated_agent(sut, engine, context, f"test_data_user_{i}"))
        for i, (engine, context) in enumerate(zip(engines, user_contexts, strict=False))
    ]
    results = await asyncio.gather(*tasks)

    violations = []
    for i, result in enumerate(results):
        for j, other in enumerate(user_contexts):
            if i != j:
                found = check_for_user_data_contamination(result, other, [f"test_data_user_{j}"])
                if found:
                    violations.append(f"User {j} data {found} found in User {i} result")
    assert not violations, "ISOLATION VIOLATION: " + "; ".join(violations)

    for i, result in enumerate(results):
        assert result.success, f"User {i} run failed: {result.error}"
        assert f"test_data_user_{i}" in str(result), f"User {i} data missing from result"
    for engine in engines:
        await engine.cleanup()


async def test_execution_stats_isolated(sut: Any) -> None:
    """All state per engine: each engine's stats and history count its own user's runs only."""
    users = [sut.user(f"stats_user_{i}") for i in range(2)]
    engines = [await sut.engine(user) for user in users]
    results = await asyncio.gather(
        *(
            engine.execute_agent(
                sut.agent_context(
                    user, "triage_agent", f"What is the system status for {user.user_id}?"
                ),
                user,
            )
            for engine, user in zip(engines, users, strict=False)
        )
    )
    assert all(r.success for r in results), [r.error for r in results]
    for engine, user in zip(engines, users, strict=False):
        stats = await engine.get_execution_stats()
        assert (stats["total_executions"], stats["users"]) == (1, [user.user_id]), (
            f"ISOLATION VIOLATION: the execution stats of {user.user_id}'s engine count "
            f"other runs: {stats['total_executions']} runs of users {stats['users']}"
        )
    for engine in engines:
        await engine.cleanup()
