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
"""

from __future__ import annotations

import asyncio
from typing import Any

from suites.support.contexts import create_authenticated_user_context
from suites.support.monitor import REQUIRED_EVENTS, integrity_problems, sequence_problems
from suites.support.rollback import Ledger, lost_data
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
