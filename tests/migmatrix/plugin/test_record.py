"""Turning pytest reports into records: exception names."""

from __future__ import annotations

from migmatrix.plugin.record import exception_name


class EngineClosed(Exception):
    pass


def test_exception_names() -> None:
    # Builtins by bare name (what matrix.yaml's `raises` says), the rest qualified.
    assert exception_name(AssertionError) == "AssertionError"
    assert exception_name(EngineClosed) == f"{__name__}.EngineClosed"
