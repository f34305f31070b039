"""UserExecutionContext: validated ids, immutability, child contexts, the re-export."""

from __future__ import annotations

import dataclasses
from datetime import timezone

import pytest

from netra_backend.app.services.user_execution_context import (
    InvalidContextError,
    UserExecutionContext,
)


def test_a_valid_context_gets_a_request_id_and_a_utc_time() -> None:
    a = UserExecutionContext(user_id="user1", thread_id="thread1", run_id="run1")
    b = UserExecutionContext(user_id="user1", thread_id="thread1", run_id="run1")
    assert a.request_id != b.request_id
    assert a.created_at.tzinfo is timezone.utc
    assert a.metadata == {}


@pytest.mark.parametrize("field", ["user_id", "thread_id", "run_id"])
@pytest.mark.parametrize(
    "value",
    ["", "   ", "none", "None", "null", "placeholder", "registry", "undefined", "test", "default"],
)
def test_placeholder_and_empty_ids_are_rejected_naming_field_and_value(
    field: str, value: str
) -> None:
    ids = {"user_id": "user1", "thread_id": "thread1", "run_id": "run1", field: value}
    with pytest.raises(InvalidContextError) as info:
        UserExecutionContext(**ids)
    assert field in str(info.value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [None, 42, b"user1"])
def test_non_string_ids_are_rejected(value: object) -> None:
    with pytest.raises(InvalidContextError, match="user_id must be a string"):
        UserExecutionContext(user_id=value, thread_id="t1", run_id="r1")  # type: ignore[arg-type]


def test_the_context_is_frozen_and_owns_its_metadata() -> None:
    meta = {"plan": "pro"}
    ctx = UserExecutionContext(user_id="user1", thread_id="thread1", run_id="run1", metadata=meta)
    meta["plan"] = "free"
    assert ctx.metadata["plan"] == "pro"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.user_id = "user2"  # type: ignore[misc]


def test_child_context_keeps_the_user_and_links_the_parent() -> None:
    parent = UserExecutionContext(
        user_id="user1", thread_id="thread1", run_id="run1", metadata={"a": 1}
    )
    child = parent.create_child_context(run_id="run1_sub", metadata={"b": 2})
    assert (child.user_id, child.thread_id, child.run_id) == ("user1", "thread1", "run1_sub")
    assert child.metadata == {"a": 1, "b": 2, "parent_request_id": parent.request_id}
    assert child.request_id != parent.request_id
    with pytest.raises(InvalidContextError, match="'user2'"):
        parent.create_child_context(user_id="user2")
    with pytest.raises(InvalidContextError, match="placeholder"):
        parent.create_child_context(run_id="none")
    with pytest.raises(InvalidContextError, match="unknown child context field"):
        parent.create_child_context(colour="blue")


def test_the_supervisor_path_re_exports_the_same_class() -> None:
    from netra_backend.app.agents.supervisor import user_execution_context as supervisor_path

    assert supervisor_path.UserExecutionContext is UserExecutionContext
    assert supervisor_path.InvalidContextError is InvalidContextError
