"""What a rollback lost: the ledger of a conversation, and the data a store no longer returns.

The paths a cell rolls back along are declared once, in matrix.yaml's
`rollback.paths`, and expanded by the harness: the rollback suite asks
`migmatrix.testing.rollback_targets(cell)`, which gives each as (name,
components, features), like an adapter state.

`Ledger` is everything a conversation wrote, as the clients saw it; `lost_data`
compares it with what a store still holds and names every message, run and event
that is no longer readable, so a rollback that loses data fails saying exactly what.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any


@dataclasses.dataclass
class Ledger:
    """What a conversation wrote, as its clients saw it, keyed by user and thread."""

    messages: dict[tuple[str, str], list[str]] = dataclasses.field(default_factory=dict)
    runs: dict[tuple[str, str], list[str]] = dataclasses.field(default_factory=dict)
    events: dict[tuple[str, str], list[str]] = dataclasses.field(default_factory=dict)

    def turn(
        self, user_id: str, thread_id: str, text: str, result: Any, received: list[str]
    ) -> None:
        """One user message and its answer: two messages, one run, the events received."""
        answer = result.response if result.success else f"Sorry, that failed: {result.error}"
        self.messages.setdefault((user_id, thread_id), []).extend([text, answer])
        self.runs.setdefault((user_id, thread_id), []).append(str(result.run_id))
        self.events[(user_id, str(result.run_id))] = list(received)


def lost_data(ledger: Ledger, store: Any, path: str) -> list[str]:
    """Every piece of `ledger` that `store` no longer returns, each named; [] if nothing is lost.

    `path` is the rollback as words, e.g. "ssot -> deprecated", for the messages.
    """
    lost: list[str] = []
    for (user, thread), expected in ledger.messages.items():
        stored = Counter(m["content"] for m in store.list_messages(thread, user))
        missing = []
        for content in expected:
            if stored[content] > 0:
                stored[content] -= 1
            else:
                missing.append(content)
        if missing:
            lost.append(
                f"{len(missing)} message{'s' * (len(missing) != 1)} of thread {thread} "
                f"(user {user}) not readable after {path}: {missing!r}"
            )
    for (user, thread), run_ids in ledger.runs.items():
        recorded = {r["run_id"]: r["status"] for r in store.list_runs(user, thread)}
        gone = [r for r in run_ids if r not in recorded]
        if gone:
            lost.append(
                f"{len(gone)} run{'s' * (len(gone) != 1)} of thread {thread} (user {user}) "
                f"not readable after {path}: {gone!r}"
            )
        unfinished = {
            r: recorded[r] for r in run_ids if r in recorded and recorded[r] != "completed"
        }
        if unfinished:
            lost.append(
                f"runs of thread {thread} (user {user}) not completed after {path}: {unfinished!r}"
            )
    for (user, run_id), received in ledger.events.items():
        stored_events = Counter(e["type"] for e in store.list_events(run_id, user))
        missing_events = list((Counter(received) - stored_events).elements())
        if missing_events:
            lost.append(
                f"{len(missing_events)} event{'s' * (len(missing_events) != 1)} of run {run_id} "
                f"(user {user}) not readable after {path}: {sorted(missing_events)!r}"
            )
    return lost
