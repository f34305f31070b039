"""The `sut` fixture: the cell's adapter, opened for the test; and a hint when there is no matrix.

An adapter object (`adapters.<name>.object` in matrix.yaml) is whatever the
suites need to reach the system under test in one migration state. When it has
an `open(cell)` method, that is a context manager: `sut` enters it around the
test and gives the test what it yields (docs/adapters.md). An adapter without
`open` is given as it is (a module, a function, a class). A project's conftest
may define its own `sut` (the demo's does, to reach a server in staging); a
conftest fixture wins over a plugin's.

Without `--matrix` there is no `cell` to give: a suite run as plain `pytest
suites/` fails its setup with pytest's "fixture 'cell' not found", to which
`NoMatrix` adds how to run it. It adds to the error rather than defining a `cell`
fixture of its own, which could shadow another plugin's fixture of that name.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
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


HINT = (
    "migmatrix: the `cell` fixture (and `sut`) exists only in a matrix run: run "
    "`pytest --matrix matrix.yaml` (or `migmatrix run`, `nox -s matrix`)"
)


class NoMatrix:
    """Registered when `--matrix` is absent: a missing `cell` fixture's error says why."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        excinfo = call.excinfo
        if (
            report.when == "setup"
            and excinfo is not None
            and excinfo.errisinstance(pytest.FixtureLookupError)
            and getattr(excinfo.value, "argname", None) in ("cell", "sut")
        ):
            report.longrepr = f"{report.longrepr}\n\n{HINT}"
        return report
