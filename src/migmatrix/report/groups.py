"""Unexpected items grouped by cause, so one bug reads as one entry and not as 64.

A planted bug breaks the same test in many cells with the same exception and
message. The items are grouped by (test, verdict, exception, message); a group
names its count and the phases, states and Pythons it spans, and keeps its
items for the first few cells to be shown in full (or all of them, on request).

What a group says of its items must be true of every one of them, not only of
the first: the same test may be expected to pass on one state and to fail on
another, or go missing under both. So a group's expectation, outcome, detail and
notes are told as the set its members have, each with its count where they
differ ("expected pass in 3 cells, fail raises KeyError in 1").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from migmatrix.model import GateResult, Judged
from migmatrix.report.migration_map import ordered, python_span
from migmatrix.report.summary import got, unexpected
from migmatrix.text import one_line

# Numbers and long hex runs in a message are usually the cell's own data (a
# port, a user id, an object address): the same bug must still be one group.
_VARYING = re.compile(r"0x[0-9a-fA-F]+|\b[0-9a-fA-F]{8,}\b|\d+")

# (test, verdict, exception type, message's fixed text)
Cause = tuple[str, str, str, str]


class ItemGroup:
    """Unexpected items of one cause, in report order."""

    __slots__ = ("failing", "items", "key")

    def __init__(self, key: Cause, failing: bool) -> None:
        self.key = key
        self.items: list[Judged] = []
        self.failing = failing

    @property
    def first(self) -> Judged:
        return self.items[0]

    def expected_words(self) -> str:
        """'pass', or each expectation the members have with its count."""
        return tally(judged.expectation.describe() for judged in self.items)

    def got_words(self) -> str:
        """What happened, in words, as `expected_words` tells the expectations."""
        return tally(got(judged) for judged in self.items)

    def detail_words(self) -> str:
        """The gate's details that the recorded message does not already say ('' when none)."""
        details = [j.detail for j in self.items if j.detail and j.detail != _recorded(j)]
        return tally(details) if details else ""

    def message_varies(self) -> bool:
        """Whether the members' messages differ (in their numbers: the key ignores those)."""
        return len({message_of(judged) for judged in self.items}) > 1

    def notes(self) -> list[str]:
        """Every bug and owner the members' expectations name, in order of first use."""
        found = (n for j in self.items for n in (j.expectation.bug, j.expectation.owner) if n)
        return list(dict.fromkeys(found))

    def spans(self, result: GateResult) -> tuple[list[str], list[str], list[str]]:
        """The phases, states and Pythons the group's cells cover, in display order."""
        cells = [judged.cell for judged in self.items]
        return (
            ordered(result.phases, (c.phase for c in cells)),
            ordered(result.adapters, (c.adapter for c in cells)),
            ordered(result.pythons, (c.python for c in cells)),
        )


def message_of(judged: Judged) -> str:
    """An item's message on one line, or the gate's detail when nothing was recorded."""
    return one_line(judged.record.message if judged.record else None) or judged.detail


def _recorded(judged: Judged) -> str:
    return one_line(judged.record.message) if judged.record else ""


def cause(judged: Judged) -> Cause:
    """The grouping key: test, verdict, exception type and the message's fixed text."""
    exc = judged.record.exc_type if judged.record and judged.record.exc_type else ""
    return (judged.test, judged.verdict.value, exc, _VARYING.sub("#", message_of(judged)))


def group_items(result: GateResult) -> list[ItemGroup]:
    """The unexpected items by cause: failing groups first, larger first, then report order."""
    groups: dict[Cause, ItemGroup] = {}
    for judged in unexpected(result):
        key = cause(judged)
        group = groups.get(key)
        if group is None:
            group = groups[key] = ItemGroup(key, judged.verdict in result.fail_on)
        group.items.append(judged)
    found = list(groups.values())
    # A stable sort over report order: ties keep the order the items came in.
    return sorted(found, key=lambda g: (not g.failing, -len(g.items)))


def tally(values: Iterable[str]) -> str:
    """The one value all items share, or each value with how many cells have it."""
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{value} in {n} cell{'s' if n > 1 else ''}" for value, n in counts.items())


def name_some(values: Sequence[str], limit: int = 3) -> str:
    """'a, b, c' or 'a, b, c and 4 more': a span named compactly."""
    if len(values) <= limit:
        return ", ".join(values)
    return f"{', '.join(values[:limit])} and {len(values) - limit} more"


def span_words(group: ItemGroup, result: GateResult) -> str:
    """'2 phases (a, b), 20 states (deprecated, ... and 17 more), py3.10-3.13'."""
    phases, states, pythons = group.spans(result)
    every = [*result.pythons, *(p for p in pythons if p not in result.pythons)]
    return (
        f"{len(phases)} phase(s) ({name_some(phases)}), "
        f"{len(states)} state(s) ({name_some(states)}), "
        f"{python_span(pythons, every)}"
    )
