"""Errors the harness raises for bad input; only `cli.main()` turns them into text.

Each carries a complete, human message: what is wrong, where (file:line:column
and key when known) and how to fix it. They never wrap a traceback for the user.
"""

from __future__ import annotations

from migmatrix.model import Location


class MigmatrixError(Exception):
    """Base of every error the harness reports to a user as a plain message."""


class MatrixError(MigmatrixError):
    """matrix.yaml is unreadable, invalid, or names something that does not exist."""

    def __init__(self, message: str, location: Location | None = None, key: str | None = None):
        self.location = location
        self.key = key
        self.message = message
        where = f"{location}: " if location is not None else ""
        keyed = f"{key}: " if key else ""
        super().__init__(f"{where}{keyed}{message}")


class UsageError(MigmatrixError):
    """A command-line argument or selection is wrong."""


class ResultsError(MigmatrixError):
    """Results data is unusable (not a migmatrix results file at all)."""
