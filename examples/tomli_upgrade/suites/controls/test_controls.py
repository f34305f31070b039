"""What both releases do alike: the behaviour the upgrade must keep."""

import datetime

import pytest
import tomli


def test_upper_case_datetime():
    parsed = tomli.loads("when = 1979-05-27T07:32:00Z")
    assert parsed["when"] == datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.timezone.utc)


def test_tables_and_arrays():
    parsed = tomli.loads('[tool.x]\nnames = ["a", "b"]\ncount = 3\n')
    assert parsed == {"tool": {"x": {"names": ["a", "b"], "count": 3}}}


def test_invalid_document_is_refused():
    with pytest.raises(tomli.TOMLDecodeError):
        tomli.loads("a = ")
