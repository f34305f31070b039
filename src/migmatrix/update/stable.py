"""The stable part of a failure message, as a `match:` pattern.

A message often carries values that change from run to run: counts, ids,
addresses, hashes, durations. A `match:` built from them would call the next
run's failure the wrong reason. So the pattern is the longest common beginning
of the messages' first lines, cut before the first character that belongs to
such a value (any digit), back to a word boundary, and escaped. Too short a
remainder says nothing about the reason and gives no pattern at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

MIN_LENGTH = 6
"""Characters a pattern needs to say something about the reason ("SSOT VIOLATION" has 14)."""

# Where a run-to-run value begins: a digit (numbers, ids, 0x addresses, hashes,
# times), or a quote or bracket (reprs of objects and values).
_VOLATILE = re.compile(r"[0-9'\"<\[({]")
_TRAILING = " \t:;,.-=/|"


def stable_match(messages: Iterable[str | None]) -> str | None:
    """A regular expression every message matches, made of their stable words, or None."""
    firsts = [(message or "").strip().split("\n", 1)[0].strip() for message in messages]
    if not firsts or not all(firsts):
        return None
    # Character by character on purpose: these are messages, not paths.
    common = os.path.commonprefix(firsts)  # noqa: RUF071
    volatile = _VOLATILE.search(common)
    if volatile is not None:
        glued = volatile.group().isdigit() and common[: volatile.start()][-1:].strip()
        common = common[: volatile.start()]
        # A number glued to a word (`user_12`, `a1b2c3`) takes the word with it.
        if glued:
            cut = max(common.rfind(" "), common.rfind("\t"))
            common = common[: cut + 1] if cut >= 0 else ""
    elif len(common) < min(len(text) for text in firsts):
        # The messages part ways inside a word: keep whole words only.
        cut = common.rfind(" ")
        common = common[: cut + 1] if cut >= 0 else ""
    common = common.rstrip(_TRAILING)
    if len(common) < MIN_LENGTH:
        return None
    # re.escape escapes spaces for verbose patterns; a `match:` is never verbose.
    return re.escape(common).replace("\\ ", " ")
