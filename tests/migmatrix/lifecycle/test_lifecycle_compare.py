"""The ratchet's order of expectations: what loosens, what tightens."""

from __future__ import annotations

import pytest

from migmatrix.lifecycle.compare import Change, classify
from migmatrix.lifecycle.snapshot import ExpKey


def key(words: str, raises: str | None = None, match: str | None = None) -> ExpKey:
    return (frozenset(words.split("|")), raises, match, None)


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        (key("pass"), key("pass"), None),
        (key("pass"), key("fail"), Change.LOOSENED),  # passed there, now expected to fail
        (key("pass"), key("pass|fail"), Change.LOOSENED),
        (key("fail", "E", "x"), key("pass"), Change.TIGHTENED),  # the bug is fixed
        (key("fail|pass"), key("fail"), Change.TIGHTENED),
        (key("fail", "E", "SSOT VIOLATION: two"), key("fail", "E", "SSOT"), Change.LOOSENED),
        (key("fail", "E", "SSOT"), key("fail", "E", "SSOT VIOLATION"), Change.TIGHTENED),
        (key("fail", "E", "SSOT"), key("fail", "E"), Change.LOOSENED),  # match dropped
        (key("fail", "E", "SSOT"), key("fail", None, "SSOT"), Change.LOOSENED),  # raises dropped
        (key("fail", "E", "a"), key("fail", "F", "a"), Change.LOOSENED),  # another exception
        (key("fail"), key("fail", "E"), Change.TIGHTENED),
        (key("fail", "E", "x"), key("fail", "E", "y"), Change.LOOSENED),  # unrelated pattern
        (key("skip"), key("error"), Change.LOOSENED),
    ],
)
def test_classify(before: ExpKey, after: ExpKey, change: Change | None) -> None:
    assert classify(before, after) is change
