"""Migration state: parsing, the context variable, in-place switches, NETRA_MIGRATION."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from netra_backend.app.core.migration import (
    COMPONENTS,
    MigrationError,
    MigrationState,
    all_states,
    current_migration,
    set_process_migration,
    switch_migration,
    use_migration,
)


@pytest.mark.parametrize(
    ("text", "migrated", "spec"),
    [
        ("deprecated", set(), "deprecated"),
        ("ssot", set(COMPONENTS), "ssot"),
        ("partial:", set(), "deprecated"),
        ("partial:factory,engine", {"engine", "factory"}, "partial:engine,factory"),
        (" partial: emitter , state ", {"emitter", "state"}, "partial:emitter,state"),
        ("partial:engine,factory,emitter,state", set(COMPONENTS), "ssot"),
    ],
)
def test_parse_and_canonical_spec(text: str, migrated: set[str], spec: str) -> None:
    state = MigrationState.parse(text)
    assert state.migrated == frozenset(migrated)
    assert state.spec == spec
    assert MigrationState.parse(state.spec) == state


@pytest.mark.parametrize(
    ("text", "needle"),
    [("partial:engine,turbo", "'turbo'"), ("halfway", "'halfway'"), ("ssot2", "'ssot2'")],
)
def test_bad_specs_name_the_value_and_the_choices(text: str, needle: str) -> None:
    with pytest.raises(MigrationError, match=needle) as info:
        MigrationState.parse(text)
    assert "engine" in str(info.value)


def test_is_migrated_rejects_unknown_components() -> None:
    with pytest.raises(MigrationError, match="'engines'"):
        MigrationState.ssot().is_migrated("engines")


def test_all_states_are_the_sixteen_subsets() -> None:
    states = all_states()
    assert len(states) == len(set(states)) == 16
    assert states[0] == MigrationState.deprecated()
    assert states[-1] == MigrationState.ssot()
    assert MigrationState.of("engine", "emitter").features == {"ssot-engine", "user-emitter"}


def test_use_migration_nests_and_restores() -> None:
    set_process_migration("ssot")
    with use_migration("deprecated"):
        assert current_migration().spec == "deprecated"
        with use_migration(MigrationState.of("state")):
            assert current_migration().spec == "partial:state"
        assert current_migration().spec == "deprecated"
    assert current_migration().spec == "ssot"


async def test_switch_reaches_tasks_started_in_the_block() -> None:
    seen: list[str] = []
    gate = asyncio.Event()

    async def watcher() -> None:
        seen.append(current_migration().spec)
        await gate.wait()
        seen.append(current_migration().spec)

    with use_migration("ssot"):
        task = asyncio.ensure_future(watcher())
        await asyncio.sleep(0)
        previous = switch_migration("deprecated")
        gate.set()
        await task
    assert previous.spec == "ssot"
    assert seen == ["ssot", "deprecated"]


async def test_separate_blocks_do_not_disturb_each_other() -> None:
    async def run(spec: str) -> str:
        with use_migration(spec):
            await asyncio.sleep(0)
            return current_migration().spec

    assert await asyncio.gather(run("ssot"), run("deprecated")) == ["ssot", "deprecated"]


def test_switch_outside_any_block_changes_the_process_default() -> None:
    set_process_migration("ssot")
    switch_migration("partial:engine")
    assert current_migration().spec == "partial:engine"


def _python(code: str, spec: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NETRA_MIGRATION"}
    if spec is not None:
        env["NETRA_MIGRATION"] = spec
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.slow  # fresh interpreters
def test_netra_migration_sets_the_process_default() -> None:
    code = "from netra_backend.app.core.migration import current_migration as c; print(c().spec)"
    assert _python(code, "partial:factory,emitter").stdout.strip() == "partial:factory,emitter"
    assert _python(code, None).stdout.strip() == "ssot"
    bad = _python(code, "partial:factory,warp")
    assert bad.returncode != 0
    assert "'warp'" in bad.stderr
