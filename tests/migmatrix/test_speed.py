"""The speed helpers: hard-coded field orders match their classes; the paused collector nests."""

from __future__ import annotations

import dataclasses
import gc

from migmatrix import _speed
from migmatrix._speed import paused_gc, tuple_maker
from migmatrix.model import Judged, Record, ResultsHeader
from migmatrix.outcomes import Outcome
from migmatrix.results import HEADER_KEYS
from migmatrix.results import lines as reader


def test_every_hard_coded_field_order_is_its_named_tuples_order() -> None:
    # The hot paths lay out values by hand in these orders: a field added, removed or
    # moved in the model must show up here, not as silently swapped values.
    assert Record._fields == _speed.RECORD_ORDER
    assert Judged._fields == _speed.JUDGED_ORDER
    assert Record._fields == reader._RECORD_FIELDS


def test_the_header_keys_are_the_headers_fields_before_schema_and_extra() -> None:
    names = tuple(f.name for f in dataclasses.fields(ResultsHeader))
    assert names == (*HEADER_KEYS, "schema", "extra")


def test_tuple_maker_builds_what_the_constructor_builds() -> None:
    values = ("c", "t", Outcome.PASSED, 0.5, None, None, "gw0", 1, "n")
    made = tuple_maker(Record)(values)
    assert type(made) is Record
    assert made == Record(*values)
    assert made.worker == "gw0"


def test_paused_gc_restores_the_collector_state() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause does not re-enable early
    assert gc.isenabled()
