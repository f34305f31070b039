"""Expand a loaded matrix into its cells: phase x adapter state x env x python.

Excludes remove cells, includes add cells back (an include wins over an
exclude, so one combination can be kept out of a broad exclude). The result is in
display order: phases, adapter states, envs and pythons each in the order the
matrix declares them, swept states in rollout order. Nothing here reads files.
Selectors match as `migmatrix.match` says.
"""

from __future__ import annotations

from migmatrix.match import filter_matches
from migmatrix.model import Cell, Matrix
from migmatrix.sweep import expand_adapter


def all_cells(matrix: Matrix) -> tuple[Cell, ...]:
    """The full product, before include and exclude, in display order."""
    states = [
        (spec.name, name, components, features)
        for spec in matrix.adapters
        for name, components, features in expand_adapter(spec)
    ]
    cells = []
    for phase in matrix.phases:
        for base, state, components, adapter_features in states:
            for env in matrix.envs:
                features = adapter_features | frozenset(env.features)
                for python in matrix.python:
                    cells.append(
                        Cell(
                            phase=phase.name,
                            adapter=state,
                            env=env.name,
                            python=python,
                            adapter_base=base,
                            components=components,
                            features=features,
                        )
                    )
    return tuple(cells)


def plan_cells(matrix: Matrix) -> tuple[Cell, ...]:
    """The planned cells: the product minus excludes plus includes, in display order."""
    return tuple(
        cell
        for cell in all_cells(matrix)
        if not any(filter_matches(f, cell) for f in matrix.exclude)
        or any(filter_matches(f, cell) for f in matrix.include)
    )


def display_order(matrix: Matrix) -> tuple[tuple[str, ...], ...]:
    """(phases, adapter states, envs, pythons) in the order reports show them."""
    return (
        tuple(p.name for p in matrix.phases),
        tuple(name for spec in matrix.adapters for name, _, _ in expand_adapter(spec)),
        tuple(e.name for e in matrix.envs),
        matrix.python,
    )
