"""IdentityCache: one value per live object, by identity, never keeping the object alive."""

from __future__ import annotations

import dataclasses
import gc
import weakref

from migmatrix._speed import IdentityCache


@dataclasses.dataclass(frozen=True)
class Box:
    items: tuple[int, ...]


def counting_cache() -> tuple[IdentityCache[Box, int], list[int]]:
    """A cache of sums and the ids it was built for (ids only: it keeps no box alive)."""
    built: list[int] = []

    def build(box: Box) -> int:
        built.append(id(box))
        return sum(box.items)

    return IdentityCache(build), built


def test_the_value_is_built_once_per_object() -> None:
    cache, built = counting_cache()
    box = Box((1, 2, 3))
    assert cache(box) == 6
    assert cache(box) == 6
    assert built == [id(box)]


def test_an_equal_but_distinct_object_gets_its_own_value() -> None:
    cache, built = counting_cache()
    a, b = Box((1, 2)), Box((1, 2))
    assert a == b
    cache(a)
    cache(b)
    assert built == [id(a), id(b)]
    assert len(cache) == 2


def test_the_entry_goes_with_the_object_and_does_not_keep_it_alive() -> None:
    cache, _ = counting_cache()
    box = Box((4,))
    cache(box)
    ref = weakref.ref(box)
    del box
    gc.collect()
    assert ref() is None
    assert len(cache) == 0


def test_a_new_object_after_the_old_one_died_is_built_afresh() -> None:
    # CPython often gives the new object the dead one's id: the value must not carry over.
    cache, built = counting_cache()
    for n in range(20):
        assert cache(Box((n,))) == n
    assert len(built) == 20
    assert len(set(built)) < 20, "no id was reused: the case this test is about never arose"
    assert len(cache) == 0
