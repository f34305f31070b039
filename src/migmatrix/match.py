"""Expand a loaded matrix into its cells: phase x adapter state x env x python.

Excludes remove cells, includes add cells back (an include wins over an
exclude, so one combination can be kept out of a broad exclude). The result is in
display order: phases, adapter states, envs and pythons each in the order the
matrix declares them, swept states in rollout order. Nothing here reads files.

Globs in include, exclude and expectation rules know only `*` and `?`: cell ids
and test ids contain `[` and `]` (`partial[engine]`, `test_x[a]`), which fnmatch
would read as character classes.
"""

from __future__ import annotations

import functools
import re

from migmatrix.model import Cell, CellFilter, Matrix
from migmatrix.sweep import expand_adapter


def is_glob(text: str) -> bool:
    return "*" in text or "?" in text


@functools.lru_cache(maxsize=4096)
def glob_regex(pattern: str, *, anchored: bool = True) -> re.Pattern[str]:
    """Compile a glob where `*` is any run of characters, `?` one character, all else literal."""
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    body = "".join(parts)
    return re.compile(f"(?s:{body})\\Z" if anchored else f"(?s:{body})")


def glob_match(pattern: str, text: str) -> bool:
    if not is_glob(pattern):
        return pattern == text
    return glob_regex(pattern).match(text) is not None


def adapter_matches(pattern: str, state: str, base: str) -> bool:
    """An adapter selector names a state (`partial[engine]`, `partial[*]`) or a whole adapter."""
    return glob_match(pattern, state) or (bool(base) and glob_match(pattern, base))


def filter_matches(where: CellFilter, cell: Cell) -> bool:
    """Whether every selector set in `where` matches the cell (unset selectors match anything)."""
    return (
        (where.phase is None or glob_match(where.phase, cell.phase))
        and (
            where.adapter is None or adapter_matches(where.adapter, cell.adapter, cell.adapter_base)
        )
        and (where.env is None or glob_match(where.env, cell.env))
        and (where.python is None or glob_match(where.python, cell.python))
    )


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
