"""Schema-error explanations: every refusing keyword the schema uses has its own handler."""

from __future__ import annotations

import json
from typing import Any

from migmatrix.load.explain import _HANDLERS
from migmatrix.schema import schema_text

# Keywords that shape the schema but never refuse a value on their own.
STRUCTURE = {"$defs", "$id", "$ref", "$schema", "properties", "items", "propertyNames"}
NOTES = {"default", "description", "title", "x-fix"}


def keywords(node: Any, found: set[str]) -> set[str]:
    """Every schema keyword in `node`; property names are data, not keywords."""
    if isinstance(node, list):
        for item in node:
            keywords(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    keywords(sub, found)
            else:
                keywords(value, found)
    return found


def test_every_refusing_keyword_of_the_schema_has_a_handler() -> None:
    used = keywords(json.loads(schema_text()), set()) - STRUCTURE - NOTES
    assert used - set(_HANDLERS) == set()
