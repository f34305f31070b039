"""Values worked out once per live object, keyed by the object's identity.

The matrix and a gate result are frozen dataclasses compared by value: hashing
one would walk every field (hundreds of thousands of items for a result), so the
data derived from them is cached by `id()` instead. A weak reference checks that
the id still names the same object, and a finalizer drops the entry when the
object goes, so the cache never keeps an object alive nor hands its value to a
later object that reuses the id.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityCache(Generic[K, V]):
    """`cache(obj)` is `build(obj)`, built on the first call for each live `obj`.

    `obj` must accept weak references (a dataclass without `__slots__` does).
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
