"""What each user's clients received, from a system under test's inboxes."""

from __future__ import annotations

from typing import Any

from adapters.relay import inboxes_by_user


def received_by_user(sut: Any) -> dict[str, list[dict[str, Any]]]:
    return inboxes_by_user(sut.inboxes)
