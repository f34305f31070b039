"""Seed 9: roll the migration back in the middle of a conversation; nothing may be lost.

`test_rollback_paths`: every rollback path that matrix.yaml's `rollback.paths`
declares from the cell's state (the `rollback_targets` fixture), one after the
other; a failure names each failing path.

Per path: two users' conversations start in the cell's state; while alice's next
answer is being computed the state is switched back to the target, the way an
operator rolls back a deploy. The run in flight finishes under the target state,
both conversations continue (answered by the target's engine, which reads the
history the newer engine wrote), each user's long-lived engine keeps working and,
where the target isolates state, keeps stats of its own user only. Afterwards
every message, run and event is still readable through a second handle on the
store (a new SQLite connection on the file in the integration env); whatever is
not fails the test with "ROLLBACK LOST DATA: ..." naming it.

`test_partial_migration_state`: from the cell's state, step down the rollout
order one component at a time to deprecated, one message per state in one
thread: every state on the way keeps the golden path (relevant answer, five
events in order for a tool-using agent, history intact).

In staging (`sut.remote`) a rollback is a restart of a server in another state
over the same database (suites.support.server_rollback): each path gets a server
of its own, started in the cell's state from the env's declared service; two
users converse, alice's next run is in flight when the server is restarted in
the target state, the run finishes and its answer arrives before the old process
exits, both users reconnect with the tokens they had and continue, and every
message of both conversations is read back over HTTP ("ROLLBACK LOST DATA: ..."
names what is not).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from suites.support.chat import ChatUser, Turn
from suites.support.contexts import create_authenticated_user_context
from suites.support.monitor import REQUIRED_EVENTS, integrity_problems, sequence_problems
from suites.support.rollback import Ledger, lost_data
from suites.support.server_rollback import (
    lost_turns,
    own_server,
    wait_for_new_run,
)
from suites.support.waiting import wait_until

ROLLOUT_ORDER = ("engine", "factory", "emitter", "state")
ISOLATED_STATE = "isolated-state"


def _state(components: set[str] | frozenset[str]) -> Any:
    from netra_backend.app.core.migration import MigrationState

    return MigrationState(frozenset(components))


def one_step_back(state: Any) -> Any:
    """The state before the last component of `state` (in rollout order) was migrated."""
    migrated = [c for c in ROLLOUT_ORDER if c in state.migrated]
    return _state(set(migrated[:-1]))


ALICE_TOPICS = (
    "What is the weather like today for {user}?",
    "Will it rain this evening for {user}? Check the system status too",
    "And what should {user} wear?",
)
BOB_TOPICS = (
    "How much does the cloud cost {user} this month?",
    "And what about the storage cost of {user} next month?",
)


async def _engine_runs(sut: Any, engines: dict[str, Any], users: list[Any], text: str) -> None:
    for user in users:
        result = await engines[user.user_id].execute_agent(
            sut.agent_context(user, "triage_agent", f"{text} from {user.user_id}"), user
        )
        assert result.success, f"ROLLBACK FAILURE: {user.user_id}'s engine failed: {result.error}"


async def test_rollback_paths(sut: Any, rollback_targets: Any) -> None:
    """Every declared rollback path (matrix.yaml `rollback.paths`) from the cell's state."""
    assert rollback_targets, (
        f"no rollback path in matrix.yaml starts from {sut.cell.adapter}; declare one under "
        "rollback.paths or exclude this rollback cell"
    )
    if sut.remote:
        await _rollback_paths_over_the_wire(sut.cell, rollback_targets)
        return
    source = sut.state
    failures = []
    for number, target in enumerate(rollback_targets, 1):
        sut.switch(source)
        try:
            await _rollback_path(sut, target, number)
        except AssertionError as exc:
            first_line = str(exc).split("\nassert ")[0]
            failures.append(f"[{sut.cell.adapter} -> {target[0]}] {first_line}")
    assert not failures, "\n".join(failures)


async def _rollback_path(sut: Any, rollback_target: Any, number: int) -> None:
    """One path: two conversations across a switch from the cell's state to the target."""
    target_name, _components, target_features = rollback_target
    source = sut.state
    target = sut.state_with(target_features)
    path = f"{sut.cell.adapter} -> {target_name}"
    # Fresh users per path, so no answer cached by one path can serve the next.
    alice = create_authenticated_user_context(sut, f"alice_{number}")
    bob = create_authenticated_user_context(sut, f"bob_{number}")
    threads = {alice.user_id: f"t_alice_{alice.run_id}", bob.user_id: f"t_bob_{bob.run_id}"}
    inboxes = {u.user_id: await sut.connect(u.user_id) for u in (alice, bob)}
    turns: list[tuple[Any, str, Any]] = []

    async def say(user: Any, template: str, agent: str = "triage_agent") -> Any:
        # Every input names its user: a deprecated cache must not answer it from another.
        text = template.format(user=user.user_id)
        result = await sut.chat.send(user, threads[user.user_id], text, agent_name=agent)
        assert result.success, f"ROLLBACK FAILURE ({path}): {text!r} failed: {result.error}"
        turns.append((user, text, result))
        return result

    # Both conversations start, and both users' engines run, before the switch.
    await say(alice, ALICE_TOPICS[0])
    await say(bob, BOB_TOPICS[0])
    engines = {u.user_id: await sut.engine(u) for u in (alice, bob)}
    await _engine_runs(sut, engines, [alice, bob], "Hello before the rollback")

    # Alice's next answer is in flight when the state is switched back.
    started: list[str] = []
    known = {r.run_id for _, _, r in turns}
    sut.chat.bridge.add_observer(
        lambda m: (
            started.append(m["run_id"])
            if m["type"] == "agent_started" and m["run_id"] not in known
            else None
        )
    )
    in_flight = asyncio.ensure_future(
        sut.chat.send(
            alice,
            threads[alice.user_id],
            ALICE_TOPICS[1].format(user=alice.user_id),
            agent_name="supervisor_agent",
        )
    )
    await wait_until(lambda: bool(started), "alice's run to start")
    assert not in_flight.done(), "the run finished before the rollback could happen"
    previous = sut.switch(target)
    assert previous == source
    second = await in_flight
    assert second.success, f"ROLLBACK FAILURE ({path}): the run in flight failed: {second.error}"
    assert second.metadata.get("migration") == target.spec, (
        f"ROLLBACK FAILURE ({path}): the run in flight did not follow the rollback: "
        f"{second.metadata}"
    )
    turns.append((alice, ALICE_TOPICS[1].format(user=alice.user_id), second))

    # Both conversations continue after the switch, answered by the rolled-back engine,
    # which reads the history the newer engine wrote.
    for user, text in ((alice, ALICE_TOPICS[2]), (bob, BOB_TOPICS[1])):
        result = await say(user, text)
        assert "Continuing our conversation about" in result.response, (
            f"ROLLBACK FAILURE ({path}): {user.user_id}'s conversation did not continue: "
            f"{result.response}"
        )
    await _engine_runs(sut, engines, [alice, bob], "Hello after the rollback")
    await sut.settle()

    # Stats stay per user where the state rolled back to isolates them.
    if ISOLATED_STATE in target_features:
        for user in (alice, bob):
            stats = await engines[user.user_id].get_execution_stats()
            assert stats["users"] == [user.user_id], (
                f"ROLLBACK FAILURE ({path}): {user.user_id}'s engine stats list {stats['users']}"
            )
    for engine in engines.values():
        await engine.cleanup()

    # Nothing lost: every message, run and event, read through a second handle on the store.
    ledger = Ledger()
    for user, text, result in turns:
        received = inboxes[user.user_id].types(result.run_id)
        ledger.turn(user.user_id, threads[user.user_id], text, result, received)
    lost = lost_data(ledger, sut.reopen_store(), path)
    assert not lost, "ROLLBACK LOST DATA: " + "; ".join(lost)
    for user, _, result in turns:
        types = inboxes[user.user_id].types(result.run_id)
        required = REQUIRED_EVENTS if result is second else ("agent_started", "agent_completed")
        assert not sequence_problems(types, required), (
            f"ROLLBACK FAILURE ({path}): {user.user_id} got events {types} for {result.run_id}"
        )
    for user in (alice, bob):
        # The chat's runs, and the run of the user's own engine (its context's run id).
        runs = [r.run_id for u, _, r in turns if u is user] + [user.run_id]
        assert not integrity_problems(inboxes[user.user_id].messages, user.user_id, runs)

    # A fresh engine of the state rolled back to continues from what the newer engine wrote.
    messages = sut.reopen_store().list_messages(threads[alice.user_id], alice.user_id)
    engine = await sut.engine(alice)
    history = [{"role": m["role"], "content": m["content"]} for m in messages]
    result = await engine.execute_agent(
        sut.agent_context(
            alice, "triage_agent", "Summarize our chat", metadata={"history": history}
        ),
        alice,
    )
    assert result.success, result.error
    assert "Continuing our conversation about" in result.response, (
        f"ROLLBACK FAILURE ({path}): the rolled-back engine did not see the history: "
        f"{result.response}"
    )
    await engine.cleanup()


async def test_partial_migration_state(sut: Any) -> None:
    if sut.remote:
        await _partial_migration_over_the_wire(sut.cell)
        return
    state = sut.state
    path = [state]
    while path[-1].migrated:
        path.append(one_step_back(path[-1]))
    user = create_authenticated_user_context(sut, "partial_path_user")
    thread_id = f"thread_partial_{user.run_id}"
    inbox = await sut.connect(user.user_id)

    results = []
    for step, current in enumerate(path):
        sut.switch(current)
        text = (
            "What is the weather like today?"
            if step == 0
            else f"Analyze the current system status, step {step}"
        )
        result = await sut.chat.send(user, thread_id, text, agent_name="supervisor_agent")
        assert result.success, f"PARTIAL MIGRATION FAILURE in {current.spec}: {result.error}"
        topic = "weather" if step == 0 else "system status"
        assert topic in result.response.lower(), (
            f"PARTIAL MIGRATION FAILURE in {current.spec}: answer not relevant: {result.response}"
        )
        if step:
            assert "Continuing our conversation about" in result.response, (
                f"PARTIAL MIGRATION FAILURE in {current.spec}: history lost: {result.response}"
            )
        results.append(result)
    await sut.settle()

    for current, result in zip(path, results, strict=False):
        types = inbox.types(result.run_id)
        assert not sequence_problems(types, REQUIRED_EVENTS), (
            f"PARTIAL MIGRATION FAILURE in {current.spec}: events {types}"
        )
    messages = sut.reopen_store().list_messages(thread_id, user.user_id)
    assert len(messages) == 2 * len(path), f"PARTIAL MIGRATION FAILURE: history {messages}"
    runs = sut.reopen_store().list_runs(user.user_id, thread_id)
    assert [r["state"] for r in runs] == [s.spec for s in path], runs


# --------------------------------------------------------------------------- staging

PARALLEL_PATHS = 2
"""Paths whose servers run at once: each start is ~0.5 s of CPU, the machine has two cores."""


def _scratch(cell: Any, what: str) -> Path:
    import re
    import uuid

    base = Path(cell.workdir or ".") / "rollback-servers"
    return base / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', cell.id)}-{what}-{uuid.uuid4().hex[:6]}"


async def _rollback_paths_over_the_wire(cell: Any, targets: Any) -> None:
    gate = asyncio.Semaphore(PARALLEL_PATHS)

    async def one(target: Any) -> str | None:
        async with gate:
            try:
                await _rollback_path_over_the_wire(cell, target)
            except AssertionError as exc:
                first_line = str(exc).split("\nassert ")[0]
                return f"[{cell.adapter} -> {target[0]}] {first_line}"
        return None

    failures = [f for f in await asyncio.gather(*(one(t) for t in targets)) if f]
    assert not failures, "\n".join(failures)


async def _rollback_path_over_the_wire(cell: Any, target: Any) -> None:
    from adapters.base import state_with_features

    target_name, _components, target_features = target
    path = f"{cell.adapter} -> {target_name}"
    async with own_server(cell, _scratch(cell, target_name)) as server:
        chat = server.chat
        alice, bob = await chat.login("alice"), await chat.login("bob")
        kept: dict[tuple[str, str], list[Turn]] = {}

        async def say(user: ChatUser, template: str, thread: str | None, agent: str) -> Turn:
            text = template.format(user=user.user_id)
            turn = await chat.send(user, text, thread_id=thread, agent_name=agent)
            assert turn.success, f"ROLLBACK FAILURE ({path}): {text!r} failed: {turn.error}"
            kept.setdefault((user.name, turn.thread_id), []).append(turn)
            return turn

        first = await say(alice, ALICE_TOPICS[0], None, "triage_agent")
        bob_first = await say(bob, BOB_TOPICS[0], None, "triage_agent")

        # Alice's next answer is in flight when the server is restarted in the target state.
        known = {first.run_id, bob_first.run_id}
        text = ALICE_TOPICS[1].format(user=alice.user_id)
        ref = await chat.submit(
            alice, text, thread_id=first.thread_id, agent_name="supervisor_agent"
        )
        await wait_for_new_run(chat, alice, known)
        reconnect_later = [alice, bob]
        restart = asyncio.ensure_future(server.restart(target_name, []))
        second = await chat.turn(alice, text, ref)
        await restart
        await server.reconnect(reconnect_later)
        assert second.success, (
            f"ROLLBACK FAILURE ({path}): the run in flight failed: {second.error}\n"
            f"{server.log_excerpt()}"
        )
        assert not sequence_problems(second.types(), REQUIRED_EVENTS), (
            f"ROLLBACK FAILURE ({path}): the run in flight lost events: {second.types()}"
        )
        kept[("alice", first.thread_id)].append(second)
        expected = state_with_features(target_features).spec
        running = await server.migration()
        assert running == expected, (
            f"ROLLBACK FAILURE ({path}): the restarted server runs {running}, not {expected}"
        )

        # Both conversations continue after the restart, answered by the rolled-back
        # engine, which reads the history the newer one wrote.
        for user, template, thread in (
            (alice, ALICE_TOPICS[2], first.thread_id),
            (bob, BOB_TOPICS[1], bob_first.thread_id),
        ):
            turn = await say(user, template, thread, "triage_agent")
            assert "Continuing our conversation about" in turn.response, (
                f"ROLLBACK FAILURE ({path}): {user.name}'s conversation did not continue: "
                f"{turn.response}"
            )

        # Nothing lost: every message of both threads, read back over HTTP; and each
        # thread still belongs to its own user only.
        users = {"alice": alice, "bob": bob}
        readable = {
            (name, thread): await chat.history(users[name], thread) for name, thread in kept
        }
        lost = lost_turns(kept, readable, path)
        assert not lost, "ROLLBACK LOST DATA: " + "; ".join(lost)
        assert await chat.history(bob, first.thread_id) is None, (
            f"ROLLBACK FAILURE ({path}): bob reads alice's thread after the restart"
        )


async def _partial_migration_over_the_wire(cell: Any) -> None:
    from adapters.base import state_with_features

    states = [state_with_features(cell.features)]
    while states[-1].migrated:
        states.append(one_step_back(states[-1]))
    async with own_server(cell, _scratch(cell, "chain")) as server:
        chat = server.chat
        user = await chat.login("partial_path_user")
        thread: str | None = None
        turns = []
        for step, current in enumerate(states):
            if step:
                await server.restart(_adapter_name(current), [user])
            assert await server.migration() == current.spec
            text = (
                "What is the weather like today?"
                if step == 0
                else f"Analyze the current system status, step {step}"
            )
            turn = await chat.send(user, text, thread_id=thread, agent_name="supervisor_agent")
            thread = turn.thread_id
            assert turn.success, f"PARTIAL MIGRATION FAILURE in {current.spec}: {turn.error}"
            topic = "weather" if step == 0 else "system status"
            assert topic in turn.response.lower(), (
                f"PARTIAL MIGRATION FAILURE in {current.spec}: answer not relevant: {turn.response}"
            )
            if step:
                assert "Continuing our conversation about" in turn.response, (
                    f"PARTIAL MIGRATION FAILURE in {current.spec}: history lost: {turn.response}"
                )
            assert not sequence_problems(turn.types(), REQUIRED_EVENTS), (
                f"PARTIAL MIGRATION FAILURE in {current.spec}: events {turn.types()}"
            )
            turns.append(turn)
        assert thread is not None
        lost = lost_turns(
            {("user", thread): turns},
            {("user", thread): await chat.history(user, thread)},
            "the steps down",
        )
        assert not lost, "PARTIAL MIGRATION FAILURE: " + "; ".join(lost)


def _adapter_name(state: Any) -> str:
    """A migration state as the server's NETRA_MIGRATION takes it (an adapter state name)."""
    migrated = [c for c in ROLLOUT_ORDER if c in state.migrated]
    return f"partial[{'+'.join(migrated)}]"
