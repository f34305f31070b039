"""Which cells reached which line: the baseline run's per-cell coverage contexts.

The harness switches coverage.py's dynamic context to the cell id around every test
(`migmatrix.covctl`), so the combined data of one baseline run answers, per line of
a target file, "which cells ran it?". A mutant needs to run only in those cells. A
statement run at import (class and def statements with their defaults, module
constants) runs outside every cell, often before the collector even starts: when
the file was imported at all (some line of it was measured), such a statement
counts as reached by all the baseline's cells.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import coverage

# The context of lines run outside any cell (collection, imports).
OUTSIDE = ""


class Reach:
    """Per target file (relative path): line -> the cells whose tests ran it."""

    def __init__(self, lines: Mapping[str, Mapping[int, frozenset[str]]], cells: Iterable[str]):
        self._lines = {target: dict(by_line) for target, by_line in lines.items()}
        self.cells = frozenset(cells)

    def cells_for(
        self, target: str, statement_lines: Iterable[int], import_time: bool = False
    ) -> frozenset[str]:
        by_line = self._lines.get(target, {})
        if import_time and by_line:
            return self.cells
        found: set[str] = set()
        for line in statement_lines:
            for context in by_line.get(line, frozenset()):
                if context == OUTSIDE:
                    found |= self.cells
                else:
                    found.add(context)
        return frozenset(found & self.cells)

    def measured(self, target: str) -> bool:
        return target in self._lines


def read_reach(data_file: str, root: Path, targets: Iterable[str], cells: Iterable[str]) -> Reach:
    """Read a combined data file whose paths lie under `root` (the baseline's copy)."""
    data = coverage.CoverageData(basename=data_file)
    data.read()
    wanted = {os.path.normpath(root / target): target for target in targets}
    lines: dict[str, dict[int, frozenset[str]]] = {}
    for measured in data.measured_files():
        target = wanted.get(os.path.normpath(measured))
        if target is None:
            continue
        by_line = data.contexts_by_lineno(measured)
        lines[target] = {
            line: frozenset(context.split("|", 1)[0] for context in contexts)
            for line, contexts in by_line.items()
        }
    return Reach(lines, cells)
