"""The judge's speed helpers, in one place: each trades a little plainness for time or memory.

The gate reads, merges, judges and reports hundreds of thousands of results. What
makes that fast, and is not about what any module means, sits here:

- `paused_gc`: the cyclic garbage collector paused around a whole command that
  builds many objects forming no cycles (`migmatrix gate` uses it once).
- `tuple_maker`: a named tuple built in one step with `tuple.__new__`, skipping
  the Python frame of its generated `__new__`; the value order is the class's
  field order, which `RECORD_ORDER` and `JUDGED_ORDER` spell out for the code
  that builds the values by hand (tests/migmatrix/test_speed.py pins them).
- `IdentityCache`: values worked out once per live object, keyed by identity.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T", bound=tuple[Any, ...])

# The field orders of model.Record and model.Judged, in which the hot paths lay out
# the values they hand to `tuple_maker` (results.lines.fast_record, gate).
RECORD_ORDER = (
    "cell",
    "test",
    "outcome",
    "duration",
    "exc_type",
    "message",
    "worker",
    "attempt",
    "nodeid",
)
JUDGED_ORDER = ("cell", "test", "expectation", "record", "verdict", "detail")


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects that form no cycles.

    The judge creates hundreds of thousands of small containers (records, dict
    keys, verdicts); every few hundred allocations the collector would walk the
    young ones and, as the heap grows, all of them again: over a third of the
    judge's time, for nothing, since none of them can be part of a cycle. The
    previous state is restored on exit, so nesting is harmless.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def tuple_maker(cls: type[T]) -> Callable[[tuple[Any, ...]], T]:
    """A function building a `cls` (a named tuple) from all its values, in field order.

    `tuple.__new__(cls, values)` is what `cls(*values)` ends in, minus the Python
    frame of the generated `__new__`; no defaults are filled in and nothing is checked.
    """
    maker: Callable[[tuple[Any, ...]], T] = functools.partial(tuple.__new__, cls)
    return maker


class IdentityCache(Generic[K, V]):
    """`cache(obj)` is `build(obj)`, built on the first call for each live `obj`.

    The matrix and a gate result are frozen dataclasses compared by value: hashing
    one would walk every field (hundreds of thousands of items for a result), so the
    data derived from them is cached by `id()` instead. A weak reference checks that
    the id still names the same object, and a finalizer drops the entry when the
    object goes, so the cache never keeps an object alive nor hands its value to a
    later object that reuses the id. `obj` must accept weak references (a dataclass
    without `__slots__` does).
    """

    def __init__(self, build: Callable[[K], V]) -> None:
        self._build = build
        self._entries: dict[int, tuple[weakref.ref[K], V]] = {}

    def __call__(self, obj: K) -> V:
        entry = self._entries.get(id(obj))
        if entry is not None and entry[0]() is obj:
            return entry[1]
        value = self._build(obj)
        self._entries[id(obj)] = (weakref.ref(obj), value)
        weakref.finalize(obj, self._entries.pop, id(obj), None)
        return value

    def __len__(self) -> int:
        """How many live objects have a value here."""
        return len(self._entries)
