"""The identity of one user's request, validated once and then immutable.

Every engine, emitter and store call is scoped by this context. Ids that are
empty, not strings, or placeholders ("none", "registry", ...) are rejected at
construction, because a placeholder id is how shared state used to leak.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

PLACEHOLDER_IDS: frozenset[str] = frozenset(
    {
        "none",
        "null",
        "nil",
        "undefined",
        "placeholder",
        "registry",
        "default",
        "test",
        "temp",
        "tmp",
        "unknown",
        "anonymous",
        "system",
        "0",
        "-",
    }
)

_ID_FIELDS = ("user_id", "thread_id", "run_id", "request_id")


class InvalidContextError(ValueError):
    """A context field holds an empty, non-string or placeholder id."""


def validate_id(field: str, value: object) -> str:
    """Return `value` if it is a usable id for `field`, else raise InvalidContextError."""
    if not isinstance(value, str):
        msg = f"{field} must be a string id, got {type(value).__name__} {value!r}"
        raise InvalidContextError(msg)
    if not value.strip():
        msg = f"{field} must not be empty (got {value!r}); pass the real {field}"
        raise InvalidContextError(msg)
    if value.strip().lower() in PLACEHOLDER_IDS:
        msg = f"{field} {value!r} is a placeholder, not a real id; pass the real {field}"
        raise InvalidContextError(msg)
    return value


def _new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclasses.dataclass(frozen=True)
class UserExecutionContext:
    """Who is asking, in which thread, for which run."""

    user_id: str
    thread_id: str
    run_id: str
    request_id: str = dataclasses.field(default_factory=_new_request_id)
    created_at: datetime = dataclasses.field(default_factory=_utc_now)
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        for field in _ID_FIELDS:
            validate_id(field, getattr(self, field))
        if not isinstance(self.metadata, Mapping):
            msg = f"metadata must be a mapping, got {type(self.metadata).__name__}"
            raise InvalidContextError(msg)
        if self.created_at.tzinfo is None:
            msg = f"created_at must be timezone-aware (UTC), got naive {self.created_at!r}"
            raise InvalidContextError(msg)
        # A private copy, so a caller mutating its dict cannot change a frozen context.
        object.__setattr__(self, "metadata", dict(self.metadata))

    def create_child_context(self, **overrides: Any) -> UserExecutionContext:
        """A context for a sub-run of the same user: same user, a new request id.

        `overrides` may replace thread_id, run_id and metadata (merged over the
        parent's); the user cannot change.
        """
        if "user_id" in overrides and overrides["user_id"] != self.user_id:
            msg = (
                f"a child context keeps the parent's user_id {self.user_id!r}; "
                f"got {overrides['user_id']!r}: create a new context for another user"
            )
            raise InvalidContextError(msg)
        unknown = sorted(set(overrides) - {"user_id", "thread_id", "run_id", "metadata"})
        if unknown:
            msg = f"unknown child context field(s) {unknown}; use thread_id, run_id, metadata"
            raise InvalidContextError(msg)
        metadata = {**self.metadata, **overrides.get("metadata", {})}
        metadata["parent_request_id"] = self.request_id
        return UserExecutionContext(
            user_id=self.user_id,
            thread_id=overrides.get("thread_id", self.thread_id),
            run_id=overrides.get("run_id", self.run_id),
            metadata=metadata,
        )
