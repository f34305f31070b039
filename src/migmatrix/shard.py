"""Split test items over N shards: deterministic, disjoint, complete, and balanced.

Every shard of one split sees the same item list and computes the same
assignment, so shards need not talk to each other: shard i keeps its part, and
the union over i = 1..N is every item exactly once. Without durations, items are
dealt round-robin in sorted order (counts differ by at most one). With the
durations of an earlier run, the longest items are placed first, each on the
currently lightest shard (ties: fewer items, then lower index), and an item
without a recorded duration counts as the median one.

CI systems announce their parallel slot in the environment; `from_environment`
reads the common ones and converts them to the 1-based `i/N` of `--shard`.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from migmatrix.errors import UsageError

# (index variable, total variable, whether the index is 0-based)
CI_VARIABLES = (
    ("CI_NODE_INDEX", "CI_NODE_TOTAL", False),  # GitLab `parallel:`
    ("BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", True),
    ("CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", True),
)


def shard_of(value: object) -> tuple[int, int] | None:
    """(index, total) of a shard written "2/3", or None when it is not one.

    The one reading of "INDEX/TOTAL": `--shard` and a results header's `shard`
    both go through it, so a run never accepts a shard its own results file
    would then be refused for.
    """
    if not isinstance(value, str):
        return None
    index_text, slash, total_text = value.partition("/")
    if not slash or not index_text.isdecimal() or not total_text.isdecimal():
        return None
    if len(index_text) > 6 or len(total_text) > 6:
        return None
    index, total = int(index_text), int(total_text)
    return (index, total) if 1 <= index <= total else None


def parse_shard(text: str) -> tuple[int, int]:
    """`"2/5"` -> (2, 5); the index is 1-based and at most the total."""
    found = shard_of(text.strip())
    if found is None:
        msg = (
            f"invalid shard {text!r}; write INDEX/TOTAL with 1 <= INDEX <= TOTAL, "
            "e.g. --shard 1/4 for the first of four shards"
        )
        raise UsageError(msg)
    return found


def assign(
    items: Sequence[str],
    index: int,
    total: int,
    durations: Mapping[str, float] | None = None,
) -> list[str]:
    """The items shard `index` of `total` runs, in their input order."""
    if total < 1 or not 1 <= index <= total:
        msg = f"shard {index}/{total} does not exist; the index runs from 1 to the total"
        raise UsageError(msg)
    unique = sorted(set(items))
    if durations:
        mine = set(_balanced(unique, total, durations)[index - 1])
    else:
        mine = set(unique[index - 1 :: total])
    seen: set[str] = set()
    out = []
    for item in items:
        if item in mine and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _balanced(items: list[str], total: int, durations: Mapping[str, float]) -> list[list[str]]:
    known = [max(0.0, float(durations[i])) for i in items if i in durations]
    fallback = statistics.median(known) if known else 1.0
    weights = {i: max(0.0, float(durations.get(i, fallback))) for i in items}
    order = sorted(items, key=lambda i: (-weights[i], i))
    loads = [0.0] * total
    shards: list[list[str]] = [[] for _ in range(total)]
    for item in order:
        target = min(range(total), key=lambda s: (loads[s], len(shards[s]), s))
        shards[target].append(item)
        loads[target] += weights[item]
    return shards


def from_environment(environ: Mapping[str, str]) -> tuple[int, int, str] | None:
    """(1-based index, total, "INDEX_VAR/TOTAL_VAR") from a CI's parallelism variables, if set."""
    for index_var, total_var, zero_based in CI_VARIABLES:
        raw_index, raw_total = environ.get(index_var), environ.get(total_var)
        if raw_index is None or raw_total is None:
            continue
        source = f"{index_var}/{total_var}"
        try:
            index, total = int(raw_index), int(raw_total)
        except ValueError:
            index = total = -1
        if zero_based:
            index += 1
        if total < 1 or not 1 <= index <= total:
            msg = (
                f"{index_var}={raw_index!r} and {total_var}={raw_total!r} do not describe a "
                f"shard ({'0' if zero_based else '1'}-based index below the total); fix the "
                "CI configuration or pass --shard explicitly"
            )
            raise UsageError(msg)
        return index, total, source
    return None


def choose_shard(
    explicit: str | None, environ: Mapping[str, str]
) -> tuple[tuple[int, int] | None, str | None]:
    """The shard of this run and the line that says where it came from (None: nothing to say).

    An explicit `--shard` wins; the note then names the CI variables it overrode,
    if any are set. Without it, a CI's parallelism variables
    (`from_environment`) choose the shard, and the note names them, so a run
    that quietly did a third of the work explains itself.
    """
    present = [
        f"{index}/{total}"
        for index, total, _ in CI_VARIABLES
        if index in environ and total in environ
    ]
    if explicit is not None:
        chosen = parse_shard(explicit)
        note = None
        if present:
            note = (
                f"migmatrix: shard {chosen[0]}/{chosen[1]} from --shard "
                f"(ignoring {', '.join(present)} set in the environment)"
            )
        return chosen, note
    found = from_environment(environ)
    if found is None:
        return None, None
    index, total, source = found
    return (index, total), f"migmatrix: shard {index}/{total} from {source}"
