"""A test run more than once in one cell (`--reruns`): its attempts, and the one judged.

A rerun writes one record per attempt, numbered by `attempt` (1, 2, ...). Merge
keeps every attempt of such a (cell, test) and judges the worst of them (the
same order as for conflicts: crashed > timeout > error > failed > skipped >
passed), so a pass on the last attempt can never hide the failures before it;
`lifecycle.flaky` then turns mixed attempts into the `flaky` verdict with all of
them in its detail. Records that all carry attempt 1 pass through untouched.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from migmatrix.model import Record
from migmatrix.outcomes import SEVERITY

Attempts = dict[tuple[str, str], tuple[Record, ...]]

_ATTEMPT = operator.attrgetter("attempt")


def split_attempts(records: Sequence[Record]) -> tuple[Sequence[Record], Attempts]:
    """(the records to judge, every attempt of the pairs run more than once)."""
    if set(map(_ATTEMPT, records)) <= {1}:
        return records, {}
    rerun = {record.key for record in records if record.attempt > 1}
    judged: list[Record] = []
    grouped: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        if record.key in rerun:
            grouped.setdefault(record.key, []).append(record)
        else:
            judged.append(record)
    attempts: Attempts = {}
    for key in sorted(grouped):
        ordered = tuple(sorted(grouped[key], key=_ATTEMPT))
        attempts[key] = ordered
        judged.append(max(ordered, key=lambda r: (SEVERITY[r.outcome], r.attempt)))
    return judged, attempts
