"""Matrix adapter state names as migration specs, without importing the migration module.

A matrix names the states of a swept adapter `partial[engine+factory]`; with
`NETRA_MIGRATION: "{adapter}"` a server per state gets that name. The migration
module reads NETRA_MIGRATION as soon as it is imported, so `__main__` rewrites the
variable with this function first.
"""

from __future__ import annotations

import re

_ADAPTER_STATE = re.compile(r"[A-Za-z_][\w.-]*\[(?P<components>[^\]]*)\]")


def as_migration_spec(text: str) -> str:
    """`partial[engine+factory]` -> `partial:engine,factory`; anything else unchanged."""
    named = _ADAPTER_STATE.fullmatch(text.strip())
    if named is None:
        return text
    return "partial:" + named["components"].replace("+", ",")
