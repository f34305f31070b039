"""The one message limit and excerpt, and the one-line view the text reports show."""

from __future__ import annotations

import pytest

from migmatrix.text import MESSAGE_LIMIT, closest, excerpt, one_line


def test_a_short_message_is_kept_whole_and_stripped() -> None:
    assert excerpt("  boom \n") == "boom"
    assert excerpt(None) is None


def test_a_long_message_keeps_its_start_and_its_end() -> None:
    # The assertion comes first, the reason a server died comes last in its log.
    text = "AssertionError: first line\n" + "x" * 5000 + "\nserver: killed by signal 9"
    cut = excerpt(text)
    assert cut is not None
    assert len(cut) == MESSAGE_LIMIT
    assert cut.startswith("AssertionError: first line")
    assert cut.endswith("server: killed by signal 9")
    assert "\n... (cut) ...\n" in cut


@pytest.mark.parametrize("limit", [40, 100, 1001])
def test_the_limit_is_never_exceeded(limit: int) -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(3 * limit))
    cut = excerpt(text, limit)
    assert cut is not None
    assert len(cut) <= limit


def test_one_line_drops_terminal_escapes_and_later_lines() -> None:
    assert one_line("\x1b[31mred\x1b[0m first\nsecond") == "red first"
    assert one_line("x" * 300, limit=10) == "x" * 9 + "\u2026"
    assert one_line(None) == one_line("") == ""


def test_closest_says_did_you_mean_only_when_close() -> None:
    assert closest("phsaes", ["phases", "envs"]) == "; did you mean 'phases'?"
    assert closest("zzz", ["phases", "envs"]) == ""
