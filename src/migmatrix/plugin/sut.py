"""The `sut` fixture: the cell's adapter, opened for the test; and a hint when there is no matrix.

An adapter object (`adapters.<name>.object` in matrix.yaml) is whatever the
suites need to reach the system under test in one migration state. When it has
an `open(cell)` method, that is a context manager: `sut` enters it around the
test and gives the test what it yields (docs/adapters.md). An adapter without
`open` is given as it is (a module, a function, a class). A project's conftest
may define its own `sut` (the demo's does, to reach a server in staging); a
conftest fixture wins over a plugin's.

Without `--matrix` there is no `cell` to give: a suite run as plain `pytest
suites/` gets, instead of pytest's "fixture 'cell' not found", an error saying
how to run it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def sut(cell: Any) -> Iterator[Any]:
    """The system under test in the cell's migration state: `adapter.open(cell)`, entered."""
    adapter = cell.adapter_object
    opener = getattr(adapter, "open", None)
    if opener is None or isinstance(adapter, type):
        # A class's `open` would need an instance: the adapter is the object itself.
        yield adapter
        return
    with opener(cell) as system:
        yield system


class NoMatrix:
    """Registered when `--matrix` is absent: a `cell` that says how to get one."""

    @pytest.fixture
    def cell(self, request: pytest.FixtureRequest) -> Any:
        """Only a matrix run has cells: this fixture fails the test saying how to start one."""
        msg = (
            f"{request.node.nodeid} asks for the `cell` fixture, which exists only in a "
            "matrix run: run `pytest --matrix matrix.yaml` (or `migmatrix run`, "
            "`nox -s matrix`)"
        )
        pytest.fail(msg, pytrace=False)
