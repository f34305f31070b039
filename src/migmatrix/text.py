"""Words for people: the one message limit and excerpt, and the "did you mean" hint.

A message travels from a failing test into a results file and from there into
every report. It is cut once, to `MESSAGE_LIMIT` characters, where it is recorded;
the HTML report cuts what it is handed by the same rule, so a results file written
by hand or by another tool cannot make a page larger than a recorded one. The
terminal and Markdown reports show one line per item: `one_line` is that view of
a message, not a second excerpt.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

MESSAGE_LIMIT = 1000
_CUT = "\n... (cut) ...\n"
# Terminal escapes and control characters: a message printed back to a terminal
# must not move its cursor or recolour what follows.
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")


def excerpt(text: str | None, limit: int = MESSAGE_LIMIT) -> str | None:
    """A bounded message: its start and its end, marked where the middle was cut.

    Both ends matter: an assertion says what failed first, a traceback or a dead
    server's log says why last.
    """
    if text is None:
        return None
    text = text.strip()
    if len(text) <= limit:
        return text
    room = limit - len(_CUT)
    head = room * 3 // 5
    return text[:head].rstrip() + _CUT + text[len(text) - (room - head) :].lstrip()


def one_line(text: str | None, limit: int = 200) -> str:
    """The first line of a message without terminal escapes, cut to `limit` characters."""
    if not text:
        return ""
    text = _CONTROL.sub("", text).strip()
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


def closest(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the closest of `choices`, or nothing if none is close."""
    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {found[0]!r}?" if found else ""


ECHO_LIMIT = 200


def shorten(value: str, limit: int = ECHO_LIMIT) -> str:
    """`value` as echoed back in a message: whole if short, else its start and its length.

    A message quotes what the user wrote so they can find it, not so they can read
    it back: a 5 MB string in a config file must not become a 5 MB message.
    """
    if len(value) <= limit:
        return value
    return f"{value[: max(limit - 1, 1)]}… ({len(value)} characters)"
