"""Glob and selector matching, shared by planning, sweeps, selection and expectations.

Globs in include, exclude and expectation rules know only `*` and `?`: cell ids
and test ids contain `[` and `]` (`partial[engine]`, `test_x[a]`), which fnmatch
would read as character classes. An adapter selector names a state
(`partial[engine]`, `partial[*]`) or a whole adapter. Nothing here imports the
modules that use it, so plan and sweep no longer import each other.
"""

from __future__ import annotations

import functools
import re

from migmatrix.model import Cell, CellFilter


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
