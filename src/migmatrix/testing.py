"""What a phase suite may use from migmatrix besides the `cell` fixture: the public test API.

Suites and adapters import this module and nothing else of migmatrix (an
import-linter contract, `suites-use-the-public-api`, keeps it that way), so the
harness can move its internals without breaking a team's suites. Each function
takes the `cell` fixture's value and answers from the matrix of the running
`pytest --matrix` run; docs/adapters.md says what each is for.

- `rollback_targets(cell)`: the states matrix.yaml's `rollback.paths` roll the
  cell's adapter state back to, each a `RollbackTarget` (name, components,
  features), like a cell's own state.
- `start_service(cell, workdir=...)`: a service of the suite's OWN, started as the
  cell's env declares it (`envs.<env>.service`: command, health URL, environment,
  a fresh `{secret}`), in the cell's state, for a test that must restart or break
  a server (the harness's own services are shared by every cell of their state and
  must never be restarted by a test). The `Service` it returns has `url`,
  `restart(environ)`, `stop()` and `log_excerpt(lines)`; a start that fails raises
  `ServiceError` with the server's log excerpt.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from migmatrix.model import Cell, Matrix
from migmatrix.service import RunningService as Service
from migmatrix.service import ServiceError
from migmatrix.service import start_service as _start
from migmatrix.sweep import rollback_targets as _declared_targets

__all__ = ["RollbackTarget", "Service", "ServiceError", "rollback_targets", "start_service"]


class RollbackTarget(NamedTuple):
    """A state a rollback path leads to: its name, migrated components and features."""

    name: str
    components: tuple[str, ...]
    features: frozenset[str]


def _run_parts(cell: Any) -> tuple[Matrix, Cell]:
    """The running matrix and the harness's own cell behind a `cell` fixture value."""
    run, own = getattr(cell, "_run", None), getattr(cell, "_cell", None)
    matrix = getattr(run, "matrix", None)
    if not isinstance(matrix, Matrix) or not isinstance(own, Cell):
        msg = (
            f"{cell!r} is not the `cell` fixture of a `pytest --matrix` run; "
            "pass the `cell` fixture's value"
        )
        raise TypeError(msg)
    return matrix, own


def rollback_targets(cell: Any) -> tuple[RollbackTarget, ...]:
    """The states `rollback.paths` roll the cell's adapter state back to, in declared order.

    A state reached by two paths is listed once; a state no path starts from has
    none (an empty tuple).
    """
    matrix, own = _run_parts(cell)
    return tuple(
        RollbackTarget(name, tuple(components), frozenset(features))
        for name, components, features in _declared_targets(
            matrix.adapters, matrix.rollback_paths, own.adapter
        )
    )


def start_service(
    cell: Any,
    *,
    workdir: str | os.PathLike[str],
    extra_args: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Service:
    """Start the cell's env's declared service, of this test's own, in `workdir`.

    `extra_args` are appended to the declared command; `environ` replaces the
    process environment the service starts from (default: this process's). The
    caller stops it (`Service.stop()`), also when the test fails.
    """
    matrix, own = _run_parts(cell)
    env = next((e for e in matrix.envs if e.name == own.env), None)
    if env is None or env.service is None:
        msg = f"env {own.env!r} declares no service in matrix.yaml (envs.{own.env}.service)"
        raise ServiceError(msg)
    if extra_args:
        command = (*env.service.command, *extra_args)
        env = dataclasses.replace(env, service=dataclasses.replace(env.service, command=command))
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    return _start(
        env,
        workdir=folder,
        log_dir=folder,
        cell=own,
        environ=dict(os.environ if environ is None else environ),
    )
