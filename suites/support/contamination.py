"""Seed 1.2 / 8: did one user's data or events reach another user?

A user's data is what identifies them or what only they said: their user,
thread and run ids, and any private words the test gave them. A marker is found
as a whole token (so "user1" is not found inside "user10"). The checks return
what they found (empty = clean), so the assertion message can say it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def identity_markers(user_context: Any) -> list[str]:
    return [user_context.user_id, user_context.thread_id, user_context.run_id]


def _contains_token(text: str, marker: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(marker)}(?![A-Za-z0-9])", text) is not None


def result_text(result: Any) -> str:
    """Everything a user gets back from a run, as text: the data, and whose run it claims to be."""
    parts = [str(getattr(result, "data", result))]
    for field in ("user_id", "run_id", "error"):
        value = getattr(result, field, None)
        if value is not None:
            parts.append(f"{field}={value}")
    return "\n".join(parts)


def check_for_user_data_contamination(
    result: Any, other_context: Any, private_words: Iterable[str] = ()
) -> list[str]:
    """The markers of `other_context`'s user (ids and private words) found in `result`."""
    text = result_text(result)
    markers = [*identity_markers(other_context), *private_words]
    return [m for m in markers if m and _contains_token(text, m)]


def check_websocket_event_contamination(
    user1_context: Any, user2_context: Any, received: Mapping[str, Sequence[Mapping[str, Any]]]
) -> list[str]:
    """Events that reached the wrong user, or a user's own run events that never reached them.

    `received` maps a user id to the messages that user's clients got. For each
    of the two users, every message they got must be about one of their own runs
    and addressed to them, and their own run must have reached them.
    """
    found: list[str] = []
    pairs = ((user1_context, user2_context), (user2_context, user1_context))
    for me, other in pairs:
        messages = received.get(me.user_id, [])
        for message in messages:
            run_id, addressed = message.get("run_id"), message.get("user_id")
            if run_id == other.run_id or addressed == other.user_id:
                found.append(
                    f"{message.get('type')} of run {run_id!r} (for {addressed!r}) "
                    f"delivered to {me.user_id!r}"
                )
        if not any(m.get("run_id") == me.run_id for m in messages):
            found.append(f"{me.user_id!r} received none of the events of its own run {me.run_id!r}")
    return found
