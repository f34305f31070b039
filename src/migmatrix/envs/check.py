"""The gate's side of the environment check: which results files it must refuse.

Every file written by a run of an environment names it in its header
(`environment`, from `migmatrix.plugin.environment`). A file is refused (a merge
problem: exit 3) when a pinned distribution's observation has a problem (another
version, or imported from a file that distribution did not install), naming a
cell, the expected and found version and the path; and when it holds a record
of a cell whose adapter state is not of that file's environment. A file without
an `environment` entry (written before environments existed, or by a run that
collected nothing) is checked for the second only where the matrix has
environment adapters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from migmatrix.envs.spec import DEFAULT, environment_of
from migmatrix.model import Matrix
from migmatrix.plan import plan_cells


def environment_problems(
    matrix: Matrix, files: Sequence[tuple[str, Mapping[str, Any], Iterable[str]]]
) -> list[str]:
    """Problems of (path, header extra keys, cell ids of its records) for every file."""
    if not any(spec.has_environment for spec in matrix.adapters):
        return []
    cells = {cell.id: cell for cell in plan_cells(matrix)}
    problems: list[str] = []
    for path, extra, cell_ids in files:
        seen = extra.get("environment")
        name = seen.get("name") if isinstance(seen, Mapping) else None
        ids = sorted(set(cell_ids))
        if isinstance(seen, Mapping):
            for dist, pin in sorted(dict(seen.get("pins") or {}).items()):
                if isinstance(pin, Mapping) and pin.get("problem"):
                    first = ids[0] if ids else "(no cell)"
                    problems.append(
                        f"{path}: cell {first} (environment {name!r}): expected {dist} "
                        f"{pin.get('expected')}, found {pin.get('found')} at "
                        f"{pin.get('file')}: {pin.get('problem')}"
                    )
        wanted = name or DEFAULT
        strays = [
            cell_id
            for cell_id in ids
            if cell_id in cells and environment_of(matrix, cells[cell_id]) != wanted
        ]
        if strays:
            more = f" and {len(strays) - 1} more" if len(strays) > 1 else ""
            problems.append(
                f"{path}: its records of {strays[0]}{more} belong to another environment than "
                f"the file's ({wanted!r}); run each environment with --matrix-environment"
            )
    return problems
