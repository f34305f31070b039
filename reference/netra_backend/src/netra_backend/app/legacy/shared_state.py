"""DEPRECATED: the process-wide bookkeeping every legacy engine shares.

One book for all users: active runs, history, stats and a response cache keyed
by (agent, input) without the user. Two users asking the same agent the same
thing get one answer, computed for whoever asked first.
"""

from __future__ import annotations

from netra_backend.app.agents.supervisor.run_book import RunBook

SHARED_BOOK = RunBook()


def reset() -> None:
    """Forget everything (tests and adapters call this between cases)."""
    SHARED_BOOK.clear()
