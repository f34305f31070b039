"""The `cell` fixture's value, on the process that runs the test.

See docs/contracts.md "The `cell` fixture".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from migmatrix import endpoint
from migmatrix.errors import UsageError
from migmatrix.model import Cell
from migmatrix.plugin.run_state import MatrixRun


class ServiceUnavailable(RuntimeError):
    """The env's service is not running; the message carries its log excerpt."""


@dataclasses.dataclass(frozen=True)
class CellContext:
    """What the `cell` fixture gives a test (docs/contracts.md "The `cell` fixture")."""

    id: str
    phase: str
    adapter: str
    adapter_base: str
    env: str
    python: str
    components: tuple[str, ...]
    features: frozenset[str]
    service_url: str | None
    workdir: str | None
    _run: MatrixRun = dataclasses.field(repr=False, compare=False)
    _cell: Cell = dataclasses.field(repr=False, compare=False)

    def __repr__(self) -> str:
        # Short and stable: assertion messages print it, and records must not
        # differ between runs by a scratch path.
        return f"<cell {self.id}>"

    @property
    def adapter_object(self) -> object:
        """The adapter's object, imported on first use, once per process."""
        return self._run.adapter_object(self._cell)


def cell_context(run: MatrixRun, request: Any) -> CellContext:
    """Build the `cell` fixture's value; a dead service of the env fails the test's setup."""
    cell = getattr(request, "param", None)
    if not isinstance(cell, Cell):
        msg = (
            "the `cell` fixture exists only for tests in a phase folder of the matrix "
            f"({', '.join(sorted(run.phase_dirs))}); move the test there or stop requesting `cell`"
        )
        raise UsageError(msg)
    key = run.service_key(cell)
    problem = None if key is None else service_problem(run, key)
    if problem is not None:
        raise ServiceUnavailable(problem)
    service = None if key is None else run.services.get(key)
    return CellContext(
        id=cell.id,
        phase=cell.phase,
        adapter=cell.adapter,
        adapter_base=cell.adapter_base or cell.adapter,
        env=cell.env,
        python=cell.python,
        components=cell.components,
        features=cell.features,
        service_url=None if service is None else str(service["url"]),
        workdir=run.workdir,
        _run=run,
        _cell=cell,
    )


def service_problem(run: MatrixRun, key: str) -> str | None:
    """Why the service `key` cannot be used (start failure, or it died since), or None."""
    if key in run.service_problems:
        return run.service_problems[key]
    info = run.services.get(key)
    if info is None:
        return None
    return endpoint.service_problem(endpoint.ServiceInfo.from_dict(info))
