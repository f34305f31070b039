"""The stable part of failure messages, as a `match:` pattern."""

from __future__ import annotations

import re

import pytest

from migmatrix.update.stable import stable_match


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (["SSOT VIOLATION: 3 engines", "SSOT VIOLATION: 4 engines"], "SSOT VIOLATION"),
        (["CRITICAL: user_12 got it at 0x7f3a"], "CRITICAL"),
        (["leaked run a1b2c3d4e5f6 to bob"], "leaked run"),
        (["Engine(id=7) is shared (twice)"], "Engine"),
        (["same words here", "same words there"], "same words"),
        (["short 1"], None),
        ([None, "x"], None),
        (["wrong user: a.b (c) [d]?"], "wrong user: a.b"),
    ],
)
def test_stable_match(messages: list[str | None], expected: str | None) -> None:
    found = stable_match(messages)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert re.sub(r"\\(.)", r"\1", found) == expected
    for message in messages:
        assert re.search(found, message or "")


def test_special_characters_are_escaped() -> None:
    found = stable_match(["a.b+c wrong? yes"])
    assert found == r"a\.b\+c wrong\? yes"
